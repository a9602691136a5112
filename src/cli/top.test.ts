import { describe, expect, it, vi } from 'vitest';
import { topCommand } from './top.ts';

describe('trowel top', () => {
  it('prints its usage for --help', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await topCommand(['--help'], {})).toBe(0);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/^usage: trowel top \[--server URL\]/);
    } finally {
      write.mockRestore();
    }
  });

  it('refuses a server that is not an http URL and unknown options as usage errors', async () => {
    await expect(topCommand(['--server', 'ftp://x'], {})).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(topCommand([], { TROWEL_SERVER: 'nonsense' })).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(topCommand(['--verbose'], {})).rejects.toMatchObject({ code: 'EUSAGE' });
  });

  it('needs a terminal (tests run without one)', async () => {
    await expect(topCommand(['--server', 'http://127.0.0.1:1'], {})).rejects.toMatchObject({ code: 'ENOTTY', message: 'Cannot show the dashboard: stdin and stdout must be a terminal' });
  });
});
