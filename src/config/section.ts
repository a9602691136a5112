/**
 * A cursor over one YAML mapping that reads typed values and reports every
 * problem as `file:line:col: <path>: <problem>`. Unknown keys are rejected
 * with a did-you-mean, so a typo never silently falls back to a default.
 */
import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLMap } from 'yaml';
import { TrowelError } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';
import { parseDurationSeconds } from './duration.ts';
import { isIpv4 } from '../wire/ipv4.ts';
import { normalizeMac } from '../wire/mac.ts';

export class ConfigError extends TrowelError {
  constructor(message: string) {
    super('ECONFIG', message);
  }
}

export interface SourceInfo {
  file: string;
  lines: LineCounter;
}

export class Section {
  readonly node: YAMLMap | undefined;
  readonly path: string;
  private readonly source: SourceInfo;
  private readonly fallbackNode: Node | undefined;

  constructor(node: Node | undefined | null, path: string, source: SourceInfo, fallbackNode?: Node) {
    this.source = source;
    this.path = path;
    this.fallbackNode = fallbackNode;
    if (node && !isMap(node)) throw this.error(node, `${path || 'document'} must be a mapping`);
    this.node = (node as YAMLMap | undefined) ?? undefined;
  }

  /** Rejects any key not in `allowed`. Call once per section. */
  allowKeys(allowed: readonly string[]): this {
    for (const pair of this.node?.items ?? []) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!allowed.includes(key)) {
        const guess = didYouMean(key, allowed);
        throw this.error(pair.key as Node, `unknown key "${this.join(key)}"${guess ? ` (did you mean "${this.join(guess)}"?)` : ''}`);
      }
    }
    return this;
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  section(key: string): Section {
    return new Section(this.raw(key), this.join(key), this.source, this.node);
  }

  string(key: string, fallback?: string): string {
    const node = this.raw(key);
    if (node === undefined) return this.required(key, fallback);
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) {
      throw this.error(node, `${this.join(key)} must be a string`);
    }
    return String(node.value);
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  integer(key: string, fallback: number | undefined, min: number, max: number): number {
    const node = this.raw(key);
    if (node === undefined) return this.required(key, fallback);
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw this.error(node, `${this.join(key)} must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const node = this.raw(key);
    if (node === undefined) return fallback;
    if (!isScalar(node) || typeof node.value !== 'boolean') throw this.error(node, `${this.join(key)} must be true or false`);
    return node.value;
  }

  oneOf<T extends string>(key: string, choices: readonly T[], fallback?: T): T {
    const value = this.string(key, fallback);
    if (!(choices as readonly string[]).includes(value)) {
      const guess = didYouMean(value, choices);
      throw this.error(this.raw(key), `${this.join(key)} must be one of ${choices.join(', ')}, not "${value}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
    return value as T;
  }

  ipv4(key: string, fallback?: string): string {
    const value = this.string(key, fallback);
    if (!isIpv4(value)) throw this.error(this.raw(key), `${this.join(key)} must be an IPv4 address, not "${value}"`);
    return value;
  }

  optionalIpv4(key: string): string | undefined {
    return this.has(key) ? this.ipv4(key) : undefined;
  }

  mac(key: string): string {
    const value = this.string(key);
    const mac = normalizeMac(value);
    if (!mac) throw this.error(this.raw(key), `${this.join(key)} must be a MAC address like 52:54:00:12:34:56, not "${value}"`);
    return mac;
  }

  durationSeconds(key: string, fallback: string): number {
    const value = this.string(key, fallback);
    const seconds = parseDurationSeconds(value);
    if (seconds === undefined || seconds <= 0) {
      throw this.error(this.raw(key), `${this.join(key)} must be a duration like 90s, 15m, 1h or 2d, not "${value}"`);
    }
    return seconds;
  }

  /** A sequence of scalars or mappings; `each` receives a Section or the scalar node's reader. */
  list<T>(key: string, each: (item: Section, index: number) => T): T[] {
    const node = this.raw(key);
    if (node === undefined) return [];
    if (!isSeq(node)) throw this.error(node, `${this.join(key)} must be a list`);
    return node.items.map((item, i) => each(new Section(item as Node, `${this.join(key)}[${i}]`, this.source, node), i));
  }

  ipv4List(key: string): string[] {
    const node = this.raw(key);
    if (node === undefined) return [];
    if (!isSeq(node)) throw this.error(node, `${this.join(key)} must be a list of IPv4 addresses`);
    return node.items.map((item, i) => {
      const v = isScalar(item) ? String(item.value) : '';
      if (!isIpv4(v)) throw this.error(item as Node, `${this.join(key)}[${i}] must be an IPv4 address, not "${v}"`);
      return v;
    });
  }

  /** Builds a ConfigError positioned at `node` (or this section when absent). */
  error(node: unknown, problem: string): ConfigError {
    const at = (node as Node | undefined)?.range?.[0] ?? this.node?.range?.[0] ?? this.fallbackNode?.range?.[0];
    if (at === undefined) return new ConfigError(`${this.source.file}: ${problem}`);
    const { line, col } = this.source.lines.linePos(at);
    return new ConfigError(`${this.source.file}:${line}:${col}: ${problem}`);
  }

  private raw(key: string): Node | undefined {
    const v = this.node?.get(key, true) as Node | undefined;
    if (isScalar(v) && v.value === null) return undefined;
    return v;
  }

  private required<T>(key: string, fallback: T | undefined): T {
    if (fallback === undefined) throw this.error(undefined, `missing required key "${this.join(key)}"`);
    return fallback;
  }

  private join(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
}
