/**
 * An inventory as lines for a person: the console's hardware screen and
 * `trowel machines show` print the same text (pure).
 */
import { formatBytes } from '../stream/progress.ts';
import type { Inventory } from './types.ts';

export function inventoryLines(inv: Inventory): string[] {
  const sys = [inv.system.vendor, inv.system.product].filter(Boolean).join(' ') || 'unknown';
  const cpu = inv.cpu;
  const topology = [cpu.sockets && `${cpu.sockets} socket${cpu.sockets > 1 ? 's' : ''}`, cpu.cores && `${cpu.cores} cores`, `${cpu.threads} threads`].filter(Boolean).join(', ');
  const lines = [
    `System  ${sys}${inv.system.serial ? `, serial ${inv.system.serial}` : ''}`,
    `CPU     ${cpu.model ?? 'unknown model'} (${topology})`,
    `Memory  ${formatBytes(inv.memoryBytes)}`,
  ];
  if (inv.nics.length === 0) lines.push('NICs    none found');
  for (const [i, n] of inv.nics.entries()) {
    const link = n.carrier ? `link up${n.speedMbps ? ` ${formatSpeed(n.speedMbps)}` : ''}` : `no link (${n.state})`;
    lines.push(`${i === 0 ? 'NICs' : ''}`.padEnd(8) + `${n.name} ${n.mac} ${link}${n.driver ? ` ${n.driver}` : ''}`);
  }
  if (inv.disks.length === 0) lines.push('Disks   none found');
  for (const [i, d] of inv.disks.entries()) {
    const what = [`${formatBytes(d.sizeBytes)} ${d.transport}${d.rotational ? ' HDD' : ''}`, d.model, d.serial && `serial ${d.serial}`].filter(Boolean).join(', ');
    lines.push(`${i === 0 ? 'Disks' : ''}`.padEnd(8) + `${d.name} ${what}`);
  }
  return lines;
}

/** @private 1000 Mbit/s -> "1 Gbit/s". */
function formatSpeed(mbps: number): string {
  return mbps >= 1000 && mbps % 1000 === 0 ? `${mbps / 1000} Gbit/s` : `${mbps} Mbit/s`;
}
