/**
 * The live event stream, `GET /api/v1/events` as a WebSocket (what `trowel
 * top` follows). Read-only and open to the boot network like the other
 * listings. A client gets a snapshot on connect, then each machine event as
 * it is stored, each machine whose row changed, and the counters every
 * second. Nothing is read from clients; a client too slow to take what it
 * is sent is cut off rather than buffered for without bound.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../log/logger.ts';
import type { Gauge, MetricsRegistry } from '../metrics/registry.ts';
import { EventKind, type EventStore, type MachineStore, type StoredEvent } from '../store/index.ts';
import { EVENT_STREAM_PATH, machineStatus, readCounters, streamEvent, type MachineStatus, type StreamMessage } from './event-stream-messages.ts';

export interface EventStreamOptions {
  machines: MachineStore;
  /** Without an event store the stream still shows machines and counters. */
  events?: EventStore;
  metrics: MetricsRegistry;
  log: Logger;
  /** Counters and the machine table are refreshed this often (default 1000 ms). */
  tickMs?: number;
  /** Events in the snapshot (default 50). */
  recentEvents?: number;
  /** Connections beyond this are refused with 1013 "try again later" (default 64). */
  maxClients?: number;
  /** A client with more than this many bytes unsent is disconnected (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Pings go out every this many ticks; a client that did not answer the last one is dropped (default 30). */
  pingEveryTicks?: number;
}

export class EventStream {
  readonly #o: Required<Omit<EventStreamOptions, 'events'>> & { events?: EventStore };
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024, clientTracking: true });
  /** Each machine's newest step event, kept current from appends so a snapshot needs no scan. */
  readonly #latestStep = new Map<string, StoredEvent>();
  /** What clients last saw of each machine (rowKey): only rows that differ are sent. */
  #sent = new Map<string, string>();
  readonly #clientsGauge: Gauge;
  readonly #alive = new WeakSet<WebSocket>();
  readonly #stopListening: () => void;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;

  constructor(options: EventStreamOptions) {
    this.#o = { tickMs: 1000, recentEvents: 50, maxClients: 64, maxBufferedBytes: 2 ** 20, pingEveryTicks: 30, ...options };
    for (const e of this.#o.events?.latestSteps() ?? []) this.#latestStep.set(e.mac, e);
    this.#stopListening = this.#o.events?.onAppend((e) => this.#appended(e)) ?? (() => {});
    this.#clientsGauge = this.#o.metrics.gauge('trowel_event_stream_clients', 'WebSocket clients following GET /api/v1/events.');
    this.#clientsGauge.set(0);
  }

  get clients(): number {
    return this.#wss.clients.size;
  }

  /** For node:http's 'upgrade' event: takes /api/v1/events, answers anything else 404. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://upgrade').pathname;
    if (path !== EVENT_STREAM_PATH || req.method !== 'GET') {
      // node:http hands an upgrade's socket over without its error listener: a client
      // that resets after our 404 would otherwise throw ECONNRESET and end the server.
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, req.socket.remoteAddress ?? '?'));
  }

  /** Disconnects every client (1001 "going away") and stops listening for events. */
  close(): void {
    this.#stopListening();
    this.#stopTimer();
    for (const ws of this.#wss.clients) ws.close(1001, 'server stopping');
    // A client that does not answer the close handshake must not keep the socket open.
    for (const ws of this.#wss.clients) setTimeout(() => ws.terminate(), 1000).unref();
    this.#wss.close();
  }

  /** @private */
  #connected(ws: WebSocket, peer: string): void {
    if (this.#wss.clients.size > this.#o.maxClients) {
      ws.close(1013, 'too many event stream clients');
      return;
    }
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('message', () => {}); // nothing is read from clients; maxPayload bounds what they can send
    ws.on('error', (e) => this.#o.log.debug('event_stream.client_error', { peer, error: e.message }));
    ws.on('close', () => {
      this.#o.log.debug('event_stream.closed', { peer });
      this.#clientsChanged();
    });
    this.#o.log.debug('event_stream.connected', { peer });
    const machines = this.#o.machines.list().map((m) => machineStatus(m, this.#latestStep.get(m.mac)));
    if (this.#wss.clients.size === 1) this.#sent = new Map(machines.map((m) => [m.mac, rowKey(m)]));
    this.#send(ws, {
      type: 'snapshot',
      at: new Date().toISOString(),
      machines,
      events: (this.#o.events?.recent(this.#o.recentEvents) ?? []).map(streamEvent),
      counters: readCounters(this.#o.metrics),
    });
    this.#clientsChanged();
  }

  /**
   * @private An event was just stored. The machine's new state is written
   * right after the append in the same synchronous route code, so the row
   * is read a microtask later, when it already holds the state this event caused.
   */
  #appended(e: StoredEvent): void {
    if (e.kind === EventKind.step) this.#latestStep.set(e.mac, e);
    if (this.#wss.clients.size === 0) return;
    queueMicrotask(() => {
      this.#broadcast({ type: 'event', event: streamEvent(e) });
      if (e.kind === EventKind.step) this.#machineChanged(e.mac);
    });
  }

  /** @private */
  #machineChanged(mac: string): void {
    const machine = this.#o.machines.get(mac);
    if (machine) this.#sendIfChanged(machineStatus(machine, this.#latestStep.get(mac)));
  }

  /** @private */
  #sendIfChanged(status: MachineStatus): void {
    const key = rowKey(status);
    if (this.#sent.get(status.mac) === key) return;
    this.#sent.set(status.mac, key);
    this.#broadcast({ type: 'machine', machine: status });
  }

  /** @private Counters every tick; machines that changed outside events (a DHCP contact, a new plan). */
  #tick(): void {
    this.#ticks += 1;
    for (const m of this.#o.machines.list()) this.#sendIfChanged(machineStatus(m, this.#latestStep.get(m.mac)));
    this.#broadcast({ type: 'counters', at: new Date().toISOString(), counters: readCounters(this.#o.metrics) });
    if (this.#ticks % this.#o.pingEveryTicks === 0) {
      for (const ws of this.#wss.clients) {
        if (!this.#alive.has(ws)) {
          ws.terminate();
          continue;
        }
        this.#alive.delete(ws);
        ws.ping();
      }
    }
  }

  /** @private */
  #broadcast(message: StreamMessage): void {
    const text = JSON.stringify(message);
    for (const ws of this.#wss.clients) this.#send(ws, text);
  }

  /** @private */
  #send(ws: WebSocket, message: StreamMessage | string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.#o.maxBufferedBytes) {
      this.#o.log.warn('event_stream.slow_client', { buffered: ws.bufferedAmount });
      ws.terminate();
      return;
    }
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** @private The tick runs only while someone watches. */
  #clientsChanged(): void {
    const n = this.#wss.clients.size;
    this.#clientsGauge.set(n);
    if (n > 0 && !this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#o.tickMs);
      this.#timer.unref();
    }
    if (n === 0) this.#stopTimer();
  }

  /** @private */
  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** @private lastSeen moves with every DHCP packet; on its own it is not worth sending a row. */
function rowKey(status: MachineStatus): string {
  return JSON.stringify({ ...status, lastSeen: null });
}
