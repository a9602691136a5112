/** The provisioning client: kernel arguments, plan, pipeline, and its link to the server. */
export { checkGrubConfig, installBootloader, type BootloaderContext, type BootloaderResult, type Firmware } from './bootloader.ts';
export { parseCmdline, splitCmdline, type KernelArgs, type Mode, type ParsedCmdline, type StreamTransport } from './cmdline.ts';
export { deployRoot, rootSubvolumeName, DEPLOY_HOOK_DIR, type DeployContext, type DeployedRoot } from './deploy.ts';
export { forwardLog, formatLogLine, type LogForwarder } from './log-forwarder.ts';
export { defaultHostname, mergePlan, validateHostname, type PlanDefaults, type ProvisionPlan, type ServerPlan } from './plan.ts';
export { StepReporter, type ReporterOptions } from './reporter.ts';
export { runProvision, type ProvisionOptions, type ProvisionResult } from './run-provision.ts';
export { ProvisionServer, STEPS, type ProvisionEvent, type ServerClientOptions, type Step, type StepState } from './server-client.ts';
export { buildFstab, buildHosts, newMachineId, PERSISTENT_DIR } from './system-files.ts';
export { runInTarget, TARGET_ENV, type TargetMounts } from './target-chroot.ts';
