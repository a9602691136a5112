/**
 * The server's multicast sessions (docs/multicast-sessions.md): machines
 * that ask for the same stream while a session for it gathers or sends get
 * that session; the first asker opens one. Each session has its own group
 * and port (slots.ts), a fresh random session id and a fresh 32-byte key,
 * which leaves the server only in the answer to an authenticated request.
 * Sessions are sent from the cached stream file, which the stream cache
 * makes first if needed.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { McastConfig } from '../config/index.ts';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import type { TemplateRef } from '../pool/names.ts';
import type { CachedStream } from '../stream/cache.ts';
import { ipv4ToNumber } from '../wire/ipv4.ts';
import { McastSession, type RunSender, type SessionOrigin, type SessionSettings, type SessionStats, type SessionView, type StreamKey } from './session.ts';
import { SessionMetrics } from './session-metrics.ts';
import { freeSlot } from './slots.ts';

export interface McastSessionsOptions {
  config: McastConfig;
  /** The server's address on the boot network: sessions are sent from it. */
  interfaceAddress: string;
  streams: { ensure(ref: TemplateRef, parent: string | null): Promise<CachedStream> };
  runSender: RunSender;
  metrics?: MetricsRegistry;
  log?: Logger;
  now?: () => number;
  /** Ended sessions kept for the API and metrics (default 32). */
  keepEnded?: number;
}

/** What a machine is told: where to listen, with which key, and whether it sends (tee) or receives. */
export interface Offer {
  role: 'receiver' | 'sender';
  sessionId: number;
  group: string;
  port: number;
  /** Base64 of the 32-byte session key. */
  key: string;
  /** Who sends: the server's address, or the tee machine's MAC. */
  sender: string;
  /** The sender's IPv4 address, when known: receivers take packets only from it. */
  senderAddress?: string;
  sha256: string;
  totalBytes: number;
  state: SessionView['state'];
  rateBitsPerSecond: number;
  minReceivers: number;
  maxWaitMs: number;
  /** Milliseconds until the server starts sending (0 once it is sending). */
  startsInMs: number;
}

export class McastSessions {
  readonly config: McastConfig;
  private readonly options: McastSessionsOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly sessions: McastSession[] = [];
  private readonly metrics: SessionMetrics;

  constructor(options: McastSessionsOptions) {
    this.options = options;
    this.config = options.config;
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.metrics = new SessionMetrics(options.metrics ?? new MetricsRegistry());
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /**
   * The session machine `mac` (asking from `address`) should use for
   * `stream`, opening one when none gathers or sends it. A tee session
   * reaches only its own segment (TTL 1), so it is offered only to machines
   * on the tee's (`mcast.teeSegment`); others get the server's session.
   * With `tee`, the machine is to send the session itself, unless another
   * machine already tees that stream on its segment: then it receives.
   */
  async offer(stream: StreamKey, mac: string, options: { tee?: boolean; address?: string } = {}): Promise<Offer> {
    this.requireEnabled();
    const cached = await this.options.streams.ensure(refOf(stream), stream.parent);
    const teeHere = this.sessions.find((s) => s.live && s.origin === 'tee' && sameStream(s.stream, stream) && this.sameSegment(s.teeAddress, options.address));
    let session = teeHere ?? (options.tee ? undefined : this.findLive(stream, (s) => s.origin !== 'tee'));
    let role: Offer['role'] = 'receiver';
    if (!session) {
      const origin: SessionOrigin = options.tee ? 'tee' : 'auto';
      session = this.open(stream, cached, origin, this.defaults(), options.tee ? { mac, address: options.address } : undefined);
      if (options.tee) role = 'sender';
    }
    if (session.addMachine(mac)) this.metrics.offered(role);
    this.log.info('mcast_offer', { mac, sessionId: session.sessionId, role, state: session.state, ...stream });
    return this.offerOf(session, role);
  }

  /** `trowel mcast send`: a session started now with the given settings, or the live one for that stream. */
  async start(stream: StreamKey, settings: Partial<Omit<SessionSettings, 'windowMs'>>): Promise<{ session: SessionView; existing: boolean }> {
    this.requireEnabled();
    const cached = await this.options.streams.ensure(refOf(stream), stream.parent);
    const live = this.findLive(stream, (s) => s.origin !== 'tee');
    if (live) return { session: live.view(), existing: true };
    const session = this.open(stream, cached, 'admin', { ...this.defaults(), ...definedOnly(settings), windowMs: 0 });
    return { session: session.view(), existing: false };
  }

  /** A tee machine reports on the session it sends; `end` closes it. */
  report(mac: string, sessionId: number, stats: Partial<SessionStats>, end?: { error?: string }): SessionView {
    const session = this.sessions.find((s) => s.sessionId === sessionId && s.origin === 'tee' && s.teeMac === mac);
    if (!session) throw new TrowelError('ENOSESSION', `Cannot record the report: ${mac} sends no session ${sessionId}`);
    session.report(stats, end);
    return session.view();
  }

  list(): SessionView[] {
    return this.sessions.map((s) => s.view());
  }

  get(sessionId: number): SessionView | undefined {
    return this.sessions.find((s) => s.sessionId === sessionId)?.view();
  }

  /** Ends every live session (the server stops) and waits for them. */
  async close(): Promise<void> {
    const live = this.sessions.filter((s) => s.live);
    for (const s of live) s.cancel('the server stopped');
    await Promise.all(live.map((s) => s.ended));
  }

  /** @private */
  private open(stream: StreamKey, cached: CachedStream, origin: SessionOrigin, settings: SessionSettings, tee?: { mac: string; address?: string }): McastSession {
    const taken = new Set(this.sessions.filter((s) => s.live).map((s) => s.slot));
    const slot = freeSlot(this.config.groups, this.config.port, taken);
    const session = new McastSession({
      sessionId: this.freshSessionId(), key: randomBytes(32), slot: slot.index, group: slot.group, port: slot.port,
      interfaceAddress: this.options.interfaceAddress, stream, file: cached.file, sha256: cached.signed.manifest.sha256,
      totalBytes: cached.signed.manifest.compressedSize, origin, settings, teeMac: tee?.mac, teeAddress: tee?.address, now: this.now, log: this.log,
    });
    this.sessions.push(session);
    this.metrics.track(session);
    this.forgetOld();
    this.log.info('mcast_session_opened', { sessionId: session.sessionId, origin, ...stream, group: slot.group, port: slot.port, windowMs: settings.windowMs, teeMac: tee?.mac, teeAddress: tee?.address });
    session.schedule(this.options.runSender);
    return session;
  }

  /** @private */
  private offerOf(session: McastSession, role: Offer['role']): Offer {
    const startsAt = session.createdAt + session.settings.windowMs;
    return {
      role, sessionId: session.sessionId, group: session.group, port: session.port, key: session.key.toString('base64'),
      sender: session.origin === 'tee' ? session.teeMac! : session.interfaceAddress,
      senderAddress: session.origin === 'tee' ? session.teeAddress : session.interfaceAddress, sha256: session.sha256, totalBytes: session.totalBytes,
      state: session.state, rateBitsPerSecond: session.settings.rateBitsPerSecond, minReceivers: session.settings.minReceivers,
      maxWaitMs: session.settings.maxWaitMs, startsInMs: session.state === 'gathering' ? Math.max(0, startsAt - this.now()) : 0,
    };
  }

  /** @private */
  private findLive(stream: StreamKey, which: (s: McastSession) => boolean): McastSession | undefined {
    return this.sessions.find((s) => s.live && which(s) && sameStream(s.stream, stream));
  }

  /** @private Two addresses on one tee segment; unknown (or not IPv4) on either side counts as the same, as before segments were told apart. */
  private sameSegment(a: string | undefined, b: string | undefined): boolean {
    const x = ipv4Of(a);
    const y = ipv4Of(b);
    if (x === undefined || y === undefined) return true;
    const bits = this.config.teeSegmentBits;
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    return ((x & mask) >>> 0) === ((y & mask) >>> 0);
  }

  /** @private */
  private defaults(): SessionSettings {
    const c = this.config;
    return { rateBitsPerSecond: c.rateBitsPerSecond, minReceivers: c.minReceivers, maxWaitMs: c.maxWaitMs, windowMs: c.windowMs, dropAfterMs: c.dropAfterMs };
  }

  /** @private A u32 no live session has (0 is left out: it reads as "none" in logs). */
  private freshSessionId(): number {
    for (;;) {
      const id = randomInt(1, 2 ** 32 - 1);
      if (!this.sessions.some((s) => s.live && s.sessionId === id)) return id;
    }
  }

  /** @private Ended sessions beyond keepEnded leave the list and the metrics. */
  private forgetOld(): void {
    const keep = this.options.keepEnded ?? 32;
    const ended = this.sessions.filter((s) => !s.live);
    for (const old of ended.slice(0, Math.max(0, ended.length - keep))) {
      this.sessions.splice(this.sessions.indexOf(old), 1);
      this.metrics.forget(old);
    }
  }

  /** @private */
  private requireEnabled(): void {
    if (!this.config.enabled) {
      throw new TrowelError('EMCASTOFF', 'Cannot start a multicast session: multicast is off on this server', { hint: 'set mcast: { enabled: true } in trowel.yaml' });
    }
  }
}

/** @private An address as a number; HTTP peers may come IPv4-mapped (`::ffff:10.0.0.5`). */
function ipv4Of(address: string | undefined): number | undefined {
  if (address === undefined) return undefined;
  try {
    return ipv4ToNumber(address.replace(/^::ffff:/i, ''));
  } catch {
    return undefined;
  }
}

/** @private */
function refOf(stream: StreamKey): TemplateRef {
  return { name: stream.name, arch: stream.arch as TemplateRef['arch'], version: stream.version };
}

/** @private */
function sameStream(a: StreamKey, b: StreamKey): boolean {
  return a.name === b.name && a.arch === b.arch && a.version === b.version && a.parent === b.parent;
}

/** @private */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
