// Raw pipelined JetStream publishing for the benchmarks: a fixed number of publishes in flight,
// the next one sent as soon as an ack frees a place (never one awaited before the next is sent).

import type { JetStreamClient } from '@nats-io/jetstream';

export interface RawMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId?: string;
}

export const BASELINE_IN_FLIGHT = 1024;

/** Publishes every message of `source` with `inFlight` awaiting acks at once; resolves with the count. */
export function publishPipelined(
  js: JetStreamClient,
  source: Iterable<RawMessage>,
  opts: { inFlight?: number; onAck?: (acked: number) => void } = {},
): Promise<number> {
  const inFlight = opts.inFlight ?? BASELINE_IN_FLIGHT;
  const it = source[Symbol.iterator]();
  let sent = 0;
  let acked = 0;
  let exhausted = false;
  return new Promise<number>((resolve, reject) => {
    let failed = false;
    const launch = (): void => {
      while (!failed && !exhausted && sent - acked < inFlight) {
        const next = it.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const m = next.value;
        sent++;
        js.publish(m.subject, m.data, m.msgId ? { msgID: m.msgId } : {}).then(
          () => {
            acked++;
            opts.onAck?.(acked);
            if (exhausted && acked === sent) resolve(acked);
            else launch();
          },
          (err: unknown) => {
            failed = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      }
      if (exhausted && acked === sent) resolve(acked);
    };
    launch();
  });
}
