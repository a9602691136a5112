/**
 * The progress screen's model, folded from the pipeline's step events
 * (pure): each step's state, the receive's bytes and throughput samples,
 * an overall fraction weighted by how long steps usually take, and the log.
 */
import type { ProvisionEvent, Step } from '../provision/server-client.ts';
import { formatBytes, formatDuration } from '../stream/progress.ts';
import { gauge, percent, sparkline, type Charset } from './text.ts';

/** The steps the console shows (the reboot is the console's own, after the summary). */
export const SHOWN_STEPS = ['discover', 'plan', 'partition', 'mkfs', 'receive', 'deploy', 'bootloader', 'complete'] as const satisfies readonly Step[];

/** Rough shares of the whole run: the receive dominates. */
const WEIGHTS: Record<(typeof SHOWN_STEPS)[number], number> = { discover: 2, plan: 2, partition: 4, mkfs: 4, receive: 76, deploy: 6, bootloader: 5, complete: 1 };

export type StepStatus = 'waiting' | 'running' | 'done' | 'failed';

export interface ProgressModel {
  steps: Record<(typeof SHOWN_STEPS)[number], { status: StepStatus; message: string | undefined }>;
  bytes: number;
  totalBytes: number | undefined;
  /** Bytes per second, one sample per progress event. */
  rates: number[];
  log: string[];
  finished: boolean;
}

const MAX_LOG = 200;
const MAX_RATES = 120;

export function emptyProgress(): ProgressModel {
  const steps = Object.fromEntries(SHOWN_STEPS.map((s) => [s, { status: 'waiting', message: undefined }])) as ProgressModel['steps'];
  return { steps, bytes: 0, totalBytes: undefined, rates: [], log: [], finished: false };
}

export function applyEvent(model: ProgressModel, e: ProvisionEvent): ProgressModel {
  if (!isShown(e.step)) return model;
  const steps = { ...model.steps };
  const status: StepStatus = e.state === 'started' || e.state === 'progress' ? 'running' : e.state;
  steps[e.step] = { status, message: e.error ?? e.message ?? model.steps[e.step].message };
  const next: ProgressModel = { ...model, steps };
  if (e.step === 'receive' && e.bytes !== undefined) {
    next.bytes = e.bytes;
    next.totalBytes = e.totalBytes ?? model.totalBytes;
  }
  if (e.state === 'progress' && e.rate !== undefined) next.rates = [...model.rates, e.rate].slice(-MAX_RATES);
  if (e.state !== 'progress') next.log = appendLog(model.log, eventLine(e));
  if (e.step === 'complete' && e.state === 'done') next.finished = true;
  return next;
}

/** Adds a log line (from the pipeline's logger), keeping the last MAX_LOG. */
export function appendLog(log: readonly string[], line: string): string[] {
  return [...log, line].slice(-MAX_LOG);
}

/** 0..1 across the whole run. */
export function overallFraction(model: ProgressModel): number {
  if (model.finished) return 1;
  let done = 0;
  for (const step of SHOWN_STEPS) {
    const s = model.steps[step];
    if (s.status === 'done') done += WEIGHTS[step];
    else if (step === 'receive' && s.status === 'running' && model.totalBytes) done += WEIGHTS[step] * Math.min(1, model.bytes / model.totalBytes);
  }
  return Math.min(0.99, done / 100);
}

/** How many lines come before the log in progressLines: overall, blank, the steps, blank, throughput, received. */
export const PROGRESS_HEAD_LINES = 2 + SHOWN_STEPS.length + 3;

/** The screen's lines: overall gauge, one gauge per step, throughput sparkline, bytes/ETA, then the log's tail. */
export function progressLines(model: ProgressModel, width: number, height: number, charset: Charset): string[] {
  const label = (s: string) => s.padEnd(11);
  const bar = Math.max(10, Math.min(40, width - 30));
  const lines = [`${label('Overall')}${gauge(overallFraction(model), bar, charset)} ${percent(overallFraction(model))}`, ''];
  for (const step of SHOWN_STEPS) {
    const s = model.steps[step];
    const fraction = s.status === 'done' ? 1 : step === 'receive' && model.totalBytes ? model.bytes / model.totalBytes : 0;
    const note = s.status === 'done' ? 'done' : s.status === 'failed' ? 'FAILED' : s.status === 'running' ? (fraction > 0 ? percent(fraction) : 'working') : '';
    lines.push(`${label(step)}${gauge(fraction, bar, charset)} ${note}`.trimEnd());
  }
  const rate = model.rates.at(-1);
  const eta = rate && model.totalBytes ? (model.totalBytes - model.bytes) / rate : undefined;
  const amount = model.totalBytes ? `${formatBytes(model.bytes)} / ${formatBytes(model.totalBytes)}` : formatBytes(model.bytes);
  lines.push('', `${label('Throughput')}${sparkline(model.rates, bar, charset).padEnd(bar)} ${rate === undefined ? '-' : `${formatBytes(rate)}/s`}`);
  const receiving = model.steps.receive.status === 'running';
  lines.push(`${label('Received')}${amount}${eta === undefined || !receiving ? '' : `  ETA ${formatDuration(eta)}`}`, '');
  const room = Math.max(1, height - lines.length);
  return [...lines, ...model.log.slice(-room)];
}

/** @private */
function isShown(step: Step): step is (typeof SHOWN_STEPS)[number] {
  return (SHOWN_STEPS as readonly string[]).includes(step);
}

/** @private "partition done: gpt: bios /dev/vdb1, ..." */
function eventLine(e: ProvisionEvent): string {
  const text = e.error ?? e.message;
  return `${e.step} ${e.state}${text ? `: ${text}` : ''}`;
}
