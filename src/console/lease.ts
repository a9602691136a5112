/**
 * The server a DHCP lease points at. The PXE image's udhcpc script
 * (buildroot-overlay/etc/udhcpc/default.script) writes the lease's
 * fields to /run/trowel-lease as KEY=value lines; the next-server address
 * (siaddr, RFC 2131 §2) is the machine trowel's DHCP sent it to, and its
 * HTTP API listens on trowel's default port unless the boot said otherwise.
 */
import { readFile } from 'node:fs/promises';

export const LEASE_FILE = '/run/trowel-lease';
const DEFAULT_HTTP_PORT = 8080;

/** `http://<next-server>:8080` from the lease file's text, or undefined (pure). */
export function serverFromLease(text: string): string | undefined {
  const fields = new Map(text.split('\n').map((l) => l.trim()).filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const address = [fields.get('siaddr'), fields.get('serverid')].find((a) => a !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(a) && a !== '0.0.0.0');
  return address ? `http://${address}:${DEFAULT_HTTP_PORT}` : undefined;
}

export async function readLeaseServer(path = LEASE_FILE): Promise<string | undefined> {
  return serverFromLease(await readFile(path, 'utf8').catch(() => ''));
}
