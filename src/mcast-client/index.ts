/** The client side of multicast: body sources for receiveTemplate (multicast, tee) and the session request. */
export { multicastBody, receiveSession, type MulticastBodyOptions } from './multicast-body.ts';
export { teeBody } from './tee-body.ts';
export { requestOffer, reportTee, type OfferAnswer, type SessionOffer } from './offer.ts';
export { describeTransport, type TransportNote } from './transport.ts';
export { localAddressFor } from './local-address.ts';
export { rangeFetcher } from './fetch-range.ts';
