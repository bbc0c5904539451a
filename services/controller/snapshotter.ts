// The snapshotter: writes the folded state to the snapshot store when enough has been folded since
// the last one (by count or by time), so a restarting controller or dsctl folds only the tail.
// One writer at a time: the caller says whether this controller is it (the owner of slot 0).

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { State } from '../../libs/core/state.js';
import { saveSnapshot } from '../../libs/nats/snapshots.js';

const CHECK_EVERY_MS = 1000;

export interface SnapshotPolicy {
  /** Events folded since the last snapshot that make one due (0: never by count). */
  readonly everyEvents: number;
  /** Time since the last snapshot that makes one due when anything was folded (0: never by time). */
  readonly everyMs: number;
}

/** Whether a snapshot is due. PURE. */
export function snapshotDue(policy: SnapshotPolicy, sinceEvents: number, sinceMs: number): boolean {
  const byCount = policy.everyEvents > 0 && sinceEvents >= policy.everyEvents;
  const byTime = policy.everyMs > 0 && sinceEvents > 0 && sinceMs >= policy.everyMs;
  return byCount || byTime;
}

export interface SnapshotterOptions {
  readonly nc: NatsConnection;
  readonly state: State;
  readonly slots: number;
  readonly policy: SnapshotPolicy;
  /** The sequence of the snapshot the state was loaded from (0: none). */
  readonly fromSeq: number;
  /** Whether this controller writes snapshots now. */
  readonly writes: () => boolean;
  readonly log: Logger;
}

export function startSnapshotter(o: SnapshotterOptions): { stop(): void } {
  let last = { seq: o.fromSeq, atMs: Date.now() };
  let writing = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (writing || stopped || !o.writes() || !snapshotDue(o.policy, o.state.seq - last.seq, Date.now() - last.atMs)) return;
    writing = true;
    const started = Date.now();
    saveSnapshot(o.nc, o.state, o.slots)
      .then(
        ({ seq, bytes }) => {
          last = { seq, atMs: Date.now() };
          o.log.info({ seq, bytes, ms: Date.now() - started }, 'snapshot written');
        },
        (err: unknown) => o.log.error({ err }, 'snapshot failed'),
      )
      .finally(() => (writing = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  return {
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
