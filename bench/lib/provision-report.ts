/**
 * Turns one provisioning run (power-on time, the server's step events, the
 * time the deployed OS printed its marker) into phases and per-step
 * durations, and renders the Markdown report. Pure: no lab, no clock.
 */
import { renderEnvironment, type Environment } from './environment.ts';
import { renderTable } from './table.ts';

/** One event as `GET /api/v1/machines/<mac>/events` returns it. */
export interface EventView {
  id: number;
  at: string;
  kind: string;
  step?: string;
  state?: string;
  bytes?: number;
  totalBytes?: number;
  rate?: number;
  message?: string;
}

export interface RunInput {
  firmware: 'bios' | 'uefi';
  bus: string;
  mac: string;
  /** Epoch ms when QEMU was started (power-on). */
  powerOnAt: number;
  /** Epoch ms when the marker was first seen on the serial console (polled). */
  markerAt: number;
  marker: string;
  events: EventView[];
}

export interface StepTiming {
  step: string;
  ms: number;
}

export interface RunSummary {
  firmware: 'bios' | 'uefi';
  bus: string;
  totalMs: number;
  /** Power-on to the first `discover:started` (firmware, PXE, kernel and initramfs boot). */
  pxeMs: number;
  steps: StepTiming[];
  /** `reboot:started` to the marker (reboot, firmware, boot-local answer, Debian boot). */
  finalBootMs: number;
  receive: { bytes: number; ms: number; bytesPerSecond: number; clientRate: number | undefined };
  /** The `bench:done` event of `trowel.bench=dd` (receive write rate vs dd's), when the run had one. */
  writeStage?: WriteStage;
}

export interface WriteStage {
  receiveMBps: number;
  ddMBps: number;
  ratio: number;
  message: string;
}

/** Reads the bench step's message (src/provision/run-provision.ts describeWriteBench). */
export function parseWriteStage(message: string): WriteStage {
  const m = /\(([\d.]+) MB\/s, flush [\d.]+ s\); dd wrote \d+ bytes in [\d.]+ s \(([\d.]+) MB\/s\); ratio ([\d.]+)$/.exec(message);
  if (!m) throw new SyntaxError(`Cannot read the bench step's message: ${message}`);
  return { receiveMBps: Number(m[1]), ddMBps: Number(m[2]), ratio: Number(m[3]), message };
}

export function summarizeRun(run: RunInput): RunSummary {
  const steps = run.events.filter((e) => e.kind === 'step' && e.state !== 'progress');
  const at = (step: string, state: string): number => {
    const e = steps.find((x) => x.step === step && x.state === state);
    if (!e) throw new RangeError(`Cannot summarize the ${run.firmware} run: no ${step}:${state} event`);
    return Date.parse(e.at);
  };
  const timings: StepTiming[] = [];
  for (const e of steps) {
    if (e.state !== 'started' || e.step === undefined || e.step === 'reboot') continue;
    timings.push({ step: e.step, ms: at(e.step, 'done') - Date.parse(e.at) });
  }
  const receiveDone = steps.find((e) => e.step === 'receive' && e.state === 'done');
  const benchDone = steps.find((e) => e.step === 'bench' && e.state === 'done');
  const receiveMs = at('receive', 'done') - at('receive', 'started');
  const bytes = receiveDone?.bytes ?? 0;
  return {
    firmware: run.firmware,
    bus: run.bus,
    totalMs: run.markerAt - run.powerOnAt,
    pxeMs: at('discover', 'started') - run.powerOnAt,
    steps: timings,
    finalBootMs: run.markerAt - at('reboot', 'started'),
    receive: { bytes, ms: receiveMs, bytesPerSecond: receiveMs > 0 ? (bytes * 1000) / receiveMs : 0, clientRate: receiveDone?.rate },
    ...(benchDone?.message ? { writeStage: parseWriteStage(benchDone.message) } : {}),
  };
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export function renderRun(s: RunSummary): string {
  const rows: string[][] = [
    ['PXE phase (power-on → discover:started)', seconds(s.pxeMs), ''],
    ...s.steps.map((t) => [`step ${t.step}`, seconds(t.ms), t.step === 'receive' ? `${mib(s.receive.bytes)} MiB at ${mib(s.receive.bytesPerSecond)} MiB/s`
      : t.step === 'bench' ? 'trowel.bench=dd only (not in a normal run)' : '']),
    ['final boot (reboot:started → deployed-OS marker)', seconds(s.finalBootMs), ''],
    ['**total (power-on → deployed-OS marker)**', `**${seconds(s.totalMs)}**`, ''],
  ];
  const table = renderTable([{ header: 'phase' }, { header: 'seconds', align: 'right' }, { header: 'note' }], rows);
  const accounted = s.pxeMs + s.steps.reduce((a, t) => a + t.ms, 0) + s.finalBootMs;
  return [
    `### ${s.firmware.toUpperCase()}, ${s.bus} disk`,
    '',
    table,
    `Receive: ${s.receive.bytes} bytes of compressed stream in ${seconds(s.receive.ms)} s between the server's ` +
      `receive:started and receive:done events = ${mib(s.receive.bytesPerSecond)} MiB/s` +
      (s.receive.clientRate !== undefined ? ` (the client's own figure: ${mib(s.receive.clientRate)} MiB/s)` : '') + '.',
    `Gaps between steps (event posting, partition rescans) account for ${seconds(s.totalMs - accounted)} s of the total.`,
    ...(s.writeStage ? ['', `Write stage (client's bench step): ${s.writeStage.message}.`] : []),
    '',
  ].join('\n');
}

/** The write-stage section: receive vs dd per run, against the goal. */
export function renderWriteStage(runs: RunSummary[], host?: WriteStage & { rawToolsMBps?: number }): string[] {
  const row = (name: string, w: WriteStage) => [name, w.receiveMBps.toFixed(1), w.ddMBps.toFixed(1), `**${w.ratio.toFixed(2)}×**`];
  const rows = [
    ...runs.filter((r) => r.writeStage).map((r) => row(`VM (TCG): ${r.firmware.toUpperCase()}, ${r.bus}`, r.writeStage!)),
    ...(host ? [row('host (native CPU): loop btrfs', host)] : []),
  ];
  if (rows.length === 0) return ['## Write stage efficiency vs `dd`', '', 'No run reported a bench step.', ''];
  return [
    '## Write stage efficiency vs `dd`',
    '',
    'Each VM boots with `trowel.bench=dd`: right after the receive the client runs `sync` (its time is added to the ' +
      'receive, so data the receive left in the page cache is paid for), then `dd if=/dev/zero bs=4M conv=fsync` of ' +
      'as many bytes as the stream unpacked to, into a file in the same new btrfs pool on the same virtual disk in ' +
      'the same VM, then deletes it. The receive figure is the whole client pipeline: HTTP fetch, sha-256, zstd ' +
      'decompression and `btrfs receive`, in stream (unpacked) bytes per second. The host row runs the same ' +
      'receive (`trowel template receive` from the lab server) into a fresh btrfs on a loop device here, then the ' +
      'same sync and dd, so the pipeline meets real cores instead of an emulated one. Goal: ≥ 0.8×.',
    '',
    renderTable([{ header: 'run' }, { header: 'receive MB/s', align: 'right' }, { header: 'dd MB/s', align: 'right' }, { header: 'receive / dd', align: 'right' }], rows),
    ...(host?.rawToolsMBps !== undefined
      ? [`The tools alone on the host, \`zstd -dc <cached stream> | btrfs receive\` into another fresh loop btrfs, then sync: ` +
        `${host.rawToolsMBps.toFixed(1)} MB/s, so trowel's receive (HTTP, sha-256, signature, the stream guard included) runs at ` +
        `**${(host.receiveMBps / host.rawToolsMBps).toFixed(2)}×** the floor that \`btrfs receive\` sets; the gap to dd is \`btrfs receive\`'s own.`, '']
      : []),
  ];
}

export function renderReport(command: string, env: Environment, runs: RunSummary[], failures: string[], host?: WriteStage & { rawToolsMBps?: number }): string {
  return [
    '# Provisioning: power-on to deployed OS',
    '',
    renderEnvironment(command, env),
    'Each VM (2 vCPUs, 1 GiB RAM, 4 GiB blank qcow2 disk) PXE-boots trowel\'s image from the lab server, provisions the ' +
      'demo template unattended, reboots, is answered "boot local" and boots the deployed Debian, which prints ' +
      '`TROWEL-DEPLOYED-OS-BOOTED`. The VMs run one after the other. Step times come from the server\'s ' +
      'event log (`GET /api/v1/machines/<mac>/events`, server clock = this machine\'s clock); power-on is when ' +
      'QEMU was started; the marker time is when the serial log was polled and found to hold it (polling adds ' +
      'up to a fraction of a second).',
    '',
    '**Everything runs under TCG (software CPU emulation, no KVM) on a shared machine**: absolute times are many ' +
      'times slower than on hardware or with KVM, and CPU-bound steps (decompression, mkfs, the Debian boot) are ' +
      'hit hardest. Read the numbers as a breakdown of where time goes, not as a speed claim.',
    '',
    ...runs.map(renderRun),
    ...(failures.length ? ['## Runs that failed', '', ...failures.map((f) => `- ${f}`), ''] : []),
    ...renderWriteStage(runs, host),
  ].join('\n');
}
