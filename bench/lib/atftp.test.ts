import { describe, expect, it } from 'vitest';
import { atftpArgs, parseOack } from './atftp.ts';

describe('atftp helpers', () => {
  it('parseOack reads the options a server acknowledged from --trace output', () => {
    const trace = 'Trace mode on.\nsent RRQ <file: f, mode: octet <timeout: 1, blksize: 1468, windowsize: 16>>\nreceived OACK <timeout: 1, blksize: 1468, >\nsent ACK <block: 0>\n';
    expect(parseOack(trace)).toEqual({ timeout: '1', blksize: '1468' });
  });

  it('parseOack returns no options when the server answered with plain DATA', () => {
    expect(parseOack('sent RRQ <file: f, mode: octet <>>\nreceived DATA <block: 1, size: 512>\n')).toEqual({});
  });

  it('atftpArgs leaves windowsize out at 1 and adds the timeouts when given', () => {
    const base = { server: '10.0.0.1', remote: 'f', local: '/tmp/o', blksize: 512, limitMs: 1000 };
    expect(atftpArgs({ ...base, windowsize: 1 })).toEqual(['--get', '-r', 'f', '-l', '/tmp/o', '--option', 'blksize 512', '10.0.0.1']);
    expect(atftpArgs({ ...base, windowsize: 16, timeout: 1, clientTimeout: 1 })).toEqual([
      '--get', '-r', 'f', '-l', '/tmp/o', '--option', 'blksize 512', '--option', 'windowsize 16', '--option', 'timeout 1', '--tftp-timeout', '1', '10.0.0.1',
    ]);
  });
});
