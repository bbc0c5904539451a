// Time on the log for the controller's decisions. Reconcile decides on the log's own clock (the
// stream time of the last event folded), so when a decision waits for time to pass (a pod
// available after minReadySeconds, a back-off) the shell asks for a ClockTicked on the slot at
// that moment; folding it is what lets reconcile see the new time.
//
// No wake-up may be lost: a wake-up that comes due while the slot is held but not usable (warming
// up, a lease renewal lapsed during a bus outage) is handed back as deferred work, and so is a
// tick that cannot be published; the controller's periodic resync is the net below both.

import type { Logger } from 'pino';
import type { DsKey } from '../../libs/core/state.js';

/** A tick never comes sooner than this after it was asked for (guards against clock skew loops). */
const MIN_TICK_MS = 20;
const PUBLISH_RETRY_MS = 1000;
/** A tick published but not folded back after this long no longer blocks the next one. */
const TICK_IN_FLIGHT_MS = 10_000;

export interface SlotClockOptions {
  /** Publishes a ClockTicked for `slot` (resolves once the log has it). */
  readonly publishTick: (slot: number, reason: string) => Promise<unknown>;
  readonly log: Logger;
  /** The slot of a DaemonSet key, if it still exists. */
  readonly slotOf: (key: DsKey) => number | undefined;
  /** Whether decisions for `slot` may be made now. */
  readonly owns: (slot: number) => boolean;
  /** Whether `slot` is held (owned or about to be usable again): its work is deferred, not dropped. */
  readonly holds: (slot: number) => boolean;
  /** Work for `key` (or every DaemonSet of `slot`) to redo once its slot is usable. */
  readonly defer: (target: { key: DsKey } | { slot: number }) => void;
}

export class SlotClock {
  private readonly timers = new Map<DsKey, { atMs: number; timer: NodeJS.Timeout }>();
  /** Slots with a ClockTicked in flight (published, not yet folded back), and since when. */
  private readonly ticking = new Map<number, number>();
  private stopped = false;

  constructor(private readonly o: SlotClockOptions) {}

  /** Time must pass in the log for `key` at `atMs`: a ClockTicked for its slot then. */
  wakeAt(key: DsKey, atMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing && existing.atMs <= atMs) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      const slot = this.o.slotOf(key);
      if (slot === undefined || this.stopped) return;
      if (this.o.owns(slot)) this.tick(slot, 'wake');
      else if (this.o.holds(slot)) this.o.defer({ key });
    }, Math.max(MIN_TICK_MS, atMs - Date.now()));
    timer.unref();
    this.timers.set(key, { atMs, timer });
  }

  /** A ClockTicked of `slot` was folded. */
  ticked(slot: number): void {
    this.ticking.delete(slot);
  }

  tick(slot: number, reason: string): void {
    const since = this.ticking.get(slot);
    if (since !== undefined && Date.now() - since < TICK_IN_FLIGHT_MS) return;
    this.ticking.set(slot, Date.now());
    this.o.publishTick(slot, reason).catch((err: unknown) => {
      this.ticking.delete(slot);
      this.o.log.error({ err, shard: slot }, 'clock tick publish failed: retrying');
      setTimeout(() => {
        if (this.stopped) return;
        if (this.o.owns(slot)) this.tick(slot, reason);
        else if (this.o.holds(slot)) this.o.defer({ slot });
      }, PUBLISH_RETRY_MS).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
