/**
 * Prometheus counters and gauges, rendered in the text exposition format
 * (version 0.0.4) for `GET /metrics`. Servers receive a registry from their
 * caller instead of using a global, so tests and several servers in one
 * process don't share counts.
 */
type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}

class Series {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly values = new Map<string, number>();
  /** The labels behind each key of `values`, so readers can match on them. */
  readonly labels = new Map<string, Labels>();

  constructor(name: string, help: string, type: 'counter' | 'gauge') {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  /** Drops one series (a multicast session that ended long ago), so labels per session stay bounded. */
  remove(labels: Labels): void {
    this.values.delete(labelKey(labels));
  }

  /** Sum over every label set that includes all of `match` (all series when empty). */
  total(match: Labels = {}): number {
    let sum = 0;
    for (const [key, value] of this.values) {
      const labels = this.labels.get(key) ?? {};
      if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += value;
    }
    return sum;
  }

  /** @private Records a label set the first time it is used. */
  protected keyOf(labels: Labels): string {
    const key = labelKey(labels);
    if (!this.labels.has(key)) this.labels.set(key, { ...labels });
    return key;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

export class Counter extends Series {
  inc(labels: Labels = {}, by = 1): void {
    const key = this.keyOf(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
}

export class Gauge extends Series {
  set(value: number, labels: Labels = {}): void {
    this.values.set(this.keyOf(labels), value);
  }

  add(by: number, labels: Labels = {}): void {
    const key = this.keyOf(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
}

export class MetricsRegistry {
  private readonly series = new Map<string, Series>();

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help, 'counter'), Counter);
  }

  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help, 'gauge'), Gauge);
  }

  /**
   * The sum of a metric over the label sets that include `match`; 0 for a
   * metric no server registered (a server that is not running counts nothing).
   */
  total(name: string, match: Labels = {}): number {
    return this.series.get(name)?.total(match) ?? 0;
  }

  render(): string {
    return [...this.series.values()].map((s) => s.render()).join('\n') + '\n';
  }

  private register<T extends Series>(name: string, make: () => T, kind: new (...a: never[]) => T): T {
    const existing = this.series.get(name);
    if (existing) {
      if (!(existing instanceof kind)) throw new TypeError(`Cannot register metric ${name}: already registered as ${existing.type}`);
      return existing;
    }
    const created = make();
    this.series.set(name, created);
    return created;
  }
}
