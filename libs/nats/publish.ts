// Publishing events: always encoded by the codec, with a message id when the event has a
// deterministic identity, and an expected last subject sequence for optimistic concurrency. A
// write refused for lack of space is thrown as a StoreFullError that says what is full.

import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { encodeEvent } from '../codec/codec.js';
import type { AnyEvent } from '../events/types.js';
import { explainStoreRefusal } from './store-full.js';

export interface PublishItem {
  readonly subject: string;
  readonly event: AnyEvent;
  readonly msgId?: string;
  /** The last sequence the writer saw on this subject (0 = must be empty). */
  readonly expectLastSubjectSeq?: number;
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(readonly subject: string, cause: unknown) {
    super(`conflicting write on ${subject}: it changed since it was read`, { cause });
  }
}

export function isWrongLastSequence(err: unknown): boolean {
  const code = (err as { code?: number } | undefined)?.code;
  return code === 10071 || (err instanceof Error && /wrong last sequence/i.test(err.message));
}

export async function publishEvent(js: JetStreamClient, item: PublishItem): Promise<PubAck> {
  try {
    return await js.publish(item.subject, encodeEvent(item.event), {
      ...(item.msgId ? { msgID: item.msgId } : {}),
      ...(item.expectLastSubjectSeq !== undefined ? { expect: { lastSubjectSequence: item.expectLastSubjectSeq } } : {}),
    });
  } catch (err) {
    if (isWrongLastSequence(err)) throw new ConflictError(item.subject, err);
    throw await explainStoreRefusal(js, item.subject, err);
  }
}

/**
 * Publishes many events with all of them in flight at once (one ack wait per message is the
 * slow path: ~340 µs each). Returns one result per item, in order; a failure does not stop the others.
 */
export async function publishMany(
  js: JetStreamClient,
  items: readonly PublishItem[],
): Promise<PromiseSettledResult<PubAck>[]> {
  return Promise.allSettled(items.map((item) => publishEvent(js, item)));
}
