/**
 * Which versions may go (pure): the parent rule of `rm` and the choice `gc`
 * makes. A version's parent is the default base of its incremental stream,
 * so removing it would force full streams on machines that hold the parent.
 */
import { compareVersions, type TemplateRef } from './names.ts';

export interface Lineage extends TemplateRef {
  parent: string | null;
}

/** Versions of the same name and arch whose parent is `target`, newest first. */
export function childrenOf<T extends Lineage>(versions: readonly T[], target: TemplateRef): T[] {
  return versions
    .filter((v) => v.name === target.name && v.arch === target.arch && v.parent === target.version && v.version !== target.version)
    .sort((a, b) => compareVersions(b.version, a.version));
}

/**
 * The versions `gc --keep N` removes: per name and arch, everything but the
 * newest `keep`, except the parents of those kept (so their incremental
 * streams keep working). Protection is one level deep: a parent kept only
 * for a kept child does not protect its own parent, else a linear history
 * would never shrink. Returned oldest first, the order to delete them in.
 */
export function selectForGc<T extends Lineage>(versions: readonly T[], keep: number): T[] {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`Cannot choose versions to keep: keep must be a whole number of at least 1, not ${keep}`);
  const groups = new Map<string, T[]>();
  for (const v of versions) {
    const key = `${v.name}\0${v.arch}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const removed: T[] = [];
  for (const group of groups.values()) {
    const newestFirst = [...group].sort((a, b) => compareVersions(b.version, a.version));
    const kept = newestFirst.slice(0, keep);
    const protectedVersions = new Set(kept.map((v) => v.parent).filter((p) => p !== null));
    removed.push(...newestFirst.slice(keep).filter((v) => !protectedVersions.has(v.version)));
  }
  return removed.sort((a, b) => a.name.localeCompare(b.name) || a.arch.localeCompare(b.arch) || compareVersions(a.version, b.version));
}
