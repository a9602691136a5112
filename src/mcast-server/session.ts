/**
 * One multicast session: one cached stream sent once to the machines that
 * asked for it (docs/multicast-sessions.md). Its life is a small state
 * machine:
 *
 *   gathering --(window over, or at once for `trowel mcast send`)--> sending
 *   sending --(sender resolved)--> done | (sender threw) --> failed
 *   gathering|sending --(cancel: server stops)--> failed
 *
 * A tee session is sent by a machine, not by the server: it gathers for
 * the window like any session, moves to `sending` with the tee's first
 * report (the tee starts its sender then), and ends when the tee reports
 * its end.
 *
 * While gathering, every machine that asks is counted, so the sender waits
 * for all of them to join (or for maxWait) rather than for minReceivers
 * alone: a machine that asked a second before the window closed should not
 * miss the first blocks.
 */
import type { Logger } from '../log/logger.ts';

export type SessionState = 'gathering' | 'sending' | 'done' | 'failed';
export type SessionOrigin = 'auto' | 'admin' | 'tee';

/** Which stream a session carries: the template version, and the parent an incremental stream builds on. */
export interface StreamKey {
  name: string;
  arch: string;
  version: string;
  parent: string | null;
}

/** What a session reports about its sending, about once a second. */
export interface SessionStats {
  /** Receivers that joined and have not finished or been dropped. */
  receivers: number;
  /** Receivers that finished (said DONE). */
  completed: number;
  /** Receivers told to fall back to HTTP. */
  dropped: number;
  /** Data bytes sent (first sends, not repairs). */
  bytesSent: number;
  /** Repair (parity or resent) packets. */
  repairs: number;
  /** The worst loss a receiver reported, 0..1. */
  loss: number;
  /** The current sending rate, bits per second. */
  rateBitsPerSecond: number;
}

export const NO_STATS: SessionStats = { receivers: 0, completed: 0, dropped: 0, bytesSent: 0, repairs: 0, loss: 0, rateBitsPerSecond: 0 };

/** Everything a sender needs to run a session. */
export interface SenderPlan {
  group: string;
  port: number;
  interfaceAddress: string;
  sessionId: number;
  key: Buffer;
  file: string;
  totalBytes: number;
  rateBitsPerSecond: number;
  minReceivers: number;
  maxWaitMs: number;
  dropAfterMs: number;
}

/** Runs one session to its end; resolves with the final stats. */
export type RunSender = (plan: SenderPlan, hooks: { onStats: (stats: SessionStats) => void; signal: AbortSignal; log: Logger }) => Promise<SessionStats>;

export interface SessionSettings {
  rateBitsPerSecond: number;
  minReceivers: number;
  /** From the session's creation. */
  maxWaitMs: number;
  /** Gathering time before sending (0: send at once, the sender itself waits for minReceivers). */
  windowMs: number;
  /** A receiver silent, or without progress once the data is out, this long is dropped to HTTP. */
  dropAfterMs: number;
}

export interface SessionInit {
  sessionId: number;
  key: Buffer;
  slot: number;
  group: string;
  port: number;
  interfaceAddress: string;
  stream: StreamKey;
  file: string;
  sha256: string;
  totalBytes: number;
  origin: SessionOrigin;
  settings: SessionSettings;
  /** The machine that sends a tee session, and its address (when known: the segment its session reaches). */
  teeMac?: string;
  teeAddress?: string;
  now: () => number;
  log: Logger;
}

/** A session as the API shows it: never the key. */
export interface SessionView {
  sessionId: number;
  state: SessionState;
  origin: SessionOrigin;
  template: StreamKey;
  group: string;
  port: number;
  sender: string;
  sha256: string;
  totalBytes: number;
  /** Machines that asked for this session. */
  machines: string[];
  receivers: number;
  completed: number;
  dropped: number;
  bytesSent: number;
  /** bytesSent / totalBytes, 0..1. */
  progress: number;
  repairs: number;
  loss: number;
  rateBitsPerSecond: number;
  rateCapBitsPerSecond: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
}

export class McastSession {
  readonly sessionId: number;
  readonly key: Buffer;
  readonly slot: number;
  readonly group: string;
  readonly port: number;
  readonly interfaceAddress: string;
  readonly stream: StreamKey;
  readonly file: string;
  readonly sha256: string;
  readonly totalBytes: number;
  readonly origin: SessionOrigin;
  readonly settings: SessionSettings;
  readonly teeMac: string | undefined;
  readonly teeAddress: string | undefined;
  readonly machines = new Set<string>();
  readonly createdAt: number;
  state: SessionState;
  stats: SessionStats = NO_STATS;
  startedAt: number | undefined;
  endedAt: number | undefined;
  error: string | undefined;
  /** Settles when the session has ended, whichever way. */
  readonly ended: Promise<void>;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private markEnded!: () => void;
  private readonly listeners: ((session: McastSession) => void)[] = [];

  constructor(init: SessionInit) {
    this.sessionId = init.sessionId;
    this.key = init.key;
    this.slot = init.slot;
    this.group = init.group;
    this.port = init.port;
    this.interfaceAddress = init.interfaceAddress;
    this.stream = init.stream;
    this.file = init.file;
    this.sha256 = init.sha256;
    this.totalBytes = init.totalBytes;
    this.origin = init.origin;
    this.settings = init.settings;
    this.teeMac = init.teeMac;
    this.teeAddress = init.teeAddress;
    this.now = init.now;
    this.log = init.log;
    this.createdAt = init.now();
    this.state = 'gathering';
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
  }

  /** Sees every change of state or stats (metrics). */
  onChange(listener: (session: McastSession) => void): void {
    this.listeners.push(listener);
  }

  get live(): boolean {
    return this.state === 'gathering' || this.state === 'sending';
  }

  /** Counts a machine in; true when it is new to this session. */
  addMachine(mac: string): boolean {
    if (this.machines.has(mac)) return false;
    this.machines.add(mac);
    this.changed();
    return true;
  }

  /** Starts sending after the window (or at once). Not for tee sessions, whose sender is a machine. */
  schedule(runSender: RunSender): void {
    if (this.origin === 'tee' || this.state !== 'gathering') return;
    const go = () => {
      this.timer = undefined;
      void this.send(runSender);
    };
    if (this.settings.windowMs <= 0) go();
    else {
      this.timer = setTimeout(go, this.settings.windowMs);
      this.timer.unref();
    }
  }

  /** A tee machine's report about the session it sends. */
  report(stats: Partial<SessionStats>, end?: { error?: string }): void {
    if (!this.live) return;
    if (this.state === 'gathering') {
      this.state = 'sending';
      this.startedAt = this.now();
    }
    this.stats = { ...this.stats, ...stats };
    if (end) this.finish(end.error);
    else this.changed();
  }

  /** Ends the session now (the server stops). */
  cancel(reason: string): void {
    if (!this.live) return;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error(reason));
    this.finish(reason);
  }

  view(): SessionView {
    return {
      sessionId: this.sessionId,
      state: this.state,
      origin: this.origin,
      template: this.stream,
      group: this.group,
      port: this.port,
      sender: this.origin === 'tee' ? `machine ${this.teeMac}` : 'server',
      sha256: this.sha256,
      totalBytes: this.totalBytes,
      machines: [...this.machines],
      ...this.stats,
      progress: this.totalBytes > 0 ? Math.min(1, this.stats.bytesSent / this.totalBytes) : 1,
      rateCapBitsPerSecond: this.settings.rateBitsPerSecond,
      createdAt: new Date(this.createdAt).toISOString(),
      startedAt: this.startedAt === undefined ? null : new Date(this.startedAt).toISOString(),
      endedAt: this.endedAt === undefined ? null : new Date(this.endedAt).toISOString(),
      error: this.error ?? null,
    };
  }

  /** @private */
  private async send(runSender: RunSender): Promise<void> {
    if (this.state !== 'gathering') return;
    this.state = 'sending';
    this.startedAt = this.now();
    // Everyone who asked is expected; maxWait counts from the first request, not from now.
    const plan: SenderPlan = {
      group: this.group, port: this.port, interfaceAddress: this.interfaceAddress, sessionId: this.sessionId, key: this.key,
      file: this.file, totalBytes: this.totalBytes, rateBitsPerSecond: this.settings.rateBitsPerSecond,
      minReceivers: Math.max(this.settings.minReceivers, this.machines.size),
      maxWaitMs: Math.max(1000, this.settings.maxWaitMs - (this.startedAt - this.createdAt)),
      dropAfterMs: this.settings.dropAfterMs,
    };
    this.log.info('mcast_session_sending', { sessionId: this.sessionId, ...this.stream, group: this.group, port: this.port, machines: this.machines.size, minReceivers: plan.minReceivers });
    this.changed();
    try {
      const final = await runSender(plan, {
        signal: this.abort.signal,
        log: this.log,
        onStats: (s) => {
          if (!this.live) return;
          this.stats = s;
          this.changed();
        },
      });
      if (!this.live) return;
      this.stats = final;
      this.finish(undefined);
    } catch (e) {
      this.finish((e as Error)?.message ?? String(e));
    }
  }

  /** @private */
  private finish(error: string | undefined): void {
    if (!this.live) return;
    this.state = error === undefined ? 'done' : 'failed';
    this.error = error;
    this.endedAt = this.now();
    const fields = { sessionId: this.sessionId, ...this.stream, machines: this.machines.size, ...this.stats, seconds: (this.endedAt - this.createdAt) / 1000 };
    if (error === undefined) this.log.info('mcast_session_done', fields);
    else this.log.warn('mcast_session_failed', { ...fields, error });
    this.changed();
    this.markEnded();
  }

  /** @private */
  private changed(): void {
    for (const l of this.listeners) l(this);
  }
}
