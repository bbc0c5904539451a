// Heartbeats: agents publish them with core NATS (no ack, no history worth keeping); the
// heartbeat stream keeps only the last one per node, so a controller that starts can see when
// each node was last heard from without waiting a whole heartbeat interval.

import { jetstream, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeEvent, decodeEvent } from '../codec/codec.js';
import type { Heartbeat } from '../events/types.js';
import { HEARTBEAT_ALL_FILTER, HEARTBEAT_STREAM, heartbeatSubject } from '../topology/names.js';
import { checkAuthor } from './authorship.js';
import { managerOf } from './subject-reads.js';

export function publishHeartbeat(nc: NatsConnection, hb: Heartbeat): void {
  nc.publish(heartbeatSubject(hb.data.node), encodeEvent(hb));
}

/** The stream time (ms) of the last heartbeat of every node that has one. */
export async function readLastHeartbeats(nc: NatsConnection): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const jsm = await managerOf(nc);
  const info = await jsm.streams.info(HEARTBEAT_STREAM);
  if (info.state.messages === 0) return out;
  const consumer = await jetstream(nc).consumers.get(HEARTBEAT_STREAM, {
    filter_subjects: HEARTBEAT_ALL_FILTER,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: JsMsg): void => {
      const r = decodeEvent(m.data);
      if (r.ok && r.event.type === 'Heartbeat' && checkAuthor(m.subject, r.event).ok) {
        out.set(r.event.data.node, Number(m.timestampNanos / 1_000_000n));
      }
      if (m.info.pending === 0) {
        void iter.then((it) => it.close()).then(() => resolve(), reject);
      }
    };
    const iter = consumer.consume({ callback: onMsg });
    iter.catch(reject);
  });
  return out;
}
