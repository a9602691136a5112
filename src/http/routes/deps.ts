/** What the routes share: the server's options plus the port the server actually listens on. */
import type { TrowelConfig } from '../../config/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { MetricsRegistry } from '../../metrics/registry.ts';
import type { TemplatePool } from '../../pool/index.ts';
import type { McastSessions } from '../../mcast-server/index.ts';
import type { EventStore } from '../../store/events.ts';
import type { MachineStore } from '../../store/machines.ts';
import type { StreamCache } from '../../stream/index.ts';

export interface RouteDeps {
  config: TrowelConfig;
  machines: MachineStore;
  metrics: MetricsRegistry;
  log: Logger;
  adminToken: string;
  /** Machine step events and log lines; without it the event routes answer 503. */
  events?: EventStore;
  /** The template pool; without it the template routes answer 503. */
  pool?: TemplatePool;
  /** The signed send-stream cache; without it (no signing key) manifests and streams answer 503. */
  streams?: StreamCache;
  /** Multicast sessions; without it the multicast routes answer 503. */
  mcast?: McastSessions;
  /** The port written into boot scripts; known only once the server listens (port 0 in tests). */
  advertisedPort(): number;
  /** Milliseconds since the epoch when the app was created. */
  startedAt: number;
}
