/**
 * Which versions a pull receives, in which order, and from which base
 * (pure). Every version the other server has and this pool lacks is
 * received oldest first, so each one can serve as the base of the next;
 * the base is the newest version both pools hold that is older than it
 * (an incremental stream), else the newest one both hold at all, else none
 * (a full stream).
 */
import { compareVersions } from '../pool/names.ts';
import type { RemoteVersion } from './template-api.ts';

export interface PullStep {
  version: string;
  /** The incremental base, or null for a full stream. */
  base: string | null;
  /** What the other server says about the version (its own parent, size, publish time). */
  remote: RemoteVersion;
}

export function planPull(remote: readonly RemoteVersion[], local: Iterable<string>): PullStep[] {
  const have = new Set(local);
  const common = remote.map((v) => v.version).filter((v) => have.has(v));
  const steps: PullStep[] = [];
  for (const v of [...remote].sort((a, b) => compareVersions(a.version, b.version))) {
    if (have.has(v.version)) continue;
    steps.push({ version: v.version, base: pickBase(common, v.version), remote: v });
    common.push(v.version);
  }
  return steps;
}

/** @private Newest common version older than `version`, else the newest common one, else null. */
function pickBase(common: readonly string[], version: string): string | null {
  const sorted = [...common].sort((a, b) => compareVersions(b, a));
  return sorted.find((c) => compareVersions(c, version) < 0) ?? sorted[0] ?? null;
}
