// Publishing in order with many in flight, each message checked to land at its sequence (the copy to
// the holding stream and the refill of the new log).

import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';

/** Publishes in flight at once unless MigrationOptions.inFlight says otherwise. */
export const DEFAULT_IN_FLIGHT = 1024;
const API_TIMEOUT_MS = 10_000;

/**
 * Publishes in the order given, up to `window` at a time, and checks that each lands at exactly
 * the sequence it was meant for. No `expect` header: the server would store it with the message
 * (the carried messages keep only their own headers). One connection delivers in order and a
 * stream stores in the order it receives, so a message lands elsewhere only when one before it was
 * refused or lost: the first such failure is kept, and the caller starts the stream over.
 */
export class OrderedPipeline {
  private readonly inFlight: Promise<void>[] = [];
  private failure: unknown;

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly window: number,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one message that must land at `seq`; waits while the window is full. */
  async send(subject: string, data: Uint8Array, seq: number, headers?: MsgHdrs): Promise<void> {
    const p = this.js.publish(subject, data, { timeout: API_TIMEOUT_MS, ...(headers ? { headers } : {}) }).then(
      (ack: PubAck) => {
        if (ack.stream !== this.stream) this.failure ??= new MisplacedError(`${subject} went to stream ${ack.stream}, not ${this.stream}`);
        else if (ack.duplicate) this.failure ??= new MisplacedError(`the message for sequence ${seq} was taken for a duplicate of sequence ${ack.seq} (the same Nats-Msg-Id within the duplicate window)`);
        else if (ack.seq !== seq) this.failure ??= new MisplacedError(`the message for sequence ${seq} landed at ${ack.seq}`);
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    this.inFlight.push(p);
    if (this.inFlight.length >= this.window) await this.inFlight.shift();
  }

  /** Waits for every publish in flight; the first failure, if any. */
  async settle(): Promise<unknown> {
    await Promise.all(this.inFlight.splice(0));
    return this.failure;
  }
}

/** A message that did not land at its sequence: the stream must be started over. */
class MisplacedError extends Error {
  override readonly name = 'MisplacedError';
}
