/** Multicast sessions on the server: who gets which session, and the sender behind it. */
export { McastSessions, type McastSessionsOptions, type Offer } from './sessions.ts';
export { McastSession, NO_STATS, type RunSender, type SenderPlan, type SessionState, type SessionStats, type SessionView, type StreamKey } from './session.ts';
export { runMcastSender } from './run-sender.ts';
export { freeSlot, slotEndpoint } from './slots.ts';
