import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../http/index.ts';
import { makeFixture, type Fixture } from '../http/test-fixture.ts';
import { createLogger, LogLevel, type LogRecord } from '../log/logger.ts';
import { TrowelError } from '../errors.ts';
import { forwardLog } from './log-forwarder.ts';
import { StepReporter } from './reporter.ts';
import { ProvisionServer } from './server-client.ts';

const MAC = '52:54:00:aa:bb:cc';

describe('the provisioning client against a real trowel HTTP server on loopback', () => {
  let f: Fixture;
  let server: HttpServer;
  let base: string;
  let client: ProvisionServer;

  beforeAll(async () => {
    f = makeFixture();
    server = await startHttpServer({ ...f.options, bindAddress: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    client = new ProvisionServer(base, MAC, f.machines.recordContact({ mac: MAC }).token);
  });

  afterAll(async () => {
    await server?.close();
    f?.cleanup();
  });

  const events = async () => ((await (await fetch(`${base}/api/v1/machines/${MAC}/events`)).json()) as { events: Record<string, unknown>[] }).events;

  it('reads no plan, then the plan the admin set', async () => {
    expect(await client.getPlan()).toBeNull();
    f.machines.setPlan(MAC, { template: 'org.example.Demo', wipe: true });
    expect(await client.getPlan()).toEqual({ template: 'org.example.Demo', wipe: true });
  });

  it('is refused with a wrong token, in one line', async () => {
    const stranger = new ProvisionServer(base, MAC, 'not-the-token');
    let error: unknown;
    try {
      await stranger.getPlan();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrowelError);
    expect((error as TrowelError).code).toBe('EFORBIDDEN');
    expect((error as TrowelError).message).toBe(`Cannot fetch the plan: server says 403 (forbidden): the bearer token is not the token of ${MAC}`);
  });

  it('posts step events in order and thins out progress', async () => {
    const seen: string[] = [];
    const reporter = new StepReporter(client, { progressIntervalMs: 60_000, onEvent: (e) => seen.push(`${e.step} ${e.state}`) });
    reporter.report({ step: 'receive', state: 'started' });
    reporter.report({ step: 'receive', state: 'progress', bytes: 1, totalBytes: 3, rate: 1 });
    reporter.report({ step: 'receive', state: 'progress', bytes: 2, totalBytes: 3, rate: 1 });
    reporter.report({ step: 'receive', state: 'done', bytes: 3, totalBytes: 3, rate: 1 });
    await reporter.flush();
    expect(seen).toEqual(['receive started', 'receive progress', 'receive done']);
    expect((await events()).map((e) => [e.step, e.state, e.bytes])).toEqual([['receive', 'started', undefined], ['receive', 'progress', 1], ['receive', 'done', 3]]);
    expect(f.machines.get(MAC)?.state).toBe('provisioning:receive');
  });

  it('gives up on a server that is gone after its retries, logs it, and never throws', async () => {
    const logs: LogRecord[] = [];
    const gone = new ProvisionServer('http://127.0.0.1:1', MAC, 'x', { timeoutMs: 1000 });
    const reporter = new StepReporter(gone, { retryDelaysMs: [10, 10], log: createLogger('t', (r) => logs.push(r), LogLevel.debug) });
    reporter.report({ step: 'mkfs', state: 'started' });
    await reporter.flush();
    expect(reporter.history).toEqual([{ step: 'mkfs', state: 'started' }]);
    expect(logs.map((r) => [r.event, r.step, r.error])).toEqual([['event_not_posted', 'mkfs', 'Cannot reach server http://127.0.0.1:1: ECONNREFUSED']]);
  });

  it('forwards log records to the server as lines', async () => {
    const forwarder = forwardLog(client, { intervalMs: 60_000 });
    const log = createLogger('provision', forwarder.sink, LogLevel.debug);
    log.info('partitions_written', { disk: '/dev/vda', table: 'gpt' });
    log.warn('bootloader_skipped', { reason: 'the template has no grub-install' });
    await forwarder.close();
    const lines = (await events()).filter((e) => e.kind === 'log').map((e) => String(e.line).slice(13));
    expect(lines).toEqual([
      'info provision partitions_written disk=/dev/vda table=gpt',
      'warn provision bootloader_skipped reason="the template has no grub-install"',
    ]);
  });
});
