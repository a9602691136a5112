/**
 * The provisioning plan the server holds for a machine (docs/provisioning.md).
 * `parsePlan` validates untrusted input (an API body) field by field and
 * names the first bad field; the same type is what the client merges with
 * its kernel arguments.
 */
import { TrowelError } from '../errors.ts';

export const PLAN_LAYOUTS = ['auto', 'gpt-uefi', 'gpt-bios', 'mbr', 'keep', 'free'] as const;
export const PLAN_MODES = ['unattended', 'tui'] as const;
export const PLAN_ARCHES = ['x86_64', 'aarch64'] as const;

export interface MachinePlan {
  template: string;
  arch?: (typeof PLAN_ARCHES)[number];
  version?: string;
  disk?: string;
  layout?: (typeof PLAN_LAYOUTS)[number];
  wipe?: boolean;
  hostname?: string;
  mode?: (typeof PLAN_MODES)[number];
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.[A-Z][A-Za-z0-9]*$/;
const VERSION = /^(latest|\d{8}T\d{6}Z)$/;
// RFC 1123 host name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const DISK = /^(auto|\/dev\/[A-Za-z0-9/_.-]+|[A-Za-z0-9_.:-]{1,128})$/;
const FIELDS = ['template', 'arch', 'version', 'disk', 'layout', 'wipe', 'hostname', 'mode'] as const;

function bad(field: string, problem: string): TrowelError {
  return new TrowelError('EPLAN', `Cannot accept the plan: ${field} ${problem}`);
}

function optionalString(body: Record<string, unknown>, field: string, pattern: RegExp, what: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !pattern.test(v) || v.includes('..')) throw bad(field, `must be ${what}`);
  return v;
}

function optionalChoice<T extends string>(body: Record<string, unknown>, field: string, choices: readonly T[]): T | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw bad(field, `must be one of ${choices.join(', ')}`);
  return v as T;
}

export function parsePlan(input: unknown): MachinePlan {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TrowelError('EPLAN', 'Cannot accept the plan: it must be a JSON object');
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown) throw bad(`"${unknown}"`, `is not a plan field (fields: ${FIELDS.join(', ')})`);
  const template = optionalString(body, 'template', TEMPLATE_NAME, 'a template name like org.example.Desktop');
  if (!template) throw bad('template', 'is required');
  if (body.wipe !== undefined && typeof body.wipe !== 'boolean') throw bad('wipe', 'must be true or false');
  const plan: MachinePlan = {
    template,
    arch: optionalChoice(body, 'arch', PLAN_ARCHES),
    version: optionalString(body, 'version', VERSION, '"latest" or a version like 20261122T023710Z'),
    disk: optionalString(body, 'disk', DISK, '"auto", a /dev path or a disk serial'),
    layout: optionalChoice(body, 'layout', PLAN_LAYOUTS),
    wipe: body.wipe as boolean | undefined,
    hostname: optionalString(body, 'hostname', HOSTNAME, 'a host name (RFC 1123)'),
    mode: optionalChoice(body, 'mode', PLAN_MODES),
  };
  return Object.fromEntries(Object.entries(plan).filter(([, v]) => v !== undefined)) as unknown as MachinePlan;
}
