// Parsing of environment variables into a frozen config, every bad variable reported at once.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems while reading variables; `done()` throws them all together. */
export class EnvReader {
  private readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number`);
      return fallback;
    }
    if (range.min !== undefined && n < range.min) this.problems.push(`${name}=${n}: must be >= ${range.min}`);
    if (range.max !== undefined && n > range.max) this.problems.push(`${name}=${n}: must be <= ${range.max}`);
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
    return fallback;
  }

  /** `k=v,k2=v2` → a map; empty → {}. */
  labels(name: string): Record<string, string> {
    const raw = this.env[name];
    const out: Record<string, string> = {};
    if (!raw) return out;
    for (const part of raw.split(',')) {
      const p = part.trim();
      if (!p) continue;
      const i = p.indexOf('=');
      if (i <= 0) {
        this.problems.push(`${name}: ${JSON.stringify(p)} is not key=value`);
        continue;
      }
      out[p.slice(0, i)] = p.slice(i + 1);
    }
    return out;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  done(): void {
    if (this.problems.length) throw new ConfigError(this.problems);
  }
}
