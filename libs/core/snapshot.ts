// Snapshots of the folded state, one per part of the log: the global facts (nodes, namespaces) and
// each slot (its DaemonSets, their pods, its shard). A controller cold-starts only the parts it
// reads; a reader of everything composes them all. A part is a plain, versioned, serialisable form
// (Maps become entry arrays; derived indexes are rebuilt on load) with the position of the log it
// reflects. PURE.

import { settleParts } from './evolve.js';
import { addPod, removePod } from './pod-index.js';
import type { DsRecord, FailedBackoff, NamespaceRecord, NodeRecord, PodRecord, ShardRecord, State } from './state.js';
import { initialState } from './state.js';

/** 2: one snapshot per part of the log (1 held the whole state and is refused: the log is re-read). */
export const SNAPSHOT_FORMAT = 2;

export type SnapshotPart = 'global' | number;

type Plain<T> = Omit<T, 'createsByNode' | 'failedBackoff' | 'rolledOff'>;

export interface SnapshotDs extends Plain<DsRecord> {
  readonly createsByNode: [string, number][];
  readonly failedBackoff: [string, FailedBackoff][];
  readonly rolledOff: [string, number][];
}

export interface PartSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly part: SnapshotPart;
  /** The last sequence of this part folded into it, and its stream time. */
  readonly seq: number;
  readonly timeMs: number;
  /** Slot count of the topology it was folded with. */
  readonly slots: number;
  /** The log stream's creation time: a snapshot of another (recreated) stream is useless. */
  readonly streamCreated: string;
  /** Stream time of the first event its writer folded (0 if none). */
  readonly firstTimeMs: number;
  /** Global part: every global fact up to here was folded. */
  readonly globalThrough?: number;
  readonly nodes?: NodeRecord[];
  readonly namespaces?: NamespaceRecord[];
  /** Slot part. */
  readonly daemonSets?: SnapshotDs[];
  readonly pods?: PodRecord[];
  readonly shard?: ShardRecord;
  readonly tentative?: string[];
}

export interface SnapshotMeta {
  readonly slots: number;
  readonly streamCreated: string;
}

/** The snapshot of one part of the state. */
export function toPartSnapshot(state: State, part: SnapshotPart, meta: SnapshotMeta): PartSnapshot {
  return toPartSnapshots(state, [part], meta)[0]!;
}

/**
 * The snapshots of several parts, taken at one point: one pass over the DaemonSets and pods
 * sorts them by slot (a controller holding 64 slots and 100,000 pods would otherwise scan every pod
 * once per slot).
 */
export function toPartSnapshots(state: State, parts: readonly SnapshotPart[], meta: SnapshotMeta): PartSnapshot[] {
  const wanted = new Set(parts.filter((p): p is number => p !== 'global'));
  const dsBySlot = new Map<number, DsRecord[]>();
  const podsBySlot = new Map<number, [string, PodRecord][]>();
  if (wanted.size > 0) {
    for (const ds of state.daemonSets.values()) if (wanted.has(ds.slot)) push(dsBySlot, ds.slot, ds);
    for (const entry of state.pods.entries()) if (wanted.has(entry[1].slot)) push(podsBySlot, entry[1].slot, entry);
  }
  return parts.map((part) => partSnapshot(state, part, meta, dsBySlot.get(part as number) ?? [], podsBySlot.get(part as number) ?? []));
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function partSnapshot(state: State, part: SnapshotPart, meta: SnapshotMeta, daemonSets: readonly DsRecord[], pods: readonly [string, PodRecord][]): PartSnapshot {
  const base = { format: SNAPSHOT_FORMAT, part, slots: meta.slots, streamCreated: meta.streamCreated, firstTimeMs: state.firstTimeMs } as const;
  if (part === 'global') {
    return {
      ...base,
      seq: state.global.seq,
      timeMs: state.global.timeMs,
      globalThrough: state.globalThrough,
      nodes: [...state.nodes.values()],
      namespaces: [...state.namespaces.values()].map((ns) => ({ ...ns })),
    };
  }
  const position = state.slotParts.get(part) ?? { seq: 0, timeMs: 0 };
  const shard = state.shards.get(part);
  return {
    ...base,
    seq: position.seq,
    timeMs: position.timeMs,
    daemonSets: daemonSets.map((ds) => ({
        ...ds,
        createsByNode: [...ds.createsByNode],
        failedBackoff: [...ds.failedBackoff].map(([k, v]) => [k, { ...v }]),
        rolledOff: [...ds.rolledOff],
      })),
    pods: pods.map(([, p]) => p),
    ...(shard ? { shard } : {}),
    tentative: pods.map(([k]) => k).filter((k) => state.tentative.has(k)),
  };
}

/** Every part that holds anything: the global one and each slot folded. */
export function partsOf(state: State): SnapshotPart[] {
  const slots = new Set<number>(state.slotParts.keys());
  for (const ds of state.daemonSets.values()) slots.add(ds.slot);
  for (const pod of state.pods.values()) slots.add(pod.slot);
  for (const slot of state.shards.keys()) slots.add(slot);
  return ['global', ...[...slots].sort((a, b) => a - b)];
}

/** A value read back as a part snapshot of this format, or why not. */
export function readPartSnapshot(value: unknown): { ok: true; data: PartSnapshot } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an object' };
  const d = value as Partial<PartSnapshot>;
  if (d.format !== SNAPSHOT_FORMAT) return { ok: false, reason: `format ${String(d.format)}, expected ${SNAPSHOT_FORMAT}` };
  if (!Number.isInteger(d.seq) || !Number.isInteger(d.slots) || typeof d.streamCreated !== 'string') {
    return { ok: false, reason: 'missing seq, slots or streamCreated' };
  }
  if (d.part !== 'global' && !(Number.isInteger(d.part) && (d.part as number) >= 0)) return { ok: false, reason: `part ${String(d.part)} is neither global nor a slot` };
  const lists = d.part === 'global' ? [d.nodes, d.namespaces] : [d.daemonSets, d.pods, d.tentative];
  if (!lists.every(Array.isArray)) return { ok: false, reason: 'missing collections' };
  return { ok: true, data: d as PartSnapshot };
}

/** Forgets everything of one slot: its DaemonSets, their pods, its shard, its position. */
export function dropSlot(state: State, slot: number): void {
  // The DaemonSets first: removing their pods must not finish a deletion on the way.
  for (const [key, ds] of [...state.daemonSets]) if (ds.slot === slot) state.daemonSets.delete(key);
  for (const [key, pod] of [...state.pods]) if (pod.slot === slot) removePod(state, key, pod);
  state.shards.delete(slot);
  state.slotParts.delete(slot);
}

/**
 * Puts one part into the state, replacing what the state held of it. Call settleParts (evolve.ts)
 * once every part is in: parts taken at different points are joined by its rules.
 */
export function applyPartSnapshot(state: State, d: PartSnapshot): State {
  if (d.firstTimeMs > 0 && (state.firstTimeMs === 0 || d.firstTimeMs < state.firstTimeMs)) state.firstTimeMs = d.firstTimeMs;
  if (d.seq > state.seq) state.seq = d.seq;
  if (d.timeMs > state.lastTimeMs) state.lastTimeMs = d.timeMs;
  if (d.part === 'global') {
    state.nodes.clear();
    state.namespaces.clear();
    for (const node of d.nodes ?? []) state.nodes.set(node.name, { ...node, incarnationSeq: node.incarnationSeq ?? 0 });
    for (const ns of d.namespaces ?? []) state.namespaces.set(ns.name, { ...ns });
    state.global.seq = d.seq;
    state.global.timeMs = d.timeMs;
    state.globalThrough = Math.max(d.globalThrough ?? 0, d.seq);
    return state;
  }
  const slot = d.part;
  dropSlot(state, slot);
  for (const ds of d.daemonSets ?? []) {
    state.daemonSets.set(`${ds.namespace}/${ds.name}`, {
      ...ds,
      createsByNode: new Map(ds.createsByNode),
      failedBackoff: new Map(ds.failedBackoff),
      rolledOff: new Map(ds.rolledOff),
    });
  }
  for (const pod of d.pods ?? []) addPod(state, `${pod.namespace}/${pod.name}`, { ...pod });
  for (const key of d.tentative ?? []) state.tentative.add(key);
  if (d.shard) state.shards.set(slot, { ...d.shard });
  if (d.seq > 0 || d.timeMs > 0) state.slotParts.set(slot, { seq: d.seq, timeMs: d.timeMs });
  return state;
}

/** Every part of a state, as one serialisable value (tests, and tools that move a whole state). */
export interface SnapshotSet {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly seq: number;
  readonly lastTimeMs: number;
  readonly parts: PartSnapshot[];
}

export function toSnapshot(state: State, meta: SnapshotMeta): SnapshotSet {
  return { format: SNAPSHOT_FORMAT, seq: state.seq, lastTimeMs: state.lastTimeMs, parts: toPartSnapshots(state, partsOf(state), meta) };
}

export type SnapshotLoad = { ok: true; state: State; data: SnapshotSet } | { ok: false; reason: string };

/** Rebuilds a State from every part; refuses (with a reason) anything that is not a snapshot of this format. */
export function fromSnapshot(value: unknown): SnapshotLoad {
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an object' };
  const d = value as Partial<SnapshotSet>;
  if (d.format !== SNAPSHOT_FORMAT) return { ok: false, reason: `format ${String(d.format)}, expected ${SNAPSHOT_FORMAT}` };
  if (!Array.isArray(d.parts)) return { ok: false, reason: 'missing parts' };
  try {
    const state = initialState();
    for (const raw of d.parts) {
      const r = readPartSnapshot(raw);
      if (!r.ok) return { ok: false, reason: r.reason };
      applyPartSnapshot(state, r.data);
    }
    settleParts(state);
    if (typeof d.seq === 'number' && d.seq > state.seq) state.seq = d.seq;
    if (typeof d.lastTimeMs === 'number' && d.lastTimeMs > state.lastTimeMs) state.lastTimeMs = d.lastTimeMs;
    return { ok: true, state, data: d as SnapshotSet };
  } catch (err) {
    return { ok: false, reason: `unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
}
