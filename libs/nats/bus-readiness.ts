// A service's start waits for JetStream as it waits for an election: JetStream not enabled yet
// (a server restarted with it later), no meta leader yet (a cluster starting). One wait
// (retryUntilReady) and one judge of what may pass (classifyBusError) for every service; what
// cannot pass is thrown at once. The services that use the topology a controller creates wait
// for it with waitForTopology (topology.ts), the same wait.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { retryUntilReady } from '../runtime/retry.js';
import { classifyBusError } from './bus-errors.js';
import { managerOf } from './subject-reads.js';

export interface ReadinessOptions {
  readonly log: Logger;
  /** Ends the wait (a signal while starting): rejects with its reason. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `prepare` (idempotent: it may run again after a failure) once JetStream answers, both
 * retried with back-off while their failures may pass, logging 'waiting for JetStream' with the
 * reason at a bounded rate.
 */
export function whenJetStreamReady<T>(nc: NatsConnection, prepare: () => Promise<T>, opts: ReadinessOptions): Promise<T> {
  return retryUntilReady(
    async () => {
      // The account info answers only when JetStream is enabled and (in a cluster) has a leader.
      await (await managerOf(nc)).getAccountInfo();
      return prepare();
    },
    { log: opts.log, waitingMsg: 'waiting for JetStream', readyMsg: 'JetStream ready', classify: classifyBusError, ...(opts.signal ? { signal: opts.signal } : {}) },
  );
}
