/**
 * Template names, arches, versions and pool subvolume names (pure), as
 * docs/templates.md defines them. Everything a user or a peer sends is
 * checked here before it becomes part of a path: a name that passes has no
 * "/", no "..", no ":" and nothing outside ASCII.
 */
import { TrowelError } from '../errors.ts';

export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface TemplateRef {
  name: string;
  arch: Arch;
  version: string;
}

export const MAX_NAME_LENGTH = 128;
/** Stands for the newest version wherever a version is looked up (never stored). */
export const LATEST = 'latest';
export const SUBVOLUME_PREFIX = '@template:';

const NAME_HINT = 'a template name is <namespace>.<Identifier>, e.g. org.example.Desktop';
const LABEL = /^[a-z0-9][a-z0-9-]*$/;
const IDENTIFIER = /^[A-Z][A-Za-z0-9]*$/;
const VERSION = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function isValidName(name: string): boolean {
  return nameProblem(name) === undefined;
}

export function isArch(arch: string): arch is Arch {
  return (ARCHES as readonly string[]).includes(arch);
}

export function isValidVersion(version: string): boolean {
  return versionProblem(version) === undefined;
}

/** Returns the name, or throws TrowelError EBADNAME saying what is wrong with it. */
export function validateName(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw new TrowelError('EBADNAME', `Cannot use template name ${quote(name)}: ${problem}`, { hint: NAME_HINT });
  return name;
}

/** Returns the arch, or throws TrowelError EBADARCH. */
export function validateArch(arch: string): Arch {
  if (isArch(arch)) return arch;
  const lower = arch.toLowerCase();
  const hint = isArch(lower) ? `did you mean ${lower}?` : undefined;
  throw new TrowelError('EBADARCH', `Cannot use arch ${quote(arch)}: it must be one of ${ARCHES.join(', ')}`, { hint });
}

/** Returns the version, or throws TrowelError EBADVERSION. */
export function validateVersion(version: string): string {
  const problem = versionProblem(version);
  if (problem) {
    throw new TrowelError('EBADVERSION', `Cannot use version ${quote(version)}: ${problem}`, {
      hint: 'a version is a UTC timestamp YYYYMMDDThhmmssZ, e.g. 20261122T023710Z',
    });
  }
  return version;
}

/** Checks all three parts; the first bad one decides the error. */
export function validateRef(ref: { name: string; arch: string; version: string }): TemplateRef {
  return { name: validateName(ref.name), arch: validateArch(ref.arch), version: validateVersion(ref.version) };
}

/** The version for a publish at `date`: its UTC time to the second. */
export function newVersion(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Cannot make a version: the date is invalid');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** The instant a (valid) version names. */
export function versionDate(version: string): Date {
  const m = VERSION.exec(validateVersion(version))!;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

/**
 * Orders versions oldest first (negative when a is older). The fixed-width
 * UTC format makes string order time order; sort with `(a, b) => compareVersions(b, a)`
 * for newest first.
 */
export function compareVersions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `@template:<name>:<arch>:<version>`; the parts are validated first. */
export function subvolumeName(ref: TemplateRef): string {
  const { name, arch, version } = validateRef(ref);
  return `${SUBVOLUME_PREFIX}${name}:${arch}:${version}`;
}

/** The reference a pool subvolume name stands for, or undefined for anything else. */
export function parseSubvolumeName(s: string): TemplateRef | undefined {
  if (!s.startsWith(SUBVOLUME_PREFIX)) return undefined;
  const parts = s.slice(SUBVOLUME_PREFIX.length).split(':');
  if (parts.length !== 3) return undefined;
  const [name, arch, version] = parts as [string, string, string];
  if (!isValidName(name) || !isArch(arch) || !isValidVersion(version)) return undefined;
  return { name, arch, version };
}

/** @private Why `name` breaks the rules, or undefined when it doesn't. */
function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  if (!/^[A-Za-z0-9.-]+$/.test(name)) return 'it may contain only ASCII letters, digits, "-" and "."';
  const labels = name.split('.');
  const identifier = labels.pop()!;
  if (labels.length === 0) return 'it needs a lowercase namespace before the identifier, like org.example';
  for (const label of labels) {
    if (!LABEL.test(label)) {
      return label === ''
        ? 'it has an empty namespace label'
        : `namespace label ${quote(label)} must be lowercase letters, digits and "-", starting with a letter or digit`;
    }
  }
  if (!IDENTIFIER.test(identifier)) {
    return identifier === ''
      ? 'it ends without an identifier'
      : `identifier ${quote(identifier)} must start with an uppercase letter and contain only letters and digits`;
  }
  return undefined;
}

/** @private */
function versionProblem(version: string): string | undefined {
  const m = VERSION.exec(version);
  if (!m) return 'it is not of the form YYYYMMDDThhmmssZ';
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  // Date rolls 20261131 over to December 1st and rejects hour 24; a real version survives the round trip.
  if (Number.isNaN(date.getTime()) || newVersion(date) !== version) return 'it is not a real UTC date and time';
  return undefined;
}

/** @private Quoted for an error line: escapes control characters and cuts what is too long to read. */
function quote(s: string): string {
  const shown = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return JSON.stringify(shown);
}
