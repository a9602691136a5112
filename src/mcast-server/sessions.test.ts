import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import type { CachedStream } from '../stream/cache.ts';
import type { RunSender, SenderPlan, SessionStats } from './session.ts';
import { McastSessions } from './sessions.ts';

const STREAM = { name: 'org.example.Desktop', arch: 'x86_64', version: '20260101T000000Z', parent: null };
const OTHER = { ...STREAM, version: '20260102T000000Z' };

function cached(version: string): CachedStream {
  return { file: `/cache/${version}.zst`, signed: { manifest: { sha256: 'ab'.repeat(32), compressedSize: 1000 } } } as unknown as CachedStream;
}

/** A sender the test finishes by hand: what each session was asked to do, and a way to end it. */
function controlledSender() {
  const runs: { plan: SenderPlan; onStats: (s: SessionStats) => void; finish: (s: SessionStats) => void; fail: (e: Error) => void; signal: AbortSignal }[] = [];
  const run: RunSender = (plan, hooks) => new Promise((resolve, reject) => {
    runs.push({ plan, onStats: hooks.onStats, finish: resolve, fail: reject, signal: hooks.signal });
    hooks.signal.addEventListener('abort', () => reject(new Error('aborted')));
  });
  return { runs, run };
}

function make(yaml = 'mcast: { enabled: true, window: 1s, maxWait: 20s, dropAfter: 45s, minReceivers: 1, group: 239.9.9.0/30 }') {
  const config = parseConfig(`listen: { address: 10.0.0.1 }\n${yaml}\n`).mcast;
  const sender = controlledSender();
  const metrics = new MetricsRegistry();
  const ensured: string[] = [];
  const sessions = new McastSessions({
    config, interfaceAddress: '10.0.0.1', runSender: sender.run, metrics,
    streams: { ensure: async (ref) => (ensured.push(ref.version), cached(ref.version)) },
  });
  return { sessions, sender, metrics, ensured };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('McastSessions', () => {
  it('gives machines asking for one stream within the window one session, and waits for all of them', async () => {
    const { sessions, sender, ensured } = make();
    const a = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01');
    const b = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:02');
    const c = await sessions.offer(OTHER, 'aa:aa:aa:aa:aa:03');
    expect(b.sessionId).toBe(a.sessionId);
    expect(b.key).toBe(a.key);
    expect(Buffer.from(a.key, 'base64')).toHaveLength(32);
    expect(c.sessionId).not.toBe(a.sessionId);
    expect(c.key).not.toBe(a.key);
    expect([a.group, c.group]).toEqual(['239.9.9.1', '239.9.9.2']);
    expect(a).toMatchObject({ role: 'receiver', state: 'gathering', sender: '10.0.0.1', totalBytes: 1000, port: 9000 });
    expect(a.startsInMs).toBeGreaterThan(0);
    expect(ensured).toEqual([STREAM.version, STREAM.version, OTHER.version]);
    expect(sender.runs).toHaveLength(0);
    await tick(1100);
    expect(sender.runs).toHaveLength(2);
    const plan = sender.runs.find((r) => r.plan.sessionId === a.sessionId)!.plan;
    expect(plan).toMatchObject({ group: '239.9.9.1', port: 9000, interfaceAddress: '10.0.0.1', minReceivers: 2, file: `/cache/${STREAM.version}.zst`, totalBytes: 1000, dropAfterMs: 45_000 });
    expect(plan.maxWaitMs).toBeGreaterThan(18_000);
    expect(plan.maxWaitMs).toBeLessThanOrEqual(19_000);
    for (const r of sender.runs) r.signal.throwIfAborted();
    await sessions.close();
  });

  it('lets a machine join a session that is already sending, and opens a new one once it ended', async () => {
    const { sessions, sender, metrics } = make('mcast: { enabled: true, window: 1ms }');
    const first = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01');
    await tick(20);
    expect(sessions.get(first.sessionId)!.state).toBe('sending');
    const late = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:02');
    expect(late).toMatchObject({ sessionId: first.sessionId, state: 'sending', startsInMs: 0 });
    sender.runs[0]!.onStats({ receivers: 2, completed: 0, dropped: 0, bytesSent: 500, repairs: 3, loss: 0.01, rateBitsPerSecond: 8e8 });
    expect(sessions.get(first.sessionId)).toMatchObject({ progress: 0.5, repairs: 3, receivers: 2, machines: ['aa:aa:aa:aa:aa:01', 'aa:aa:aa:aa:aa:02'] });
    expect(metrics.render()).toContain(`trowel_mcast_session_bytes_sent{session="${first.sessionId}",template="org.example.Desktop/x86_64/20260101T000000Z"} 500`);
    sender.runs[0]!.finish({ receivers: 0, completed: 2, dropped: 0, bytesSent: 1000, repairs: 4, loss: 0.01, rateBitsPerSecond: 7e8 });
    await tick(5);
    expect(sessions.get(first.sessionId)).toMatchObject({ state: 'done', completed: 2, progress: 1 });
    expect(metrics.render()).toContain('trowel_mcast_sessions_total{origin="auto",result="done"} 1');
    expect(metrics.render()).toContain('trowel_mcast_sessions_live 0');
    const again = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01');
    expect(again.sessionId).not.toBe(first.sessionId);
    await sessions.close();
  });

  it('reports a sender that fails as a failed session with the reason', async () => {
    const { sessions, sender } = make('mcast: { enabled: true, window: 1ms }');
    const offer = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01');
    await tick(20);
    sender.runs[0]!.fail(new Error('Cannot send: nobody joined'));
    await tick(5);
    expect(sessions.get(offer.sessionId)).toMatchObject({ state: 'failed', error: 'Cannot send: nobody joined' });
  });

  it('starts an admin session at once with its own settings, or answers the live one', async () => {
    const { sessions, sender } = make();
    const started = await sessions.start(STREAM, { minReceivers: 3, maxWaitMs: 5000, rateBitsPerSecond: 1e8 });
    expect(started).toMatchObject({ existing: false, session: { origin: 'admin', state: 'sending', rateCapBitsPerSecond: 1e8 } });
    expect(sender.runs[0]!.plan).toMatchObject({ minReceivers: 3, rateBitsPerSecond: 1e8 });
    const joined = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01');
    expect(joined.sessionId).toBe(started.session.sessionId);
    expect((await sessions.start(STREAM, {})).existing).toBe(true);
    await sessions.close();
    expect(sessions.get(started.session.sessionId)).toMatchObject({ state: 'failed', error: 'the server stopped' });
  });

  it('makes the first tee machine the sender and the others its receivers; the tee ends it by report', async () => {
    const { sessions, sender } = make();
    const tee = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01', { tee: true });
    expect(tee).toMatchObject({ role: 'sender', sender: 'aa:aa:aa:aa:aa:01', state: 'gathering' });
    expect(tee.startsInMs).toBeGreaterThan(900);
    const other = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:02');
    const secondTee = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:03', { tee: true });
    expect(other).toMatchObject({ role: 'receiver', sessionId: tee.sessionId });
    expect(secondTee).toMatchObject({ role: 'receiver', sessionId: tee.sessionId });
    expect(() => sessions.report('aa:aa:aa:aa:aa:02', tee.sessionId, {})).toThrow(/sends no session/);
    // The tee's first report starts the sending; it learns who asked meanwhile.
    expect(sessions.report('aa:aa:aa:aa:aa:01', tee.sessionId, {})).toMatchObject({ state: 'sending', machines: ['aa:aa:aa:aa:aa:01', 'aa:aa:aa:aa:aa:02', 'aa:aa:aa:aa:aa:03'] });
    sessions.report('aa:aa:aa:aa:aa:01', tee.sessionId, { bytesSent: 1000, completed: 2 }, {});
    expect(sessions.get(tee.sessionId)).toMatchObject({ state: 'done', origin: 'tee', completed: 2 });
    await tick(1100);
    expect(sender.runs).toHaveLength(0);
  });

  it('offers a tee session only on the tee\'s segment; machines elsewhere get the server\'s, and a tee there sends its own', async () => {
    const { sessions } = make();
    const tee = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01', { tee: true, address: '10.0.1.5' });
    expect(tee).toMatchObject({ role: 'sender', senderAddress: '10.0.1.5' });
    const near = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:02', { address: '::ffff:10.0.1.9' });
    expect(near).toMatchObject({ role: 'receiver', sessionId: tee.sessionId, sender: 'aa:aa:aa:aa:aa:01', senderAddress: '10.0.1.5' });
    const far = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:03', { address: '10.0.2.9' });
    expect(far).toMatchObject({ role: 'receiver', sender: '10.0.0.1', senderAddress: '10.0.0.1' });
    expect(far.sessionId).not.toBe(tee.sessionId);
    const farTee = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:04', { tee: true, address: '10.0.2.7' });
    expect(farTee).toMatchObject({ role: 'sender', senderAddress: '10.0.2.7' });
    expect(new Set([tee.sessionId, far.sessionId, farTee.sessionId]).size).toBe(3);
    expect(await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:05', { address: '10.0.2.10' })).toMatchObject({ sessionId: farTee.sessionId });
    await sessions.close();
  });

  it('takes the tee segment\'s width from mcast.teeSegment', async () => {
    const { sessions } = make('mcast: { enabled: true, window: 1s, maxWait: 20s, group: 239.9.9.0/30, teeSegment: 16 }');
    const tee = await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01', { tee: true, address: '10.0.1.5' });
    expect(await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:02', { address: '10.0.200.1' })).toMatchObject({ sessionId: tee.sessionId });
    expect((await sessions.offer(STREAM, 'aa:aa:aa:aa:aa:03', { address: '10.1.0.1' })).sessionId).not.toBe(tee.sessionId);
    await sessions.close();
    expect(() => parseConfig('listen: { address: 10.0.0.1 }\nmcast: { teeSegment: 33 }\n')).toThrow(/teeSegment/);
  });

  it('refuses everything when multicast is off', async () => {
    const { sessions } = make('mcast: { enabled: false }');
    await expect(sessions.offer(STREAM, 'aa:aa:aa:aa:aa:01')).rejects.toMatchObject({ code: 'EMCASTOFF' });
    await expect(sessions.start(STREAM, {})).rejects.toMatchObject({ code: 'EMCASTOFF' });
  });

  it('gives concurrent sessions different groups, then the next port', async () => {
    const { sessions } = make('mcast: { enabled: true, group: 239.9.9.4/31, port: 7000 }');
    const offers = [];
    for (let i = 0; i < 3; i += 1) offers.push(await sessions.offer({ ...STREAM, version: `2026010${i + 1}T000000Z` }, 'aa:aa:aa:aa:aa:01'));
    expect(offers.map((o) => `${o.group}:${o.port}`)).toEqual(['239.9.9.5:7000', '239.9.9.5:7001', '239.9.9.5:7002']);
    await sessions.close();
  });
});
