// Publishing a stream of facts that must reach the log in the order they happened and must not
// be lost (an agent's pod reports): one publish in flight at a time, each retried with back-off
// until the server takes it (a JetStream leader election, a reconnect), each with its own
// Nats-Msg-Id so a retry of a publish that did land is de-duplicated by the server.

import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { AnyEvent } from '../events/types.js';
import { publishEvent } from './publish.js';

export interface OrderedPublisherOptions {
  readonly js: JetStreamClient;
  readonly log: Logger;
  /** Prefix of the message ids: unique per writer and incarnation. */
  readonly idPrefix: string;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class OrderedPublisher {
  private tail: Promise<unknown> = Promise.resolve();
  private n = 0;
  private closed = false;

  constructor(private readonly opts: OrderedPublisherOptions) {}

  /** Queues a publish; resolves with its ack once it (and everything before it) is stored. */
  publish(subject: string, event: AnyEvent): Promise<PubAck | undefined> {
    const msgId = `${this.opts.idPrefix}/${++this.n}`;
    const p = this.tail.then(() => this.attempt(subject, event, msgId));
    this.tail = p.catch(() => undefined);
    return p;
  }

  private async attempt(subject: string, event: AnyEvent, msgId: string): Promise<PubAck | undefined> {
    let delay = this.opts.initialBackoffMs ?? 100;
    // A JetStream election lasts about 5 s: the next try should come soon after it ends.
    const max = this.opts.maxBackoffMs ?? 2_000;
    for (let tries = 1; ; tries++) {
      if (this.closed) return undefined;
      try {
        return await publishEvent(this.opts.js, { subject, event, msgId });
      } catch (err) {
        this.opts.log.warn({ err, type: event.type, tries, retryInMs: delay }, 'publish failed: retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, max);
      }
    }
  }

  /** Resolves when everything queued so far is stored (or given up by close()). */
  async flush(): Promise<void> {
    await this.tail;
  }

  /** Stops retrying; what is still queued is dropped. */
  close(): void {
    this.closed = true;
  }
}
