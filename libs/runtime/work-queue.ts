// A work queue in client-go's sense, for a controller that reconciles keys in passes: adds are
// deduplicated (a key waiting is not queued twice), a key can be put back after a delay
// (rate-limited requeue: the earliest pending delay wins), passes never overlap, and shutDown()
// stops new passes and waits for the running one. Keys added while a pass runs are taken by the
// next one.
//
// Pacing: the next pass starts after as long as the last pass said it computed (capped), so a
// storm of events (10,000 pods becoming ready) is folded between passes instead of queueing one
// O(nodes) pass per event; a cheap pass lets the next one run at once.

export interface WorkQueueOptions<K> {
  /** One pass over `keys`. Resolves to the CPU-bound part of its cost in ms, which paces the next pass. */
  readonly process: (keys: K[]) => Promise<number>;
  /** Upper bound of the pause between passes. */
  readonly maxPaceMs: number;
  /** A pass that threw: the queue goes on with the next one. */
  readonly onError: (err: unknown) => void;
}

export class WorkQueue<K> {
  private readonly pending = new Set<K>();
  private readonly delayed = new Map<K, { atMs: number; timer: NodeJS.Timeout }>();
  private scheduled = false;
  private started = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private lastCostMs = 0;

  constructor(private readonly opts: WorkQueueOptions<K>) {}

  /** Passes begin only after start(); keys added before are kept. */
  start(): void {
    this.started = true;
    this.schedule();
  }

  add(key: K): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.schedule();
  }

  /** Adds `key` after `delayMs`, unless an earlier delayed add of it is already waiting. */
  addAfter(key: K, delayMs: number, nowMs = Date.now()): void {
    if (this.stopped) return;
    const atMs = nowMs + Math.max(0, delayMs);
    const existing = this.delayed.get(key);
    if (existing && existing.atMs <= atMs) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, Math.max(0, delayMs));
    timer.unref();
    this.delayed.set(key, { atMs, timer });
  }

  /** Drops a waiting key (its owner is gone): neither its pending add nor a delayed one runs. */
  forget(key: K): void {
    this.pending.delete(key);
    const d = this.delayed.get(key);
    if (d) clearTimeout(d.timer);
    this.delayed.delete(key);
  }

  /** Keys waiting for a pass (delayed ones not included). */
  get size(): number {
    return this.pending.size;
  }

  /** The running pass, if any (a handover waits for it before releasing a slot). */
  get current(): Promise<void> | undefined {
    return this.running;
  }

  /** No new pass starts; resolves once the running one (if any) has finished. */
  async shutDown(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.pending.clear();
    if (this.running) await this.running;
  }

  private schedule(): void {
    if (this.scheduled || this.running || !this.started || this.stopped || this.pending.size === 0) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    };
    const pace = Math.min(this.lastCostMs, this.opts.maxPaceMs);
    if (pace < 1) setImmediate(run);
    else setTimeout(run, pace);
  }

  private async drain(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const keys = [...this.pending];
      this.pending.clear();
      try {
        this.lastCostMs = await this.opts.process(keys);
      } catch (err) {
        this.opts.onError(err);
      }
    }
  }
}
