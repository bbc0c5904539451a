// Step 3, refill: every held message back at its old sequence, a filler on MIGRATION_FILLER_SUBJECT
// for every sequence the old log no longer held.

import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { HEADER_HELD_SEQ, legacyToCurrentSubject, MIGRATION_FILLER_SUBJECT, MIGRATION_STREAM, oldSubjectOfHeld, restoredHeaders } from '../../topology/legacy-layout.js';
import { LOG_STREAM } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { LogMigrationError } from './errors.js';
import { headerPairs, toHeaders } from './header-pairs.js';
import { DEFAULT_IN_FLIGHT, OrderedPipeline } from './ordered-pipeline.js';
import { readInOrder } from './ordered-reader.js';
import { progressLine } from './progress.js';
import { restartLog } from './swap.js';
import type { HeldMeta, MigrationOptions } from './types.js';

/** How long the server may remember a message id at that window (its purge runs once per window). */
const DUPLICATE_MEMORY_MS = 2_500;
/** Refills that start the new log over before giving up. */
const REFILL_ATTEMPTS = 3;

export interface RefillOptions extends MigrationOptions {
  /** Stop once the log reaches this old sequence (the rest is refilled by the next run). */
  readonly untilSeq?: number;
}

/**
 * Nats-Msg-Ids sent in the last moments: the server takes a second message with the same id for a
 * duplicate (and does not store it) while it remembers the first, for up to two duplicate windows.
 */
class RecentIds {
  private readonly sent = new Map<string, number>();

  /** Ms to wait before `id` may be sent again (0: now). */
  waitFor(id: string, nowMs: number): number {
    for (const [old, at] of this.sent) {
      if (nowMs - at < DUPLICATE_MEMORY_MS) break;
      this.sent.delete(old);
    }
    const at = this.sent.get(id);
    return at === undefined ? 0 : Math.max(0, at + DUPLICATE_MEMORY_MS - nowMs);
  }

  add(id: string, nowMs: number): void {
    this.sent.delete(id);
    this.sent.set(id, nowMs);
  }
}

/**
 * Carries the held messages back into the new log at their old sequences, from where the log ends
 * (what an interrupted run left is kept; the full check after the refill catches a bad one). A
 * message that does not land at its sequence starts the new log over, a few times at most.
 */
export async function refillLog(nc: NatsConnection, meta: HeldMeta, opts: RefillOptions = {}): Promise<{ fillers: number; dropped: Map<string, number> }> {
  const jsm = await managerOf(nc);
  const js = jetstream(nc);
  const say = progressLine(opts);
  const until = Math.min(opts.untilSeq ?? meta.state.lastSeq, meta.state.lastSeq);
  let fillers = 0;
  let dropped = new Map<string, number>();
  for (let attempt = 1; ; attempt++) {
    const log = await jsm.streams.info(LOG_STREAM);
    let next = log.state.last_seq + 1;
    if (next > until) return { fillers, dropped };
    say(`refilling ${LOG_STREAM} from sequence ${next} up to ${until}`, true);
    const pipe = new OrderedPipeline(js, LOG_STREAM, opts.inFlight ?? DEFAULT_IN_FLIGHT);
    const recent = new RecentIds();
    const runDropped = new Map<string, number>();
    const fill = async (upTo: number): Promise<void> => {
      for (; next <= upTo && !pipe.failed; next++) {
        await pipe.send(MIGRATION_FILLER_SUBJECT, new Uint8Array(0), next);
        fillers++;
      }
    };
    await readInOrder(nc, MIGRATION_STREAM, 2, async (m) => {
      const old = oldSubjectOfHeld(m.subject);
      if (old === undefined) return false; // the done marker
      const seq = Number(m.headers?.get(HEADER_HELD_SEQ));
      if (!Number.isSafeInteger(seq) || seq < 1) throw new LogMigrationError(`${MIGRATION_STREAM} seq ${m.seq}: no ${HEADER_HELD_SEQ} header`);
      if (seq < next) return true; // refilled by an earlier run
      if (seq > until || pipe.failed) return false;
      const mapped = legacyToCurrentSubject(old);
      if (!mapped.ok) throw new LogMigrationError(`${MIGRATION_STREAM} seq ${m.seq}: ${mapped.reason}`);
      await fill(seq - 1);
      const restored = restoredHeaders(headerPairs(m.headers));
      for (const d of restored.dropped) runDropped.set(d, (runDropped.get(d) ?? 0) + 1);
      const id = restored.headers.find(([k]) => k === 'Nats-Msg-Id')?.[1];
      if (id !== undefined) {
        const wait = recent.waitFor(id, Date.now());
        if (wait > 0) {
          // The old log holds this id twice (written further apart than its window): the server must forget the first.
          say(`sequence ${seq} repeats the Nats-Msg-Id ${JSON.stringify(id)} of a message just carried: waiting ${wait} ms for the server to forget it`, true);
          await pipe.settle();
          await new Promise((r) => setTimeout(r, wait));
        }
        recent.add(id, Date.now());
      }
      if (pipe.failed) return false;
      await pipe.send(mapped.subject, m.data, seq, toHeaders(restored.headers));
      next = seq + 1;
      say(`refilled up to sequence ${seq} of ${meta.state.lastSeq}`);
      return true;
    });
    // Sequences after the last held message that the old log no longer held.
    await fill(until);
    const failure = await pipe.settle();
    dropped = runDropped;
    if (!failure) continue;
    if (attempt >= REFILL_ATTEMPTS) throw failure;
    say(`a message did not land at its sequence (${failure instanceof Error ? failure.message : String(failure)}): starting ${LOG_STREAM} over`, true);
    await restartLog(jsm, meta);
    fillers = 0;
  }
}
