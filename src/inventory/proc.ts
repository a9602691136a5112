/**
 * /proc/cpuinfo and /proc/meminfo (proc(5)) read as text (pure). x86 lists
 * "model name", "physical id" and "core id" per logical CPU; arm64 lists
 * "processor" lines and may have no model name at all.
 */
import type { Inventory } from './types.ts';

export function parseCpuinfo(text: string): Inventory['cpu'] {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string, name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
  const model = blocks.map((b) => field(b, 'model name') ?? field(b, 'Model') ?? field(b, 'cpu model')).find((m) => m);
  const sockets = new Set(blocks.map((b) => field(b, 'physical id')).filter((v) => v !== undefined));
  const cores = new Set(blocks.map((b) => `${field(b, 'physical id')}:${field(b, 'core id')}`).filter((v) => !v.includes('undefined')));
  return {
    model,
    threads: blocks.length,
    cores: cores.size > 0 ? cores.size : undefined,
    sockets: sockets.size > 0 ? sockets.size : undefined,
  };
}

/** MemTotal in bytes (the kernel writes kB, meaning KiB). */
export function parseMeminfo(text: string): number {
  const kib = /^MemTotal:\s*(\d+)\s*kB/m.exec(text)?.[1];
  return kib === undefined ? 0 : Number(kib) * 1024;
}
