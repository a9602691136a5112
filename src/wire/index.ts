export { ByteReader, WireError } from './reader.ts';
export { ByteWriter, ipv4ToBytes } from './writer.ts';
export { ipv4ToNumber, numberToIpv4, isIpv4 } from './ipv4.ts';
export { normalizeMac } from './mac.ts';
