import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/sys/run.ts';
import { BUNDLED_TERMINALS, readHostTerminfo, toLegacyTerminfo } from './terminfo.ts';

// blessed's own reader is the one that must understand what the binary carries.
const Tput = createRequire(import.meta.url)('blessed/lib/tput.js') as new (o: { terminal: string; terminfoPrefix: string }) => {
  error: Error | null;
  info: { name: string; numbers: Record<string, number>; strings: Record<string, string>; bools: Record<string, boolean> };
};

const dir = mkdtempSync(join(tmpdir(), 'trowel-terminfo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parse(name: string, data: Buffer) {
  mkdirSync(join(dir, name[0]!), { recursive: true });
  const file = join(dir, name[0]!, name);
  writeFileSync(file, data);
  // The prefix is searched first: the entry read is this one, not the host's.
  return new Tput({ terminal: name, terminfoPrefix: dir });
}

/** `infocmp -1 -x -I`'s numbers, as ncurses reads them. */
async function infocmpNumbers(name: string): Promise<Record<string, number>> {
  const { stdout } = await run('infocmp', ['-1', '-x', '-I', name]);
  return Object.fromEntries([...stdout.matchAll(/^\t(\w+)#(0x[0-9a-f]+|\d+),$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('toLegacyTerminfo', () => {
  it('makes the 32-bit xterm-256color and tmux-256color entries readable by blessed, numbers clamped', async () => {
    const host = readHostTerminfo(['xterm-256color', 'tmux-256color']);
    for (const name of ['xterm-256color', 'tmux-256color']) {
      const data = host[`${name[0]}/${name}`]!;
      expect(data.readUInt16LE(0)).toBe(0o432);
      const tput = parse(name, data);
      expect(tput.error).toBeNull();
      expect(tput.info.name).toBe(name);
      const expected = await infocmpNumbers(name);
      expect(tput.info.numbers['max_colors']).toBe(256);
      expect(tput.info.numbers['max_pairs']).toBe(Math.min(expected['pairs']!, 0x7fff));
      expect(tput.info.numbers['columns']).toBe(expected['cols']);
      expect(tput.info.strings['cursor_address']).toBe('\x1b[%i%p1%d;%p2%dH');
    }
  });

  it('keeps the user-defined (extended) capabilities after the standard ones', () => {
    const tput = parse('xterm-256color', readHostTerminfo(['xterm-256color'])['x/xterm-256color']!);
    // AX (default colours) and XT (OSC title) are extended capabilities of xterm.
    expect(tput.info.bools['AX']).toBe(true);
    expect(tput.info.bools['XT']).toBe(true);
  });

  it('returns a legacy entry unchanged and refuses what is no terminfo', () => {
    const linux = readHostTerminfo(['linux'])['l/linux']!;
    expect(toLegacyTerminfo(linux)).toBe(linux);
    expect(() => toLegacyTerminfo(Buffer.from('#!/bin/sh\n'))).toThrow(/magic .* is neither 0432 nor 01036/);
  });
});

describe('readHostTerminfo', () => {
  it('finds every terminal the binary carries on this host, keyed as in a terminfo directory', () => {
    const all = readHostTerminfo();
    expect(Object.keys(all).sort()).toEqual(BUNDLED_TERMINALS.map((n) => `${n[0]}/${n}`).sort());
    for (const [key, data] of Object.entries(all)) expect(parse(key.slice(2), data).error, key).toBeNull();
  });

  it('names the missing entry and the packages to install', () => {
    expect(() => readHostTerminfo(['no-such-terminal'], [dir])).toThrow('Cannot bundle the terminfo entry no-such-terminal: not found in');
  });
});
