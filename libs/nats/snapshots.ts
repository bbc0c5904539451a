// Snapshot storage: the newest snapshot of each part of the folded state (the global facts, and each
// slot) in an object store (states of large fleets exceed a KV value), MessagePack-encoded, with
// the position of the log it reflects. A part that is corrupt, of another format, of another slot
// count, or ahead of / from another log stream is ignored with a reason, and its part of the log
// is read from the start.

import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeValue, encodeValue } from '../codec/codec.js';
import { settleParts } from '../core/evolve.js';
import { applyPartSnapshot, readPartSnapshot, toPartSnapshots, type PartSnapshot, type SnapshotPart } from '../core/snapshot.js';
import { initialState, type State } from '../core/state.js';
import { GLOBAL_FILTER, LOG_STREAM, SNAPSHOT_BUCKET, slotFilter, snapshotObjectName } from '../topology/names.js';
import { lastSeqOn, managerOf } from './subject-reads.js';

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

/** Writes one part of the state as its newest snapshot; returns the position it reflects and its size. */
export async function savePartSnapshot(nc: NatsConnection, state: State, part: SnapshotPart, slots: number): Promise<{ seq: number; bytes: number }> {
  const [saved] = await savePartSnapshots(nc, state, [part], slots);
  return saved!;
}

/**
 * Writes these parts as their newest snapshots, all taken at one point (serialised in one
 * synchronous step, before the first write); returns each one's position and size.
 */
export async function savePartSnapshots(
  nc: NatsConnection,
  state: State,
  parts: readonly SnapshotPart[],
  slots: number,
): Promise<{ part: SnapshotPart; seq: number; bytes: number }[]> {
  const store = await bucket(nc, true);
  if (!store) throw new Error(`cannot open the ${SNAPSHOT_BUCKET} object store`);
  const { created } = await logStreamIdentity(nc);
  const encoded = toPartSnapshots(state, parts, { slots, streamCreated: created }).map((snap) => ({ snap, bytes: encodeValue(snap) }));
  const out: { part: SnapshotPart; seq: number; bytes: number }[] = [];
  for (const { snap, bytes } of encoded) {
    await store.putBlob({ name: snapshotObjectName(snap.part), description: `${snap.part === 'global' ? 'global facts' : `slot ${snap.part}`} at log sequence ${snap.seq}` }, bytes);
    out.push({ part: snap.part, seq: snap.seq, bytes: bytes.length });
  }
  return out;
}

/** Writes every part (tests and tools; a controller writes the parts it holds, see its snapshotter). */
export async function saveSnapshot(nc: NatsConnection, state: State, slots: number, parts: readonly SnapshotPart[]): Promise<{ seq: number; bytes: number }> {
  const saved = await savePartSnapshots(nc, state, parts, slots);
  return { seq: state.seq, bytes: saved.reduce((a, s) => a + s.bytes, 0) };
}

export type PartLookup = { readonly found: true; readonly data: PartSnapshot; readonly bytes: number } | { readonly found: false; readonly reason: string };

/** The newest usable snapshot of one part, or why there is none. */
export async function loadPartSnapshot(
  nc: NatsConnection,
  part: SnapshotPart,
  slots: number,
  known?: { store?: ObjectStore | undefined; log?: { created: string; lastSeq: number } },
): Promise<PartLookup> {
  const store = known?.store ?? (await bucket(nc, false));
  if (!store) return { found: false, reason: 'no snapshot store yet' };
  let blob: Uint8Array | null;
  try {
    blob = await readBlob(store, snapshotObjectName(part));
  } catch (err) {
    return { found: false, reason: `snapshot unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!blob) return { found: false, reason: 'no snapshot yet' };
  const decoded = decodeValue(blob);
  if (!decoded.ok) return { found: false, reason: `snapshot corrupt: ${decoded.reason}` };
  const r = readPartSnapshot(decoded.value);
  if (!r.ok) return { found: false, reason: `snapshot refused: ${r.reason}` };
  if (r.data.part !== part) return { found: false, reason: `object ${snapshotObjectName(part)} holds part ${String(r.data.part)}` };
  const log = known?.log ?? (await logStreamIdentity(nc));
  if (r.data.streamCreated !== log.created) return { found: false, reason: 'snapshot is of another log stream (recreated since)' };
  if (r.data.seq > log.lastSeq) return { found: false, reason: `snapshot at ${r.data.seq} is ahead of the log (last ${log.lastSeq})` };
  if (r.data.slots !== slots) return { found: false, reason: `snapshot folded with ${r.data.slots} slots, topology has ${slots}` };
  return { found: true, data: r.data, bytes: blob.length };
}

/** A read of a snapshot object that takes longer than this is given up (and tried once more). */
const SNAPSHOT_READ_TIMEOUT_MS = 5_000;

/**
 * Reads an object whole. A read that races a rewrite of the same object (its owner snapshots a
 * slot just before handing it over) can wait for ever for chunks the writer has already purged:
 * such a read is given up after SNAPSHOT_READ_TIMEOUT_MS and tried once more, then the part is
 * read from the log instead. (Seen in the sharding e2e: dsctl get shards hung one run in three.)
 */
async function readBlob(store: ObjectStore, name: string): Promise<Uint8Array | null> {
  for (let attempt = 1; ; attempt++) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SNAPSHOT_READ_TIMEOUT_MS);
      timer.unref();
    });
    const r = await Promise.race([store.getBlob(name), timeout]).finally(() => clearTimeout(timer));
    if (r !== 'timeout') return r;
    if (attempt >= 2) throw new Error(`reading ${name} timed out twice (${SNAPSHOT_READ_TIMEOUT_MS} ms each): it is being rewritten`);
  }
}

/**
 * The sequence of the last message of one part of the log (0: none), read with a direct get by
 * subject: a part whose snapshot holds its last message is complete up to the end of the log.
 * Other errors are thrown: taking one for "no message" would skip a part's events.
 */
export async function lastSeqOfPart(nc: NatsConnection, part: SnapshotPart): Promise<number> {
  return lastSeqOn(await managerOf(nc), part === 'global' ? GLOBAL_FILTER : slotFilter(part));
}

export type SnapshotLookup =
  | {
      readonly found: true;
      readonly state: State;
      /** Read the log from `seq + 1` on: every part is folded at least up to here. */
      readonly data: { readonly seq: number; readonly lastTimeMs: number };
      readonly bytes: number;
      readonly parts: number;
    }
  | { readonly found: false; readonly reason: string };

/**
 * Every part's newest snapshot composed into one state, for readers of the whole log (dsctl, the
 * API facade). `data.seq` is where the log must be read from (+1): the least position among the
 * parts, where a part whose snapshot holds its last message counts as complete up to the log's end
 * (so a quiet slot does not hold every reader back). Envelopes of a part already folded past are
 * ignored by evolve.
 */
export async function loadSnapshot(nc: NatsConnection, slots: number): Promise<SnapshotLookup> {
  const store = await bucket(nc, false);
  if (!store) return { found: false, reason: 'no snapshot store yet' };
  const identity = await logStreamIdentity(nc);
  const log = { created: identity.created, lastSeq: identity.lastSeq };
  const all: SnapshotPart[] = ['global', ...Array.from({ length: slots }, (_, i) => i)];
  const found = await Promise.all(all.map(async (part) => ({ part, lookup: await loadPartSnapshot(nc, part, slots, { store, log }) })));
  const global = found[0]!.lookup;
  if (!global.found) return { found: false, reason: `global facts: ${global.reason}` };
  const state = initialState();
  let bytes = 0;
  let parts = 0;
  let from = log.lastSeq;
  let globalLast = 0;
  for (const { part, lookup } of found) {
    const last = await lastSeqOfPart(nc, part);
    if (part === 'global') globalLast = last;
    let through: number;
    if (lookup.found) {
      applyPartSnapshot(state, lookup.data);
      bytes += lookup.bytes;
      parts++;
      through = lookup.data.seq >= last ? log.lastSeq : lookup.data.seq;
    } else {
      through = last === 0 ? log.lastSeq : 0;
    }
    from = Math.min(from, through);
  }
  if (from === 0) return { found: false, reason: 'a slot with events has no snapshot yet' };
  settleParts(state);
  if (from > state.globalThrough && globalLast <= state.global.seq) state.globalThrough = from;
  return { found: true, state, data: { seq: from, lastTimeMs: state.lastTimeMs }, bytes, parts };
}
