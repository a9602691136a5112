import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { silentLogger } from '../log/logger.ts';
import type { ReceiveOptions } from '../stream/receive.ts';
import { describeReport, receiveBody, withHttpFallback, type TransportChoice } from './receive-transport.ts';

function choice(over: Partial<TransportChoice> = {}): TransportChoice & { notes: string[] } {
  const notes: string[] = [];
  return { transport: 'multicast', server: 'http://10.0.0.1:8080', mac: '52:54:00:00:00:01', token: 't', log: silentLogger, note: (m) => notes.push(m), notes, ...over };
}

describe('receiveBody', () => {
  it('is plain HTTP for http, a body source for multicast and tee', () => {
    expect(receiveBody(choice({ transport: 'http' }))).toBeUndefined();
    expect(typeof receiveBody(choice())).toBe('function');
    expect(typeof receiveBody(choice({ transport: 'tee' }))).toBe('function');
  });

  it('falls back to HTTP with a warning when the machine has no token to ask with', () => {
    const c = choice({ token: undefined });
    expect(receiveBody(c)).toBeUndefined();
    expect(c.notes).toEqual(['warning: over http: multicast needs trowel.mac= and trowel.token= to ask the server for a session']);
  });
});

describe('withHttpFallback', () => {
  const body = (async () => ({})) as unknown as NonNullable<ReceiveOptions['body']>;

  it('runs the receive once more over HTTP after a multicast failure, and says why', async () => {
    const c = choice();
    const tries: unknown[] = [];
    const result = await withHttpFallback(body, async (b) => {
      tries.push(b);
      if (b) throw new TrowelError('EMCAST_DROPPED', 'Cannot finish receiving multicast session 7: dropped');
      return 'received';
    }, c);
    expect(result).toBe('received');
    expect(tries).toEqual([body, undefined]);
    expect(c.notes).toEqual(['warning: over http: the multicast receive failed (Cannot finish receiving multicast session 7: dropped)']);
  });

  it('does not retry a digest failure: HTTP would bring the same bytes', async () => {
    let tries = 0;
    await expect(withHttpFallback(body, async () => {
      tries += 1;
      throw new TrowelError('EDIGEST', 'Cannot keep the stream: sha-256 differs');
    }, choice())).rejects.toMatchObject({ code: 'EDIGEST' });
    expect(tries).toBe(1);
  });
});

describe('describeReport', () => {
  it('says how much came by multicast and how much over HTTP', () => {
    const r = { bytes: 3 * 2 ** 20, fetchedBytes: 2 ** 20, dropped: true, repaired: 12, loss: 0.051, seconds: 1, bytesPerSecond: 1, duplicates: 0, lost: 3, missedBlocks: 40, badPackets: 0 };
    expect(describeReport(r)).toBe('multicast: 2.00 MiB by multicast, 1.00 MiB over http (the sender dropped this machine as too slow), 12 blocks rebuilt from parity, loss 5.1%');
  });
});
