// Raw ordered-consumer reading: how fast the server and client deliver the log when the
// reader does nothing with it (the ceiling of any fold).

import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LOG_STREAM } from '../libs/topology/names.js';
import { benchConsumerPrefix } from './cluster.js';

/** Reads `count` messages from `fromSeq` with an ordered consumer; resolves with the ms it took. */
export async function readRaw(nc: NatsConnection, fromSeq: number, count: number, onCount?: (n: number) => void): Promise<number> {
  const started = performance.now();
  const consumer = await jetstream(nc).consumers.get(LOG_STREAM, {
    name_prefix: benchConsumerPrefix(),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
  });
  let seen = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const iter = await consumer.consume({
    callback: () => {
      seen++;
      if (seen % 10_000 === 0) onCount?.(seen);
      if (seen === count) finish();
    },
  });
  await finished;
  const ms = performance.now() - started;
  await iter.close();
  return ms;
}
