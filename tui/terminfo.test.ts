import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installTerminfo } from './terminfo.ts';

const parent = mkdtempSync(join(tmpdir(), 'trowel-terminfo-install-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('installTerminfo', () => {
  it('writes each entry in the terminfo layout and flat, in a private directory', () => {
    const dir = installTerminfo({ 'x/xterm': Buffer.from('entry-x').toString('base64'), 'l/linux': Buffer.from('entry-l').toString('base64') }, parent);
    expect(dir.startsWith(join(parent, 'trowel-terminfo-'))).toBe(true);
    expect(readFileSync(join(dir, 'x', 'xterm'), 'utf8')).toBe('entry-x');
    expect(readFileSync(join(dir, 'xterm'), 'utf8')).toBe('entry-x');
    expect(readFileSync(join(dir, 'l', 'linux'), 'utf8')).toBe('entry-l');
    expect(existsSync(join(dir, 'linux'))).toBe(true);
  });

  it('answers an empty path when no temporary directory can be made', () => {
    expect(installTerminfo({ 'x/xterm': '' }, join(parent, 'missing', 'deeper'))).toBe('');
  });
});
