// What every write of the facade shares: the bus, the read model it waits on (a write returns
// the object as served once the log entry it wrote has been folded: read-your-writes), and the
// last sequence of a subject, read directly, for optimistic concurrency.

import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeEvent } from '../../libs/codec/codec.js';
import type { LogEvent } from '../../libs/events/types.js';
import { LOG_STREAM } from '../../libs/topology/names.js';
import type { ReadModel } from './read-model.js';

export interface WriteContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly model: ReadModel;
  readonly log: Logger;
}

export async function createWriteContext(nc: NatsConnection, model: ReadModel, log: Logger): Promise<WriteContext> {
  return { js: jetstream(nc), jsm: await jetstreamManager(nc), model, log };
}

export interface LastOnSubject {
  readonly seq: number;
  readonly event: LogEvent | undefined;
}

/** The last message of a subject (a direct get), 0 when the subject is empty. */
export async function lastOnSubject(jsm: JetStreamManager, subject: string): Promise<LastOnSubject> {
  try {
    const m = await jsm.streams.getMessage(LOG_STREAM, { last_by_subj: subject });
    if (!m) return { seq: 0, event: undefined };
    const r = decodeEvent(m.data);
    return { seq: m.seq, event: r.ok && r.event.type !== 'Heartbeat' ? r.event : undefined };
  } catch (err) {
    if ((err as { code?: number }).code === 10037 || /no message found/i.test((err as Error).message)) return { seq: 0, event: undefined };
    throw err;
  }
}

/** How many times a write that lost a race is decided again on the caught-up read model. */
export const WRITE_ATTEMPTS = 4;
