// The pods of the folded state and their index by owner and node: adding, removing and dropping
// them keeps State.pods, State.podsByOwner and State.tentative in step, and finishes a deleting
// DaemonSet once its last pod is gone. Used by the fold (evolve.ts). PURE.

import { dsKey, type DsRecord, type PodKey, type PodRecord, type State } from './state.js';

export function podKeysOf(state: State, ownerUid: string): PodKey[] {
  const byNode = state.podsByOwner.get(ownerUid);
  if (!byNode) return [];
  const out: PodKey[] = [];
  for (const keys of byNode.values()) for (const k of keys) out.push(k);
  return out;
}

export function addPod(state: State, key: PodKey, pod: PodRecord): void {
  state.pods.set(key, pod);
  indexPod(state, key, pod);
}

export function indexPod(state: State, key: PodKey, pod: PodRecord): void {
  if (!pod.owner) return;
  let byNode = state.podsByOwner.get(pod.owner.uid);
  if (!byNode) state.podsByOwner.set(pod.owner.uid, (byNode = new Map()));
  let keys = byNode.get(pod.node);
  if (!keys) byNode.set(pod.node, (keys = new Set()));
  keys.add(key);
}

export function removePod(state: State, key: PodKey, pod: PodRecord): void {
  state.pods.delete(key);
  if (state.tentative.size > 0) state.tentative.delete(key);
  if (!pod.owner) return;
  const byNode = state.podsByOwner.get(pod.owner.uid);
  const keys = byNode?.get(pod.node);
  if (!byNode || !keys) return;
  keys.delete(key);
  if (keys.size === 0) byNode.delete(pod.node);
  if (byNode.size === 0) state.podsByOwner.delete(pod.owner.uid);
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  if (ds && ds.uid === pod.owner.uid) finishDeletionIfEmpty(state, ds);
}

/**
 * Drops the pods on `node` created before `beforeSeq` (a node that left, or came back as a new
 * incarnation); returns the keys of those created after it (folded early: the global facts were
 * behind). A node that left owes no rollout anything done before it left.
 */
export function dropPodsOnNode(state: State, node: string, beforeSeq: number): PodKey[] {
  const later: PodKey[] = [];
  for (const [key, pod] of [...state.pods]) {
    if (pod.node !== node) continue;
    if (pod.createSeq < beforeSeq) removePod(state, key, pod);
    else later.push(key);
  }
  for (const ds of state.daemonSets.values()) {
    const seq = ds.rolledOff.get(node);
    if (seq !== undefined && seq < beforeSeq) ds.rolledOff.delete(node);
  }
  return later;
}

export function ownerOf(state: State, pod: PodRecord): DsRecord | undefined {
  if (!pod.owner) return undefined;
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  return ds && ds.uid === pod.owner.uid ? ds : undefined;
}

/** A DaemonSet being deleted (background or foreground) disappears once its last pod is gone. */
export function finishDeletionIfEmpty(state: State, ds: DsRecord): void {
  if (!ds.deletion) return;
  if (state.podsByOwner.has(ds.uid)) return;
  state.daemonSets.delete(dsKey(ds.namespace, ds.name));
}
