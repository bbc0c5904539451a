// Pipelined JetStream publishing with a bounded window: up to `maxInFlight` publishes await
// their acks at once, the rest wait in a FIFO queue. Publishes leave in the order they were
// pushed (one connection keeps that order to the server), no caller ever awaits one ack before
// sending the next, and a burst of 30,000 reports cannot time out waiting behind each other.

import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { publishEvent, type PublishItem } from '../../libs/nats/publish.js';

export interface PublishWindow {
  /** Queues one publish; resolves with its ack, or rejects with the publish error. */
  push(item: PublishItem): Promise<PubAck>;
  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void>;
  /** Publishes queued or in flight right now. */
  pending(): number;
}

interface Queued {
  readonly item: PublishItem;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: unknown) => void;
}

/** In flight by default: what the baseline measures JetStream's pipelined rate with. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;

export function createPublishWindow(js: JetStreamClient, maxInFlight = DEFAULT_MAX_IN_FLIGHT): PublishWindow {
  const queue: Queued[] = [];
  let head = 0;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = (): void => {
    if (inFlight > 0 || head < queue.length) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const pump = (): void => {
    while (inFlight < maxInFlight && head < queue.length) {
      const q = queue[head]!;
      head++;
      inFlight++;
      publishEvent(js, q.item).then(
        (ack) => {
          inFlight--;
          q.resolve(ack);
          pump();
        },
        (err: unknown) => {
          inFlight--;
          q.reject(err);
          pump();
        },
      );
    }
    // Compact the consumed prefix now and then instead of shifting on every publish.
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    settleIdle();
  };

  return {
    push(item: PublishItem): Promise<PubAck> {
      return new Promise<PubAck>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    idle(): Promise<void> {
      if (inFlight === 0 && head >= queue.length) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    pending: () => inFlight + queue.length - head,
  };
}
