// Reading a stream in order, up to its end as it is when reached, with an ordered consumer.

import { DeliverPolicy, jetstream, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** One stream read in order with an ordered consumer: next() until the end as it is when reached. */
interface OrderedReader {
  next(): Promise<JsMsg | undefined>;
  close(): Promise<void>;
}

export async function openOrderedReader(nc: NatsConnection, stream: string, fromSeq: number): Promise<OrderedReader> {
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) });
  const messages = await consumer.consume({ max_messages: 1024 });
  const it = messages[Symbol.asyncIterator]();
  let ended = false;
  return {
    async next() {
      if (ended) return undefined;
      const r = await it.next();
      if (r.done) {
        ended = true;
        return undefined;
      }
      if (r.value.info.pending === 0) ended = true;
      return r.value;
    },
    async close() {
      ended = true;
      // The iterator first: close() waits for it to finish, and it is suspended at its last message.
      await it.return?.(undefined);
      await messages.close().catch(() => undefined);
    },
  };
}

/**
 * Reads a stream in order from `fromSeq`, calling `onMessage` (which may wait: it is the
 * back-pressure) until the stream's end, or until `onMessage` returns false. The stream must hold
 * a message at or after `fromSeq`.
 */
export async function readInOrder(nc: NatsConnection, stream: string, fromSeq: number, onMessage: (m: JsMsg) => Promise<boolean>): Promise<void> {
  const reader = await openOrderedReader(nc, stream, fromSeq);
  try {
    for (let m = await reader.next(); m !== undefined; m = await reader.next()) {
      if (!(await onMessage(m))) break;
    }
  } finally {
    await reader.close();
  }
}
