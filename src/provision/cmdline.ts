/**
 * The `trowel.*` kernel arguments (docs/provisioning.md, "Kernel arguments"),
 * parsed and checked (pure). The kernel splits its command line at spaces
 * outside double quotes and drops the quotes (lib/cmdline.c next_arg), so
 * `trowel.hostname="a b"` is one argument; a bare `trowel.wipe` means 1.
 */
import { TrowelError } from '../errors.ts';
import { LAYOUTS, type Layout } from '../disks/plan.ts';
import { ARCHES, type Arch } from '../pool/names.ts';

export const MODES = ['unattended', 'tui'] as const;
export type Mode = (typeof MODES)[number];
/** http: download; multicast: receive the server's session; tee: download and send it on as a session on this segment. */
export const TRANSPORTS = ['http', 'multicast', 'tee'] as const;
export type StreamTransport = (typeof TRANSPORTS)[number];
export const ACTIONS = ['discover', 'provision'] as const;
/** Diagnostics run during provisioning: `dd` compares the disk's own write rate with the receive's. */
export const BENCHES = ['dd'] as const;

export interface KernelArgs {
  server?: string;
  mac?: string;
  token?: string;
  action?: (typeof ACTIONS)[number];
  mode?: Mode;
  template?: string;
  version?: string;
  arch?: Arch;
  disk?: string;
  layout?: Layout;
  wipe?: boolean;
  hostname?: string;
  /** Base64 SPKI DER of the pinned ed25519 key. */
  key?: string;
  transport?: StreamTransport;
  bench?: (typeof BENCHES)[number];
}

export interface ParsedCmdline {
  args: KernelArgs;
  /** `trowel.*` names this version does not know (logged, not fatal: a newer server may send more). */
  unknown: string[];
}

/** Splits a kernel command line into `name[=value]` words, the way the kernel does. */
export function splitCmdline(cmdline: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let started = false;
  for (const ch of cmdline) {
    if (ch === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

export function parseCmdline(cmdline: string): ParsedCmdline {
  const args: KernelArgs = {};
  const unknown: string[] = [];
  for (const word of splitCmdline(cmdline)) {
    if (!word.startsWith('trowel.')) continue;
    const eq = word.indexOf('=');
    const name = (eq < 0 ? word : word.slice(0, eq)).slice('trowel.'.length);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    if (!setArg(args, name, value)) unknown.push(`trowel.${name}`);
  }
  return { args, unknown };
}

/** @private Returns false for an unknown name; throws for a known name with a bad value. */
function setArg(args: KernelArgs, name: string, value: string | undefined): boolean {
  const text = (): string => {
    if (value === undefined || value === '') throw bad(name, value, 'it needs a value');
    return value;
  };
  switch (name) {
    case 'server': {
      const v = text();
      if (!/^https?:\/\/[^\s/]+/.test(v)) throw bad(name, v, 'it must be an http:// or https:// URL');
      args.server = v.replace(/\/+$/, '');
      return true;
    }
    case 'mac': args.mac = text().toLowerCase(); return true;
    case 'token': args.token = text(); return true;
    case 'action': args.action = oneOf(name, text(), ACTIONS); return true;
    case 'mode': args.mode = oneOf(name, text(), MODES); return true;
    case 'template': args.template = text(); return true;
    case 'version': args.version = text(); return true;
    case 'arch': args.arch = oneOf(name, text(), ARCHES); return true;
    case 'disk': args.disk = text(); return true;
    case 'layout': args.layout = oneOf(name, text(), LAYOUTS); return true;
    case 'wipe': args.wipe = parseFlag(name, value); return true;
    case 'hostname': args.hostname = text(); return true;
    case 'key': args.key = text(); return true;
    case 'transport': args.transport = oneOf(name, text(), TRANSPORTS); return true;
    case 'bench': args.bench = oneOf(name, text(), BENCHES); return true;
    default: return false;
  }
}

/** @private */
function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw bad(name, value, `it must be one of ${allowed.join(', ')}`);
}

/** @private A bare flag, 1/0, yes/no, true/false, on/off. */
function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined || ['1', 'yes', 'true', 'on'].includes(value)) return true;
  if (['0', 'no', 'false', 'off'].includes(value)) return false;
  throw bad(name, value, 'it must be 1 or 0');
}

/** @private */
function bad(name: string, value: string | undefined, why: string): TrowelError {
  const shown = value === undefined ? `trowel.${name}` : `trowel.${name}=${value.length > 60 ? `${value.slice(0, 57)}...` : value}`;
  return new TrowelError('EKERNELARG', `Cannot use kernel argument ${shown}: ${why}`, { hint: 'see docs/provisioning.md, "Kernel arguments"' });
}
