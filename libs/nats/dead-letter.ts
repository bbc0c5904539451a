// Setting aside a message that does not decode or validate: it is copied, unchanged, to
// `dlq.<consumer>.<class>` with the reason and its origin in headers, so a person can look at it
// (`nats stream view DS_DLQ`), and the consumer goes on. The original stays in the log (nothing is
// lost); the copy is for people.
//
// What a flood costs is bounded: copies are rate-limited per class (a token bucket: a burst, then
// a steady rate; the rest are counted, not copied), and the stream keeps at most
// DEAD_LETTERS_PER_CLASS per consumer and class, so garbage of one class cannot push out the dead
// letters of another.

import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  deadLetterSubject,
  HEADER_CONSUMER,
  HEADER_ORIGINAL_SEQ,
  HEADER_ORIGINAL_SUBJECT,
  HEADER_REASON,
} from '../topology/names.js';
import type { RejectClass } from './reject-counters.js';

export interface RejectedMessage {
  readonly subject: string;
  readonly seq?: number;
  readonly data: Uint8Array;
}

export async function setAside(js: JetStreamClient, consumer: string, rejectClass: RejectClass, msg: RejectedMessage, reason: string): Promise<void> {
  const h = headers();
  h.set(HEADER_REASON, reason.slice(0, 1024).replace(/[\r\n]/g, ' '));
  h.set(HEADER_ORIGINAL_SUBJECT, msg.subject);
  h.set(HEADER_CONSUMER, consumer);
  if (msg.seq !== undefined) h.set(HEADER_ORIGINAL_SEQ, String(msg.seq));
  await js.publish(deadLetterSubject(consumer, rejectClass), msg.data, {
    headers: h,
    // The same rejected log message seen again (a replay) is stored once.
    ...(msg.seq !== undefined ? { msgID: `dlq/${consumer}/${msg.subject}/${msg.seq}` } : {}),
  });
}

export interface CopyBudgetOptions {
  /** Copies allowed at once per class. */
  readonly burst: number;
  /** Copies per second per class after the burst. */
  readonly perSecond: number;
}

export const DEFAULT_COPY_BUDGET: CopyBudgetOptions = { burst: 100, perSecond: 20 };

/** Per-class token buckets: whether a dead letter may be copied now. PURE (time is an argument). */
export class CopyBudget {
  private readonly buckets = new Map<RejectClass, { tokens: number; atMs: number }>();
  private skippedCount = 0;

  constructor(private readonly o: CopyBudgetOptions = DEFAULT_COPY_BUDGET) {}

  take(cls: RejectClass, nowMs: number): boolean {
    const b = this.buckets.get(cls) ?? { tokens: this.o.burst, atMs: nowMs };
    b.tokens = Math.min(this.o.burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.o.perSecond);
    b.atMs = nowMs;
    this.buckets.set(cls, b);
    if (b.tokens < 1) {
      this.skippedCount++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Messages set aside without a copy so far (over the rate). */
  get skipped(): number {
    return this.skippedCount;
  }
}
