// Snapshots of the folded state: a plain, versioned, serialisable form of State (Maps become
// entry arrays; derived indexes are rebuilt on load). Together with the log sequence it reflects,
// it lets a controller (or dsctl) start from here and fold only the tail. PURE.

import type { DsRecord, NamespaceRecord, NodeRecord, PodRecord, ShardRecord, State } from './state.js';
import { initialState } from './state.js';

export const SNAPSHOT_FORMAT = 1;

type Plain<T> = Omit<T, 'createsByNode' | 'failedBackoff' | 'rolledOff'>;

export interface SnapshotDs extends Plain<DsRecord> {
  readonly createsByNode: [string, number][];
  readonly failedBackoff: [string, { delayMs: number; lastMs: number }][];
  /** Absent in snapshots older than the rolled-off count: none. */
  readonly rolledOff?: [string, number][];
}

export interface SnapshotData {
  readonly format: typeof SNAPSHOT_FORMAT;
  /** The last log sequence folded into it. */
  readonly seq: number;
  readonly lastTimeMs: number;
  /** Slot count of the topology it was folded with. */
  readonly slots: number;
  /** The log stream's creation time: a snapshot of another (recreated) stream is useless. */
  readonly streamCreated: string;
  readonly daemonSets: SnapshotDs[];
  readonly nodes: NodeRecord[];
  readonly pods: PodRecord[];
  readonly shards: ShardRecord[];
  /** Stream time of the first event folded. Absent in snapshots older than namespaces: 0. */
  readonly firstTimeMs?: number;
  /** Namespaces created on the log. Absent in snapshots older than namespaces: none. */
  readonly namespaces?: NamespaceRecord[];
}

export function toSnapshot(state: State, meta: { slots: number; streamCreated: string }): SnapshotData {
  return {
    format: SNAPSHOT_FORMAT,
    seq: state.seq,
    lastTimeMs: state.lastTimeMs,
    slots: meta.slots,
    streamCreated: meta.streamCreated,
    daemonSets: [...state.daemonSets.values()].map((ds) => ({
      ...ds,
      createsByNode: [...ds.createsByNode],
      failedBackoff: [...ds.failedBackoff].map(([k, v]) => [k, { ...v }]),
      rolledOff: [...ds.rolledOff],
    })),
    nodes: [...state.nodes.values()],
    pods: [...state.pods.values()],
    shards: [...state.shards.values()],
    firstTimeMs: state.firstTimeMs,
    namespaces: [...state.namespaces.values()].map((ns) => ({ ...ns })),
  };
}

export type SnapshotLoad = { ok: true; state: State; data: SnapshotData } | { ok: false; reason: string };

/** Rebuilds a State; refuses (with a reason) anything that is not a snapshot of this format. */
export function fromSnapshot(value: unknown): SnapshotLoad {
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not an object' };
  const d = value as Partial<SnapshotData>;
  if (d.format !== SNAPSHOT_FORMAT) return { ok: false, reason: `format ${String(d.format)}, expected ${SNAPSHOT_FORMAT}` };
  if (!Number.isInteger(d.seq) || !Number.isInteger(d.slots) || typeof d.streamCreated !== 'string') {
    return { ok: false, reason: 'missing seq, slots or streamCreated' };
  }
  if (![d.daemonSets, d.nodes, d.pods, d.shards].every(Array.isArray)) return { ok: false, reason: 'missing collections' };
  if (d.namespaces !== undefined && !Array.isArray(d.namespaces)) return { ok: false, reason: 'namespaces is not a list' };
  try {
    const state = initialState();
    state.seq = d.seq!;
    state.lastTimeMs = d.lastTimeMs ?? 0;
    state.firstTimeMs = typeof d.firstTimeMs === 'number' ? d.firstTimeMs : 0;
    for (const ds of d.daemonSets!) {
      state.daemonSets.set(`${ds.namespace}/${ds.name}`, {
        ...ds,
        createsByNode: new Map(ds.createsByNode),
        failedBackoff: new Map(ds.failedBackoff),
        rolledOff: new Map(ds.rolledOff ?? []),
      });
    }
    for (const node of d.nodes!) state.nodes.set(node.name, { ...node });
    for (const pod of d.pods!) {
      const key = `${pod.namespace}/${pod.name}`;
      state.pods.set(key, { ...pod });
      if (!pod.owner) continue;
      let byNode = state.podsByOwner.get(pod.owner.uid);
      if (!byNode) state.podsByOwner.set(pod.owner.uid, (byNode = new Map()));
      let keys = byNode.get(pod.node);
      if (!keys) byNode.set(pod.node, (keys = new Set()));
      keys.add(key);
    }
    for (const shard of d.shards!) state.shards.set(shard.slot, { ...shard });
    for (const ns of d.namespaces ?? []) state.namespaces.set(ns.name, { ...ns });
    return { ok: true, state, data: d as SnapshotData };
  } catch (err) {
    return { ok: false, reason: `unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
}
