import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSidecar, parseSidecar, readSidecar, removeSidecar, sidecarPath, writeSidecar, type Sidecar } from './sidecar.ts';

const ref = { name: 'org.example.Desktop', arch: 'x86_64', version: '20261122T023710Z' } as const;
const TEXT = `{ "name": "org.example.Desktop", "arch": "x86_64", "version": "20261122T023710Z",
  "parent": "20261121T101010Z", "source": "dir:/srv/rootfs", "sizeBytes": 123456,
  "publishedAt": "2026-11-22T02:37:10.000Z" }`;
const SIDECAR: Sidecar = { ...ref, parent: '20261121T101010Z', source: 'dir:/srv/rootfs', sizeBytes: 123456, publishedAt: '2026-11-22T02:37:10.000Z' };

describe('parseSidecar', () => {
  it('reads the example of docs/templates.md', () => {
    expect(parseSidecar(TEXT, ref)).toEqual(SIDECAR);
  });

  it('accepts a null parent', () => {
    expect(parseSidecar(TEXT.replace('"20261121T101010Z"', 'null'), ref).parent).toBeNull();
  });

  it.each([
    ['not JSON', '{', /it is not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['another version', TEXT.replace('023710Z"', '023711Z"'), /describes another version/],
    ['a bad parent', TEXT.replace('"20261121T101010Z"', '"../x"'), /"parent"/],
    ['a negative size', TEXT.replace('123456', '-1'), /"sizeBytes"/],
    ['a bad date', TEXT.replace('2026-11-22T02:37:10.000Z', 'yesterday'), /"publishedAt"/],
  ])('refuses %s with ESIDECAR', (_what, text, why) => {
    expect(() => parseSidecar(text, ref)).toThrow(why);
    expect(() => parseSidecar(text, ref)).toThrow(expect.objectContaining({ code: 'ESIDECAR' }));
  });
});

describe('sidecar files', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'trowel-sidecar-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lives at .trowel/<name>/<arch>/<version>.json', () => {
    expect(sidecarPath('/pool', ref)).toBe('/pool/.trowel/org.example.Desktop/x86_64/20261122T023710Z.json');
  });

  it('writes, reads back, replaces and removes, leaving no temp files', async () => {
    expect(await readSidecar(root, ref)).toBeUndefined();
    await writeSidecar(root, SIDECAR);
    expect(await readSidecar(root, ref)).toEqual(SIDECAR);
    expect(JSON.parse(await readFile(sidecarPath(root, ref), 'utf8'))).toEqual(SIDECAR);
    await writeSidecar(root, { ...SIDECAR, parent: null });
    expect((await readSidecar(root, ref))?.parent).toBeNull();
    expect(await readdir(join(root, '.trowel/org.example.Desktop/x86_64'))).toEqual(['20261122T023710Z.json']);
    await removeSidecar(root, ref);
    expect(await readSidecar(root, ref)).toBeUndefined();
  });

  it('claims a version once: a second claim of the same version fails and changes nothing', async () => {
    const other = { ...SIDECAR, version: '20261122T023711Z' };
    expect(await claimSidecar(root, other)).toBe(true);
    expect(await claimSidecar(root, { ...other, source: 'dir:/elsewhere' })).toBe(false);
    expect((await readSidecar(root, other))?.source).toBe('dir:/srv/rootfs');
    expect(await readdir(join(root, '.trowel/org.example.Desktop/x86_64'))).toEqual(['20261122T023711Z.json']);
  });

  it('reads a broken file as an ESIDECAR error', async () => {
    await writeFile(sidecarPath(root, ref), '{"name":');
    await expect(readSidecar(root, ref)).rejects.toMatchObject({ code: 'ESIDECAR' });
  });
});
