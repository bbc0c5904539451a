// Reading the log without a consumer: the JetStream manager every process uses, and the last
// message of one subject (a direct get), which writers name for optimistic concurrency.

import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent } from '../codec/codec.js';
import type { LogEvent } from '../events/types.js';
import { LOG_STREAM } from '../topology/names.js';

/**
 * A JetStream manager that skips the account-info request on creation: only the meta leader
 * answers it, so in a cluster that has just lost a server it times out (5 s) for nothing.
 */
export function managerOf(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc, { checkAPI: false });
}

export interface LastOnSubject {
  /** The last message's sequence; 0 when the subject is empty. */
  readonly seq: number;
  /** Its event, or undefined (empty subject, or a message that does not decode: `reason` says why). */
  readonly event: LogEvent | undefined;
  readonly reason?: string;
  /** Its Nats-Msg-Id header, if its writer set one (a writer recognises its own retried write by it). */
  readonly msgId?: string;
}

/** The last message on the log under `subject` (a filter with wildcards too), undefined when there is none. */
async function lastMessageOn(jsm: JetStreamManager, subject: string) {
  try {
    return (await jsm.streams.getMessage(LOG_STREAM, { last_by_subj: subject })) ?? undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 10037 || /no message found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

/** The sequence of the last message on the log under `subject` (a filter with wildcards too); 0 when there is none. */
export async function lastSeqOn(jsm: JetStreamManager, subject: string): Promise<number> {
  return (await lastMessageOn(jsm, subject))?.seq ?? 0;
}

/** The last message of `subject` on the log, decoded. */
export async function lastOnSubject(jsm: JetStreamManager, subject: string): Promise<LastOnSubject> {
  const m = await lastMessageOn(jsm, subject);
  if (!m) return { seq: 0, event: undefined };
  const msgId = m.header?.get('Nats-Msg-Id') || undefined;
  const id = msgId !== undefined ? { msgId } : {};
  const r = decodeEvent(m.data);
  if (!r.ok) return { seq: m.seq, event: undefined, reason: r.reason, ...id };
  if (r.event.type === 'Heartbeat') return { seq: m.seq, event: undefined, reason: 'a Heartbeat on the log', ...id };
  return { seq: m.seq, event: r.event, ...id };
}
