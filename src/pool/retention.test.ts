import { describe, expect, it } from 'vitest';
import { childrenOf, selectForGc, type Lineage } from './retention.ts';

const v = (version: string, parent: string | null, name = 'org.example.Desktop', arch: 'x86_64' | 'aarch64' = 'x86_64'): Lineage => ({ name, arch, version, parent });
const V1 = '20260101T000000Z';
const V2 = '20260102T000000Z';
const V3 = '20260103T000000Z';
const V4 = '20260104T000000Z';
const versionsOf = (list: Lineage[]) => list.map((x) => `${x.name}/${x.arch}/${x.version}`);

describe('childrenOf', () => {
  it('finds the versions of the same name and arch whose parent is the target, newest first', () => {
    const all = [v(V1, null), v(V2, V1), v(V3, V1), v(V2, V1, 'org.example.Other'), v(V2, V1, 'org.example.Desktop', 'aarch64')];
    expect(childrenOf(all, v(V1, null)).map((x) => x.version)).toEqual([V3, V2]);
    expect(childrenOf(all, v(V2, V1))).toEqual([]);
  });
});

describe('selectForGc', () => {
  it('keeps the newest N and the parents of those, and removes the rest oldest first', () => {
    const chain = [v(V4, V3), v(V1, null), v(V3, V2), v(V2, V1)];
    expect(versionsOf(selectForGc(chain, 1))).toEqual([`org.example.Desktop/x86_64/${V1}`, `org.example.Desktop/x86_64/${V2}`]);
    expect(versionsOf(selectForGc(chain, 2))).toEqual([`org.example.Desktop/x86_64/${V1}`]);
    expect(selectForGc(chain, 3)).toEqual([]);
    expect(selectForGc(chain, 10)).toEqual([]);
  });

  it('removes a parent whose only children are removed too', () => {
    // V3 starts a new line (no parent); V1's only child V2 goes, so nothing protects V1.
    const forked = [v(V1, null), v(V2, V1), v(V3, null), v(V4, V3)];
    expect(selectForGc(forked, 1).map((x) => x.version)).toEqual([V1, V2]);
  });

  it('treats each name and arch on its own', () => {
    const mixed = [v(V1, null), v(V2, V1), v(V1, null, 'a.B'), v(V1, null, 'org.example.Desktop', 'aarch64'), v(V2, null, 'org.example.Desktop', 'aarch64')];
    expect(versionsOf(selectForGc(mixed, 1))).toEqual([`org.example.Desktop/aarch64/${V1}`]);
  });

  it('refuses a keep below 1 or fractional', () => {
    expect(() => selectForGc([], 0)).toThrow(RangeError);
    expect(() => selectForGc([], 1.5)).toThrow(/at least 1/);
  });
});
