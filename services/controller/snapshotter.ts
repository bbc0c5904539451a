// The snapshotter: writes the parts of the folded state this controller holds to the snapshot
// store when enough has been folded since the last round (by count or by time): each owned slot's
// part, and the global facts' part if it owns slot 0 (every controller holds the global facts; one
// writes them). A restarting controller, or a slot's next owner, then folds only the tail.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { SnapshotPart } from '../../libs/core/snapshot.js';
import type { State } from '../../libs/core/state.js';
import { savePartSnapshot, savePartSnapshots } from '../../libs/nats/snapshots.js';

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

/** The parts whose position moved since they were last written. PURE. */
export function partsToWrite(state: State, held: readonly SnapshotPart[], written: ReadonlyMap<SnapshotPart, number>): SnapshotPart[] {
  return held.filter((part) => {
    const seq = part === 'global' ? state.global.seq : (state.slotParts.get(part)?.seq ?? 0);
    return seq > (written.get(part) ?? 0);
  });
}

export interface SnapshotterOptions {
  readonly nc: NatsConnection;
  readonly state: State;
  readonly slots: number;
  readonly policy: SnapshotPolicy;
  /** The parts this controller writes now (its slots, and 'global' if it owns slot 0). */
  readonly parts: () => SnapshotPart[];
  /** Events folded so far (all parts): what the policy counts. */
  readonly folded: () => number;
  /**
   * The position of the snapshot a part was loaded from; undefined when it had none (read from the
   * log's start): such a part is written at once, whatever the policy, so that the next cold start
   * of it is short.
   */
  readonly loadedFrom: (part: SnapshotPart) => number | undefined;
  readonly log: Logger;
}

export interface Snapshotter {
  /** Writes one part now (a slot about to be handed over); never throws. */
  writePart(part: SnapshotPart): Promise<void>;
  stop(): void;
}

export function startSnapshotter(o: SnapshotterOptions): Snapshotter {
  const written = new Map<SnapshotPart, number>();
  let last = { folded: o.folded(), atMs: Date.now() };
  let writing = false;
  let stopped = false;
  const write = async (part: SnapshotPart): Promise<number> => {
    const { seq, bytes } = await savePartSnapshot(o.nc, o.state, part, o.slots);
    written.set(part, seq);
    return bytes;
  };
  const timer = setInterval(() => {
    if (writing || stopped || (o.policy.everyEvents === 0 && o.policy.everyMs === 0)) return;
    const held = o.parts();
    const missing = held.filter((part) => !written.has(part) && o.loadedFrom(part) === undefined);
    const byPolicy = snapshotDue(o.policy, o.folded() - last.folded, Date.now() - last.atMs);
    if (!byPolicy && partsToWrite(o.state, missing, written).length === 0) return;
    const due = partsToWrite(o.state, byPolicy ? held : missing, written);
    if (byPolicy) last = { folded: o.folded(), atMs: Date.now() };
    if (!due.length) return;
    writing = true;
    const started = Date.now();
    (async () => {
      const saved = await savePartSnapshots(o.nc, o.state, due, o.slots);
      for (const s of saved) written.set(s.part, s.seq);
      o.log.info({ parts: due.length, bytes: saved.reduce((a, s) => a + s.bytes, 0), seq: o.state.seq, ms: Date.now() - started }, 'snapshot written');
    })()
      .catch((err: unknown) => o.log.error({ err }, 'snapshot failed'))
      .finally(() => (writing = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  return {
    async writePart(part: SnapshotPart): Promise<void> {
      try {
        await write(part);
      } catch (err) {
        o.log.warn({ err, part }, 'snapshot of a part failed');
      }
    },
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
