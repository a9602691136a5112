import { describe, expect, it } from 'vitest';
import { planPull } from './pull-plan.ts';
import type { RemoteVersion } from './template-api.ts';

const V1 = '20260101T000000Z';
const V2 = '20260102T000000Z';
const V3 = '20260103T000000Z';
const V4 = '20260104T000000Z';
const remote = (...versions: string[]): RemoteVersion[] =>
  versions.map((version, i) => ({ version, parent: i + 1 < versions.length ? versions[i + 1]! : null, sizeBytes: 100 + i, publishedAt: '2026-01-01T00:00:00.000Z' }));

describe('planPull', () => {
  it('receives the missing versions oldest first, each from the one before', () => {
    const plan = planPull(remote(V3, V2, V1), [V1]);
    expect(plan.map(({ version, base }) => ({ version, base }))).toEqual([
      { version: V2, base: V1 },
      { version: V3, base: V2 },
    ]);
    expect(plan[0]!.remote).toEqual({ version: V2, parent: V1, sizeBytes: 101, publishedAt: '2026-01-01T00:00:00.000Z' });
  });

  it('starts with a full stream when nothing is shared', () => {
    expect(planPull(remote(V2, V1), []).map((s) => [s.version, s.base])).toEqual([[V1, null], [V2, V1]]);
  });

  it('ignores local versions the other server does not have', () => {
    expect(planPull(remote(V3, V1), [V2]).map((s) => [s.version, s.base])).toEqual([[V1, null], [V3, V1]]);
  });

  it('bases a gap in the middle on the newest older common version, an old gap on a newer one', () => {
    expect(planPull(remote(V4, V3, V2, V1), [V1, V4]).map((s) => [s.version, s.base])).toEqual([[V2, V1], [V3, V2]]);
    expect(planPull(remote(V3, V2, V1), [V3]).map((s) => [s.version, s.base])).toEqual([[V1, V3], [V2, V1]]);
  });

  it('has nothing to do when the pool is up to date', () => {
    expect(planPull(remote(V2, V1), [V1, V2, V3])).toEqual([]);
  });
});
