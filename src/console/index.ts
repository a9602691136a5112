/** The technician's console (docs/console.md): flow, views, keys, and the session that runs them. */
export { initialStep, update, choicesOf, isDestructive, nameMatches, type ConsoleState, type Effect, type Intent, type ScreenId, type ServerSource } from './flow.ts';
export { acceptsText, BINDINGS, helpLine, keyIntent, type Binding } from './keys.ts';
export { readLeaseServer, serverFromLease, LEASE_FILE } from './lease.ts';
export { realServices, type ServiceOptions } from './services.ts';
export { ConsoleSession, type ConsoleServices } from './session.ts';
export type { Charset } from './text.ts';
export { viewOf, type ScreenView, type ViewSize } from './view.ts';
