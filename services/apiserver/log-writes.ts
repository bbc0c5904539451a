// What every write of the facade shares: the bus, the read model it waits on (a write returns
// the object as served once the log entry it wrote has been folded: read-your-writes). The last
// sequence of a subject, for optimistic concurrency, is libs/nats/subject-reads.ts lastOnSubject.

import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { managerOf } from '../../libs/nats/subject-reads.js';
import type { ReadModel } from './read-model.js';

export interface WriteContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly model: ReadModel;
  readonly log: Logger;
}

export async function createWriteContext(nc: NatsConnection, model: ReadModel, log: Logger): Promise<WriteContext> {
  return { js: jetstream(nc), jsm: await managerOf(nc), model, log };
}

/** How many times a write that lost a race is decided again on the caught-up read model. */
export const WRITE_ATTEMPTS = 4;
