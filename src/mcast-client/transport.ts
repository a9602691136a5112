/** What a body source tells its caller about the transport it ended up using (for events and logs). */
import type { SessionOffer } from './offer.ts';

export type TransportNote =
  | { transport: 'multicast'; role: 'receiver' | 'sender'; offer: SessionOffer; interfaceAddress: string }
  | { transport: 'http'; reason: string };

/** One line for a receive event: which transport carries the stream. */
export function describeTransport(note: TransportNote): string {
  if (note.transport === 'http') return `over http: ${note.reason}`;
  const o = note.offer;
  const what = note.role === 'sender' ? 'tee: fetching over http and sending' : 'over multicast from';
  const who = note.role === 'sender' ? `session ${o.sessionId} on ${o.group}:${o.port} via ${note.interfaceAddress}` : `${o.sender}, session ${o.sessionId} on ${o.group}:${o.port} via ${note.interfaceAddress}`;
  return `${what} ${who}${o.startsInMs > 0 ? `, starting in ${Math.ceil(o.startsInMs / 1000)} s` : ''}`;
}
