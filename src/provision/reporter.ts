/**
 * Posts step events to the server in the order they happen, without ever
 * holding up or failing the provisioning itself: a post that fails is
 * retried a few times, then logged and dropped (the log still has it).
 * Progress events are thinned to one per interval; the last one before a
 * step's end is superseded by the `done` event anyway. A progress event
 * that says something (a message, e.g. a fallback warning) is never thinned.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import type { ProvisionEvent, ProvisionServer } from './server-client.ts';

export interface ReporterOptions {
  log?: Logger;
  /** Sees every event as it is reported (the CLI prints them). */
  onEvent?: (event: ProvisionEvent) => void;
  /** Default 1000 ms. */
  progressIntervalMs?: number;
  /** Delays before each retry of a failed post (default 250, 1000, 3000 ms). */
  retryDelaysMs?: readonly number[];
}

export class StepReporter {
  readonly #server: Pick<ProvisionServer, 'postEvent'> | undefined;
  readonly #log: Logger;
  readonly #onEvent: ((event: ProvisionEvent) => void) | undefined;
  readonly #interval: number;
  readonly #delays: readonly number[];
  #queue: Promise<void> = Promise.resolve();
  #lastProgress = 0;
  /** Every event reported, in order (also those the server never got). */
  readonly history: ProvisionEvent[] = [];

  constructor(server: Pick<ProvisionServer, 'postEvent'> | undefined, options: ReporterOptions = {}) {
    this.#server = server;
    this.#log = options.log ?? silentLogger;
    this.#onEvent = options.onEvent;
    this.#interval = options.progressIntervalMs ?? 1000;
    this.#delays = options.retryDelaysMs ?? [250, 1000, 3000];
  }

  report(event: ProvisionEvent): void {
    if (event.state === 'progress' && event.message === undefined) {
      const now = Date.now();
      if (now - this.#lastProgress < this.#interval) return;
      this.#lastProgress = now;
    }
    this.history.push(event);
    this.#onEvent?.(event);
    const server = this.#server;
    if (!server) return;
    this.#queue = this.#queue.then(() => this.#post(server, event));
  }

  /** Resolves once every event reported so far was posted (or given up on). */
  flush(): Promise<void> {
    return this.#queue;
  }

  /** @private */
  async #post(server: Pick<ProvisionServer, 'postEvent'>, event: ProvisionEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await server.postEvent(event);
        return;
      } catch (e) {
        const delay = this.#delays[attempt];
        if (delay === undefined) {
          this.#log.warn('event_not_posted', { step: event.step, state: event.state, error: describeError(e) });
          return;
        }
        await sleep(delay);
      }
    }
  }
}
