// What a controller reads of the log: the global facts (`g.>`, always) and each slot it owns
// (`s.<slot>.>`, one ordered consumer per slot: nats-server 2.9 takes one filter per consumer).
// Acquiring a slot loads that slot's newest snapshot and reads its tail; the slot is ready once
// its reader has caught up and the global facts are folded to the log's end as of then. Releasing
// a slot stops its reader and drops its state, so its memory comes back. Every envelope goes to
// the fold given by the caller; envelopes of a part already folded past are ignored by evolve.

import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { advanceGlobalThrough, settleParts } from '../../libs/core/evolve.js';
import { applyPartSnapshot, dropSlot, type SnapshotPart } from '../../libs/core/snapshot.js';
import type { State } from '../../libs/core/state.js';
import type { Envelope } from '../../libs/events/types.js';
import { openLogReader, type LogReader } from '../../libs/nats/log-reader.js';
import { lastSeqOfPart, loadPartSnapshot } from '../../libs/nats/snapshots.js';
import { GLOBAL_FILTER, slotFilter } from '../../libs/topology/names.js';

export interface SlotReadingOptions {
  readonly nc: NatsConnection;
  readonly state: State;
  readonly slots: number;
  /** The fold: called once per valid envelope of any part read. Must not throw. */
  readonly onEnvelope: (env: Envelope) => void;
  readonly onInvalid: (msg: JsMsg, reason: string) => void;
  readonly log: Logger;
}

/** At most this many slots are loaded and caught up at once (a cold start acquires them all). */
const ACQUIRE_CONCURRENCY = 8;
const WAIT_POLL_MS = 5;

export class SlotReading {
  private global: LogReader | undefined;
  private readonly readers = new Map<number, LogReader>();
  /** Per slot, the last acquire or release still running: the next one waits for it. */
  private readonly pending = new Map<number, Promise<void>>();
  private stopped = false;
  /** The position of the snapshot each part was loaded from (absent: read from the start). */
  private readonly loaded = new Map<SnapshotPart, number>();
  /** Log messages delivered to this controller, all readers together (valid or not). */
  read = 0;

  constructor(private readonly o: SlotReadingOptions) {}

  /** Loads the global facts' snapshot and reads them up to the log's end; then follows them live. */
  async startGlobal(): Promise<{ fromSeq: number; snapshot: string }> {
    const snap = await loadPartSnapshot(this.o.nc, 'global', this.o.slots);
    if (snap.found) {
      applyPartSnapshot(this.o.state, snap.data);
      this.loaded.set('global', snap.data.seq);
    }
    const fromSeq = snap.found ? snap.data.seq + 1 : 1;
    this.global = await this.open('global', fromSeq);
    await this.global.caughtUp;
    return { fromSeq, snapshot: snap.found ? `global facts at seq ${snap.data.seq}` : snap.reason };
  }

  /**
   * Starts reading these slots (each from its newest snapshot) and resolves once each has caught
   * up and the global facts are folded up to the log's end as of then: a new owner knows every
   * command already in flight before it decides.
   */
  async acquire(slots: readonly number[]): Promise<void> {
    const started = Date.now();
    const queue = [...slots];
    const stats = { fromSnapshots: 0, events: 0, snapshotSeqs: [] as number[] };
    const worker = async (): Promise<void> => {
      for (let slot = queue.shift(); slot !== undefined && !this.stopped; slot = queue.shift()) {
        const s = slot;
        await this.serial(s, () => this.startSlot(s, stats));
      }
    };
    await Promise.all(Array.from({ length: Math.min(ACQUIRE_CONCURRENCY, slots.length) }, worker));
    // Parts loaded from snapshots taken at other points are joined by evolve's rules.
    settleParts(this.o.state);
    await this.globalFoldedToEnd();
    this.o.log.info(
      { slots: slots.length, fromSnapshots: stats.fromSnapshots, oldestSnapshot: stats.snapshotSeqs.length ? Math.min(...stats.snapshotSeqs) : undefined, events: stats.events, ms: Date.now() - started },
      'slots read up',
    );
  }

  /** Stops reading a slot and forgets its state (its memory comes back). */
  release(slot: number): Promise<void> {
    return this.serial(slot, async () => {
      const reader = this.readers.get(slot);
      this.readers.delete(slot);
      if (reader) await reader.stop();
      dropSlot(this.o.state, slot);
    });
  }

  /** The position of the snapshot a part was loaded from, if it was. */
  loadedFrom(part: SnapshotPart): number | undefined {
    return this.loaded.get(part);
  }

  /** The slots being read now. */
  reading(): number[] {
    return [...this.readers.keys()].sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.pending.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.readers.values()].map((r) => r.stop()));
    this.readers.clear();
    await this.global?.stop();
  }

  private async startSlot(slot: number, stats: { fromSnapshots: number; events: number; snapshotSeqs: number[] }): Promise<void> {
    if (this.readers.has(slot) || this.stopped) return;
    const started = Date.now();
    this.o.log.debug({ shard: slot }, 'slot: loading its snapshot');
    const snap = await loadPartSnapshot(this.o.nc, slot, this.o.slots);
    this.o.log.debug({ shard: slot, found: snap.found, ms: Date.now() - started }, 'slot: snapshot looked up');
    this.loaded.delete(slot);
    if (snap.found) {
      applyPartSnapshot(this.o.state, snap.data);
      this.loaded.set(slot, snap.data.seq);
      stats.fromSnapshots++;
      stats.snapshotSeqs.push(snap.data.seq);
    } else {
      dropSlot(this.o.state, slot);
    }
    const fromSeq = snap.found ? snap.data.seq + 1 : 1;
    const reader = await this.open(slot, fromSeq);
    this.readers.set(slot, reader);
    this.o.log.debug({ shard: slot, fromSeq }, 'slot: reading');
    const caught = await reader.caughtUp;
    stats.events += caught.count;
    this.o.log.debug({ shard: slot, fromSeq, events: caught.count, ms: Date.now() - started, snapshot: snap.found ? snap.data.seq : snap.reason }, 'slot read up');
  }

  private async globalFoldedToEnd(): Promise<void> {
    const target = await lastSeqOfPart(this.o.nc, 'global');
    while (this.o.state.global.seq < target && this.o.state.globalThrough < target && !this.stopped) {
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }

  private open(part: SnapshotPart, fromSeq: number): Promise<LogReader> {
    return openLogReader({
      nc: this.o.nc,
      filter: part === 'global' ? GLOBAL_FILTER : slotFilter(part),
      fromSeq,
      onEnvelope: (env) => {
        this.read++;
        try {
          this.o.onEnvelope(env);
        } catch (err) {
          this.o.log.error({ err, seq: env.seq, subject: env.subject, type: env.event.type }, 'folding an event failed');
        }
      },
      onInvalid: (msg, reason) => {
        this.read++;
        // A global message set aside is still a global position passed (warm-up waits for it).
        if (part === 'global') advanceGlobalThrough(this.o.state, msg.seq);
        this.o.onInvalid(msg, reason);
      },
      log: this.o.log.child({ part: part === 'global' ? 'global' : `slot ${part}` }),
    });
  }

  private serial(slot: number, fn: () => Promise<void>): Promise<void> {
    const before = this.pending.get(slot) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(fn);
    this.pending.set(slot, next);
    void next.finally(() => {
      if (this.pending.get(slot) === next) this.pending.delete(slot);
    }).catch(() => undefined);
    return next;
  }
}
