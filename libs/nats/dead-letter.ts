// Setting aside a message that does not decode or validate: it is copied, unchanged, to
// `dlq.<consumer>` with the reason and its origin in headers, so nothing is lost and a person
// can look at it (`nats stream view DS_DLQ`). The consumer goes on.

import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  deadLetterSubject,
  HEADER_CONSUMER,
  HEADER_ORIGINAL_SEQ,
  HEADER_ORIGINAL_SUBJECT,
  HEADER_REASON,
} from '../topology/names.js';

export interface RejectedMessage {
  readonly subject: string;
  readonly seq?: number;
  readonly data: Uint8Array;
}

export async function setAside(js: JetStreamClient, consumer: string, msg: RejectedMessage, reason: string): Promise<void> {
  const h = headers();
  h.set(HEADER_REASON, reason.slice(0, 1024).replace(/[\r\n]/g, ' '));
  h.set(HEADER_ORIGINAL_SUBJECT, msg.subject);
  h.set(HEADER_CONSUMER, consumer);
  if (msg.seq !== undefined) h.set(HEADER_ORIGINAL_SEQ, String(msg.seq));
  await js.publish(deadLetterSubject(consumer), msg.data, {
    headers: h,
    // The same rejected log message seen again (a replay) is stored once.
    ...(msg.seq !== undefined ? { msgID: `dlq/${consumer}/${msg.subject}/${msg.seq}` } : {}),
  });
}
