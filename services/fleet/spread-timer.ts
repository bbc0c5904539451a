// One timer that fires each member of a changing set once per interval, spread evenly over
// the interval: 10,000 nodes heartbeating every 10 s send about 100 heartbeats every 100 ms
// instead of 10,000 at once. Members are addressed by index; the set may grow meanwhile.

export interface SpreadOptions {
  readonly intervalMs: number;
  /** How many members there are right now. */
  readonly size: () => number;
  /** Fire member `index` (0 ≤ index < size()). */
  readonly fire: (index: number) => void;
  /** Default Date.now. */
  readonly now?: () => number;
}

export interface SpreadTimer {
  stop(): void;
}

/** Tick period: fine enough to spread, coarse enough to stay cheap. */
export function spreadTickMs(intervalMs: number): number {
  return Math.max(10, Math.min(100, Math.floor(intervalMs / 20)));
}

export function startSpreadTimer(opts: SpreadOptions): SpreadTimer {
  const now = opts.now ?? Date.now;
  let last = now();
  let credit = 0;
  let cursor = 0;
  const tick = (): void => {
    const t = now();
    const n = opts.size();
    const elapsed = t - last;
    last = t;
    if (n === 0) return;
    // Earned beats since the last tick; a stalled event loop catches up at most one round.
    credit = Math.min(n, credit + (elapsed * n) / opts.intervalMs);
    const due = Math.floor(credit);
    credit -= due;
    for (let i = 0; i < due; i++) {
      if (cursor >= n) cursor = 0;
      opts.fire(cursor);
      cursor++;
    }
  };
  const timer = setInterval(tick, spreadTickMs(opts.intervalMs));
  return { stop: () => clearInterval(timer) };
}
