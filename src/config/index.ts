export { loadConfigFile, parseConfig, DhcpMode } from './trowel-config.ts';
export type { TrowelConfig, DhcpConfig, Reservation } from './trowel-config.ts';
export { ConfigError } from './section.ts';
export { parseDurationSeconds } from './duration.ts';
export { didYouMean } from './did-you-mean.ts';
export { parseGroupPool, parseRate, type McastConfig } from './mcast-config.ts';
