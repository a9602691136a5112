import { describe, expect, it } from 'vitest';
import { StepReporter } from './reporter.ts';
import type { ProvisionEvent } from './server-client.ts';

describe('StepReporter', () => {
  it('thins bare progress events to one per interval but posts every one that carries a message', async () => {
    const posted: ProvisionEvent[] = [];
    const reporter = new StepReporter({ postEvent: async (e) => void posted.push(e) }, { progressIntervalMs: 60_000 });
    reporter.report({ step: 'receive', state: 'started' });
    reporter.report({ step: 'receive', state: 'progress', bytes: 1 });
    reporter.report({ step: 'receive', state: 'progress', bytes: 2 });
    reporter.report({ step: 'receive', state: 'progress', bytes: 3, message: 'multicast failed: falling back to HTTP' });
    reporter.report({ step: 'receive', state: 'done', bytes: 4 });
    await reporter.flush();
    expect(posted.map((e) => `${e.state}${e.bytes === undefined ? '' : ` ${e.bytes}`}`)).toEqual(['started', 'progress 1', 'progress 3', 'done 4']);
    expect(reporter.history).toEqual(posted);
  });

  it('retries a failed post, then gives up without failing the caller', async () => {
    let calls = 0;
    const reporter = new StepReporter({ postEvent: async () => { calls++; throw new Error('server down'); } }, { retryDelaysMs: [1, 1] });
    reporter.report({ step: 'plan', state: 'started' });
    await reporter.flush();
    expect(calls).toBe(3);
  });
});
