/** What the routes share: the server's options plus the port the server actually listens on. */
import type { TrowelConfig } from '../../config/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { MetricsRegistry } from '../../metrics/registry.ts';
import type { MachineStore } from '../../store/machines.ts';

export interface RouteDeps {
  config: TrowelConfig;
  machines: MachineStore;
  metrics: MetricsRegistry;
  log: Logger;
  adminToken: string;
  /** The port written into boot scripts; known only once the server listens (port 0 in tests). */
  advertisedPort(): number;
  /** Milliseconds since the epoch when the app was created. */
  startedAt: number;
}
