/**
 * One structured logger for every component. Each record is an event name
 * plus fields. When stdout is not a terminal (journald, CI, tests) records
 * are JSON lines; in a terminal they are readable `time level component event k=v`.
 * TROWEL_LOG=debug|info|warn|error sets the threshold (default info).
 */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevelName = keyof typeof LogLevel;
export type LogFields = Record<string, unknown>;
export type LogRecord = { ts: string; level: LogLevelName; component: string; event: string } & LogFields;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export type LogSink = (record: LogRecord) => void;

function thresholdFromEnv(): number {
  const name = process.env.TROWEL_LOG as LogLevelName | undefined;
  return name && name in LogLevel ? LogLevel[name] : LogLevel.info;
}

function formatPretty(r: LogRecord): string {
  const { ts, level, component, event, ...fields } = r;
  const kv = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${ts.slice(11, 23)} ${level.padEnd(5)} ${component} ${event}${kv ? ' ' + kv : ''}`;
}

/** Writes to stdout: JSON lines, or pretty lines on a TTY. */
export const stdoutSink: LogSink = (r) => {
  process.stdout.write((process.stdout.isTTY ? formatPretty(r) : JSON.stringify(r)) + '\n');
};

export function createLogger(component: string, sink: LogSink = stdoutSink, threshold = thresholdFromEnv()): Logger {
  const emit = (level: LogLevelName, event: string, fields?: LogFields) => {
    if (LogLevel[level] < threshold) return;
    sink({ ts: new Date().toISOString(), level, component, event, ...fields });
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (sub) => createLogger(`${component}.${sub}`, sink, threshold),
  };
}

/** A logger that drops everything (library defaults, fuzz tests). */
export const silentLogger: Logger = createLogger('silent', () => {}, Infinity);
