import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { EventKind, EventStore, type StoredEvent } from './events.ts';

function store(): EventStore {
  let t = 1_000;
  return new EventStore(openDatabase(':memory:'), () => t++);
}

describe('EventStore.onAppend', () => {
  it('sees each appended event once, with its id, until stopped', () => {
    const events = store();
    const seen: StoredEvent[] = [];
    const stop = events.onAppend((e) => seen.push(e));
    const first = events.append('52:54:00:00:00:01', EventKind.step, { step: 'receive', state: 'started' });
    events.append('52:54:00:00:00:01', EventKind.log, { line: 'hello' });
    stop();
    events.append('52:54:00:00:00:01', EventKind.log, { line: 'unseen' });
    expect(seen.map((e) => e.data)).toEqual([{ step: 'receive', state: 'started' }, { line: 'hello' }]);
    expect(seen[0]).toEqual(first);
  });
});

describe('EventStore.recent and latestSteps', () => {
  it('returns the newest events of all machines oldest first, and each machine’s newest step', () => {
    const events = store();
    events.append('52:54:00:00:00:01', EventKind.step, { step: 'partition', state: 'done' });
    events.append('52:54:00:00:00:02', EventKind.step, { step: 'receive', state: 'progress', bytes: 5 });
    events.append('52:54:00:00:00:01', EventKind.step, { step: 'receive', state: 'started' });
    events.append('52:54:00:00:00:01', EventKind.log, { line: 'a log line is not a step' });
    expect(events.recent(2).map((e) => e.data)).toEqual([{ step: 'receive', state: 'started' }, { line: 'a log line is not a step' }]);
    expect(events.recent(10)).toHaveLength(4);
    const latest = events.latestSteps();
    expect(latest.map((e) => [e.mac, e.data['step'], e.data['state']])).toEqual([
      ['52:54:00:00:00:02', 'receive', 'progress'],
      ['52:54:00:00:00:01', 'receive', 'started'],
    ]);
  });
});
