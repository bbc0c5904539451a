// Requests that outlast a JetStream election. In a cluster that has just lost a server, a stream
// or the meta group has no leader for a few seconds (about 5 s on nats-server 2.9): its API
// requests time out and publishes to its subjects find no responders. A one-shot client (dsctl)
// would fail on the first such request; here a request that may safely be sent twice is sent
// again, with a short timeout per try, until an overall deadline.
//
// What may be sent twice:
// - every `$JS.API.` request: reads, and creates that are idempotent for the same config (our
//   consumers are always named, so a create sent twice makes one consumer);
// - a publish that carries a Nats-Msg-Id: the server drops the second copy as a duplicate.
// A publish without one is sent once: a lost reply would otherwise store the event twice.

import type { NatsConnection, Msg, Payload, RequestOptions } from '@nats-io/transport-node';

export interface PatienceOptions {
  /** Timeout of one try (ms); a caller's shorter timeout wins. */
  readonly attemptMs?: number;
  /** No new try starts after this long (ms) since the first. */
  readonly deadlineMs?: number;
  /** Told of each retry (for debug output). */
  readonly onRetry?: (subject: string, attempt: number, err: Error) => void;
}

const DEFAULT_ATTEMPT_MS = 2_000;
const DEFAULT_DEADLINE_MS = 20_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 1_000;
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Whether a request may be sent again without changing what it does. */
export function mayRepeat(subject: string, opts: RequestOptions | undefined): boolean {
  if (subject.startsWith('$JS.API.')) return !subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.');
  return (opts?.headers?.get(MSG_ID_HEADER) ?? '') !== '';
}

/** A failure that a later try may not meet: no answer in time, or nobody (yet) to answer. */
export function transient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'NoRespondersError') return true;
    if (/timeout|no responders/i.test(e.message)) return true;
  }
  return false;
}

/** A JetStream API answer that says "not now" (503, "JetStream system temporarily unavailable"). */
export function temporarilyUnavailable(subject: string, reply: Msg): boolean {
  if (!subject.startsWith('$JS.API.') || reply.data.length === 0 || reply.data.length > 4096 || reply.data[0] !== 0x7b) return false;
  try {
    const body = JSON.parse(new TextDecoder().decode(reply.data)) as { error?: { code?: number } };
    return body.error?.code === 503;
  } catch {
    return false;
  }
}

/** Makes `nc.request` patient for the requests that may be repeated (see above). Returns nc. */
export function patientRequests(nc: NatsConnection, opts: PatienceOptions = {}): NatsConnection {
  const attemptMs = opts.attemptMs ?? DEFAULT_ATTEMPT_MS;
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const request = nc.request.bind(nc);
  nc.request = async (subject: string, payload?: Payload, ro?: RequestOptions): Promise<Msg> => {
    if (!mayRepeat(subject, ro)) return request(subject, payload, ro);
    const started = Date.now();
    const perTry = Math.min(attemptMs, ro?.timeout ?? attemptMs);
    let backoff = BACKOFF_FIRST_MS;
    for (let attempt = 1; ; attempt++) {
      let failure: Error;
      try {
        const reply = await request(subject, payload, { ...ro, timeout: perTry });
        if (!temporarilyUnavailable(subject, reply)) return reply;
        if (Date.now() - started + backoff >= deadlineMs) return reply;
        failure = new Error('JetStream temporarily unavailable (503)');
      } catch (err) {
        if (!transient(err) || Date.now() - started + backoff >= deadlineMs) throw err;
        failure = err as Error;
      }
      opts.onRetry?.(subject, attempt, failure);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  };
  return nc;
}
