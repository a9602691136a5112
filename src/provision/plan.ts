/**
 * The plan a machine runs: the server's plan for it (`GET
 * /api/v1/machines/<mac>/plan`) merged with the kernel arguments, which win
 * field by field (docs/provisioning.md), then defaults. Pure; every field is
 * checked here, whoever sent it, before any of it is used.
 */
import { TrowelError } from '../errors.ts';
import { LAYOUTS, type Layout } from '../disks/plan.ts';
import { ARCHES, LATEST, validateName, validateVersion, type Arch } from '../pool/names.ts';
import { MODES, TRANSPORTS, type KernelArgs, type Mode, type StreamTransport } from './cmdline.ts';

/** What the server holds for the machine (any field may be missing). */
export interface ServerPlan {
  template?: string;
  arch?: string;
  version?: string;
  disk?: string;
  layout?: string;
  wipe?: boolean;
  hostname?: string;
  mode?: string;
}

export interface ProvisionPlan {
  template: string;
  arch: Arch;
  /** A version or `latest`. */
  version: string;
  /** `auto`, a /dev path or a serial. */
  disk: string;
  layout: Layout;
  wipe: boolean;
  hostname: string;
  mode: Mode;
  transport: StreamTransport;
  /** Where each field came from, for the log. */
  sources: Record<'template' | 'arch' | 'version' | 'disk' | 'layout' | 'wipe' | 'hostname' | 'mode', 'kernel' | 'server' | 'default'>;
}

export interface PlanDefaults {
  /** The running kernel's arch. */
  arch: Arch;
  /** The machine's MAC, for the default hostname. */
  mac?: string;
}

export function mergePlan(server: ServerPlan | null, args: KernelArgs, defaults: PlanDefaults): ProvisionPlan {
  const s = server ?? {};
  const sources = {} as ProvisionPlan['sources'];
  const pick = <K extends keyof ProvisionPlan['sources']>(key: K, kernel: unknown, fromServer: unknown, fallback: unknown): unknown => {
    const [source, value] = kernel !== undefined ? ['kernel', kernel] as const
      : fromServer !== undefined && fromServer !== null ? ['server', fromServer] as const
      : ['default', fallback] as const;
    sources[key] = source;
    return value;
  };
  const template = pick('template', args.template, s.template, undefined);
  if (template === undefined) {
    throw new TrowelError('ENOPLAN', `Cannot provision${defaults.mac ? ` ${defaults.mac}` : ''}: no template is set`, {
      hint: server === null ? 'the server holds no plan for this machine: set one with "trowel machines set-plan", or pass trowel.template=' : 'add a template to the plan',
    });
  }
  const version = text('version', pick('version', args.version, s.version, LATEST));
  return {
    template: validateName(text('template', template)),
    arch: oneOf('arch', pick('arch', args.arch, s.arch, defaults.arch), ARCHES),
    version: version === LATEST ? LATEST : validateVersion(version),
    disk: text('disk', pick('disk', args.disk, s.disk, 'auto')),
    layout: oneOf('layout', pick('layout', args.layout, s.layout, 'auto'), LAYOUTS),
    wipe: flag(pick('wipe', args.wipe, s.wipe, false)),
    hostname: validateHostname(text('hostname', pick('hostname', args.hostname, s.hostname, defaultHostname(defaults.mac)))),
    mode: oneOf('mode', pick('mode', args.mode, s.mode, 'unattended'), MODES),
    transport: oneOf('transport', args.transport ?? 'http', TRANSPORTS),
    sources,
  };
}

/** `trowel-525400123456` from the MAC, so machines deployed from one plan differ. */
export function defaultHostname(mac: string | undefined): string {
  return mac ? `trowel-${mac.toLowerCase().replace(/[^0-9a-f]/g, '')}` : 'trowel';
}

/** A host name (RFC 1123 §2.1): dot-separated labels of letters, digits and "-", not at either end; at most 253 characters. */
export function validateHostname(name: string): string {
  const ok = name.length <= 253 && name.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
  if (!ok) {
    throw new TrowelError('EBADHOSTNAME', `Cannot use host name ${JSON.stringify(name)}: it must be letters, digits and "-" in dot-separated labels of at most 63`, {
      hint: 'e.g. web-01 or web-01.example.org',
    });
  }
  return name;
}

/** @private */
function text(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw badField(field, value, 'it must be a non-empty string');
  return value;
}

/** @private */
function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw badField(field, value, `it must be one of ${allowed.join(', ')}`);
}

/** @private */
function flag(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw badField('wipe', value, 'it must be true or false');
}

/** @private */
function badField(field: string, value: unknown, why: string): TrowelError {
  return new TrowelError('EBADPLAN', `Cannot use the plan's ${field} ${JSON.stringify(value)}: ${why}`);
}
