/**
 * Runs the console: holds the state, feeds intents through the flow
 * (flow.ts), carries out the effects it asks for with the services it was
 * given, and feeds their results back as intents. The services are the only
 * way out to disks, the server and the machine, so tests drive a whole
 * session with stand-ins and the CLI with the real ones (services.ts).
 */
import { describeError } from '../errors.ts';
import type { Disk } from '../disks/types.ts';
import type { Inventory } from '../inventory/types.ts';
import type { PackageDiff } from '../pool/packages.ts';
import type { ProvisionEvent } from '../provision/server-client.ts';
import type { RemoteTemplate } from '../stream/template-api.ts';
import { initialStep, update, type Choices, type ConsoleState, type Effect, type InitialOptions, type Intent, type PlannedRun } from './flow.ts';

export interface ConsoleServices {
  /** Lists the server's templates; throws a one-line error when it cannot. */
  connect(url: string): Promise<RemoteTemplate[]>;
  discoverDisks(): Promise<Disk[]>;
  /** Subvolume names at the top of the disk's trowel pool (mounted read-only for the look). */
  readPool(disk: Disk): Promise<string[]>;
  packageDiff(server: string, template: { name: string; arch: string; version: string }, parent: string): Promise<PackageDiff>;
  /** The pipeline's dry run with these choices: checks them, writes nothing. */
  plan(choices: Choices): Promise<PlannedRun>;
  /** The pipeline for real; `onEvent` sees its step events, `onLog` its log lines. */
  provision(choices: Choices, onEvent: (e: ProvisionEvent) => void, onLog: (line: string) => void): Promise<{ rootSubvolume: string; disk: string }>;
  collectHardware(): Promise<Inventory>;
  sendInventory(server: string, inventory: Inventory): Promise<void>;
  shell(): Promise<void>;
  reboot(): Promise<void>;
  powerOff(): Promise<void>;
  quit(): void;
}

export class ConsoleSession {
  #state: ConsoleState;
  readonly #services: ConsoleServices;
  readonly #listeners: ((state: ConsoleState) => void)[] = [];
  #pending: Effect[];
  /** Settles when every effect started so far has ended (tests wait on it). */
  #running: Promise<void> = Promise.resolve();

  constructor(options: InitialOptions, services: ConsoleServices) {
    const first = initialStep(options);
    this.#state = first.state;
    this.#pending = first.effects;
    this.#services = services;
  }

  get state(): ConsoleState {
    return this.#state;
  }

  onChange(listener: (state: ConsoleState) => void): void {
    this.#listeners.push(listener);
  }

  /** Runs the effects the first state asked for (a known server's check). */
  start(): void {
    const effects = this.#pending;
    this.#pending = [];
    for (const e of effects) this.#run(e);
  }

  dispatch(intent: Intent): void {
    const step = update(this.#state, intent);
    if (step.state !== this.#state) {
      this.#state = step.state;
      for (const l of this.#listeners) l(this.#state);
    }
    for (const e of step.effects) this.#run(e);
  }

  /** Resolves once no effect is running (for tests). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.#running;
      await running;
      if (running === this.#running) return;
    }
  }

  /** @private */
  #run(effect: Effect): void {
    const done = this.#perform(effect).then(
      (intent) => {
        if (intent) this.dispatch(intent);
      },
      (e: unknown) => this.dispatch({ kind: 'effectFailed', effect: effect.kind, error: describeError(e) }),
    );
    this.#running = Promise.all([this.#running, done]).then(() => {});
  }

  /** @private */
  async #perform(effect: Effect): Promise<Intent | undefined> {
    const services = this.#services;
    switch (effect.kind) {
      case 'checkServer':
        return { kind: 'serverChecked', url: effect.url, templates: await services.connect(effect.url) };
      case 'discoverDisks':
        return { kind: 'disksFound', disks: await services.discoverDisks() };
      case 'readPool':
        return { kind: 'poolRead', subvolumes: await services.readPool(effect.disk) };
      case 'loadDiffs':
        // One at a time, newest first: the first rows fill in while the rest load.
        for (const version of effect.versions) {
          try {
            this.dispatch({ kind: 'diffLoaded', version, diff: await services.packageDiff(this.#state.server.url, { ...effect.template, version }, effect.parent) });
          } catch (e) {
            this.dispatch({ kind: 'diffFailed', version, error: describeError(e) });
          }
        }
        return undefined;
      case 'dryRun':
        return { kind: 'planned', run: await services.plan(effect.choices) };
      case 'provision': {
        const result = await services.provision(effect.choices, (event) => this.dispatch({ kind: 'event', event }), (line) => this.dispatch({ kind: 'log', line }));
        return { kind: 'provisioned', ...result };
      }
      case 'collectHardware':
        return { kind: 'hardwareRead', inventory: await services.collectHardware() };
      case 'sendInventory':
        await services.sendInventory(this.#state.server.url, effect.inventory);
        return { kind: 'inventorySent', server: this.#state.server.url };
      case 'shell':
        await services.shell();
        return { kind: 'effectDone' };
      case 'reboot':
        await services.reboot();
        return { kind: 'effectDone' };
      case 'poweroff':
        await services.powerOff();
        return { kind: 'effectDone' };
      case 'quit':
        services.quit();
        return undefined;
    }
  }
}
