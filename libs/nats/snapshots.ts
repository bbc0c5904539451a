// Snapshot storage: the newest snapshot of the folded state in an object store (states of large
// fleets exceed a KV value), MessagePack-encoded, with the log sequence it reflects. A snapshot
// that is corrupt, of another format, of another slot count, or ahead of / from another log
// stream is ignored with a reason, and the caller replays from the start.

import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeValue, encodeValue } from '../codec/codec.js';
import { fromSnapshot, toSnapshot, type SnapshotData } from '../core/snapshot.js';
import type { State } from '../core/state.js';
import { LOG_STREAM, SNAPSHOT_BUCKET, SNAPSHOT_OBJECT } from '../topology/names.js';
import { managerOf } from './subject-reads.js';

export type SnapshotLookup =
  | { readonly found: true; readonly state: State; readonly data: SnapshotData; readonly bytes: number }
  | { readonly found: false; readonly reason: string };

async function bucket(nc: NatsConnection, create: boolean): Promise<ObjectStore | undefined> {
  const objm = new Objm(nc);
  try {
    return create ? await objm.create(SNAPSHOT_BUCKET) : await objm.open(SNAPSHOT_BUCKET);
  } catch {
    return undefined;
  }
}

export async function logStreamIdentity(nc: NatsConnection): Promise<{ created: string; firstSeq: number; lastSeq: number }> {
  const info = await (await managerOf(nc)).streams.info(LOG_STREAM);
  return { created: info.created, firstSeq: info.state.first_seq, lastSeq: info.state.last_seq };
}

/** Writes the state as the newest snapshot; returns the sequence it reflects and its size. */
export async function saveSnapshot(nc: NatsConnection, state: State, slots: number): Promise<{ seq: number; bytes: number }> {
  const store = await bucket(nc, true);
  if (!store) throw new Error(`cannot open the ${SNAPSHOT_BUCKET} object store`);
  const { created } = await logStreamIdentity(nc);
  // Serialised in one synchronous step, so it is the state at exactly one sequence.
  const seq = state.seq;
  const bytes = encodeValue(toSnapshot(state, { slots, streamCreated: created }));
  await store.putBlob({ name: SNAPSHOT_OBJECT, description: `state at log sequence ${seq}` }, bytes);
  return { seq, bytes: bytes.length };
}

/** The newest usable snapshot, or why there is none. */
export async function loadSnapshot(nc: NatsConnection, slots: number): Promise<SnapshotLookup> {
  const store = await bucket(nc, false);
  if (!store) return { found: false, reason: 'no snapshot store yet' };
  let blob: Uint8Array | null;
  try {
    blob = await store.getBlob(SNAPSHOT_OBJECT);
  } catch (err) {
    return { found: false, reason: `snapshot unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!blob) return { found: false, reason: 'no snapshot yet' };
  const decoded = decodeValue(blob);
  if (!decoded.ok) return { found: false, reason: `snapshot corrupt: ${decoded.reason}` };
  const r = fromSnapshot(decoded.value);
  if (!r.ok) return { found: false, reason: `snapshot refused: ${r.reason}` };
  const log = await logStreamIdentity(nc);
  if (r.data.streamCreated !== log.created) return { found: false, reason: 'snapshot is of another log stream (recreated since)' };
  if (r.data.seq > log.lastSeq) return { found: false, reason: `snapshot at ${r.data.seq} is ahead of the log (last ${log.lastSeq})` };
  if (r.data.slots !== slots) return { found: false, reason: `snapshot folded with ${r.data.slots} slots, topology has ${slots}` };
  return { found: true, state: r.state, data: r.data, bytes: blob.length };
}
