import { describe, expect, it } from 'vitest';
import { parseGetDefault, parseSubvolumeShow } from './btrfs.ts';

// Output of btrfs-progs v6.2 for a read-only snapshot, as printed on this project's build host.
const SHOW = `@template:org.x.Y:x86_64:20261122T000000Z
	Name: 			@template:org.x.Y:x86_64:20261122T000000Z
	UUID: 			0527c624-8a2f-e84f-a76f-a3c19ca59709
	Parent UUID: 		6dd9a456-e571-874c-baa9-0954cff6644a
	Received UUID: 		-
	Creation time: 		2026-11-22 02:37:10 +0000
	Subvolume ID: 		257
	Generation: 		7
	Gen at creation: 	7
	Parent ID: 		5
	Top level ID: 		5
	Flags: 			readonly
`;

describe('parseSubvolumeShow', () => {
  it('reads uuids, flags and generation, treating "-" as absent', () => {
    expect(parseSubvolumeShow('/p/x', SHOW)).toEqual({
      path: '/p/x',
      name: '@template:org.x.Y:x86_64:20261122T000000Z',
      uuid: '0527c624-8a2f-e84f-a76f-a3c19ca59709',
      parentUuid: '6dd9a456-e571-874c-baa9-0954cff6644a',
      receivedUuid: undefined,
      readonly: true,
      generation: 7,
    });
  });

  it('sees a writable subvolume as not readonly', () => {
    expect(parseSubvolumeShow('/p/x', SHOW.replace('readonly', '-')).readonly).toBe(false);
  });
});

describe('parseGetDefault', () => {
  it('reads the top level and a named default subvolume (btrfs-progs v6.2 output)', () => {
    expect(parseGetDefault('ID 5 (FS_TREE)\n')).toEqual({ id: 5, path: '' });
    expect(parseGetDefault('ID 256 gen 7 top level 5 path @root:a.B:x86_64:20260101T000000Z\n')).toEqual({ id: 256, path: '@root:a.B:x86_64:20260101T000000Z' });
  });
  it('refuses output it does not know', () => {
    expect(() => parseGetDefault('ERROR: not a btrfs filesystem')).toThrow(/unexpected output/);
  });
});
