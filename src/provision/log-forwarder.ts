/**
 * Sends the client's log to the server (`POST /api/v1/machines/<mac>/log`)
 * in batches, so an operator sees a machine's whole story in one place. A
 * failed send is dropped: the log also goes to the console, and logging must
 * never fail provisioning.
 */
import type { LogRecord, LogSink } from '../log/logger.ts';
import type { ProvisionServer } from './server-client.ts';

export interface LogForwarder {
  sink: LogSink;
  /** Sends what is buffered and waits for it. */
  flush(): Promise<void>;
  /** Stops the timer after a last flush. */
  close(): Promise<void>;
}

/** One readable line per record: "12:00:01.234 info provision.disks partitions_written disk=/dev/vda". */
export function formatLogLine(r: LogRecord): string {
  const { ts, level, component, event, ...fields } = r;
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return [ts.slice(11, 23), level, component, event, ...kv].join(' ');
}

export function forwardLog(server: Pick<ProvisionServer, 'postLog'>, options: { intervalMs?: number; next?: LogSink } = {}): LogForwarder {
  let lines: string[] = [];
  let sending: Promise<void> = Promise.resolve();
  const flush = () => {
    if (lines.length > 0) {
      const batch = lines.join('\n') + '\n';
      lines = [];
      sending = sending.then(() => server.postLog(batch).catch(() => {}));
    }
    return sending;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 2000);
  timer.unref();
  return {
    sink: (record) => {
      options.next?.(record);
      lines.push(formatLogLine(record));
    },
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
