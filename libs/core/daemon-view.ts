// Per-DaemonSet views of the state shared by reconcile and status: eligibility per node, the
// pods of a DaemonSet on a node in Kubernetes' order, and whether a pod is up to date. PURE.

import { nodeShouldRunDaemonPod, type Verdict } from './eligibility.js';
import { daemonTolerations } from './daemon-pod.js';
import { effectiveTaints } from './node-taints.js';
import { tolerates } from '../model/taints.js';
import { isPodVisible, type DsRecord, type NodeRecord, type PodRecord, type State } from './state.js';

export function verdictFor(ds: DsRecord, node: NodeRecord): Verdict {
  return nodeShouldRunDaemonPod(ds.spec.template.spec, {
    name: node.name,
    labels: node.labels,
    taints: effectiveTaints(node),
  });
}

/** The pods of `ds` on `node`, oldest first (podByCreationTimestampAndPhase; all ours are bound). */
export function podsOnNode(state: State, ds: DsRecord, node: string): PodRecord[] {
  const keys = state.podsByOwner.get(ds.uid)?.get(node);
  if (!keys) return [];
  const out: PodRecord[] = [];
  for (const k of keys) {
    const p = state.pods.get(k);
    if (p && isPodVisible(state, k)) out.push(p);
  }
  return out.sort(byAge);
}

export function byAge(a: PodRecord, b: PodRecord): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function isUpdated(ds: DsRecord, pod: PodRecord): boolean {
  return pod.hash === ds.currentHash || pod.templateGeneration === ds.templateGeneration;
}


/**
 * When the pod must leave `node` because of NoExecute taints it tolerates only for a while
 * (tolerationSeconds), as Kubernetes' taint manager computes it: per taint, the smallest
 * tolerationSeconds of the tolerations that match it, counted from the taint's timeAdded; a
 * taint matched by a toleration without tolerationSeconds is tolerated forever. Undefined when
 * nothing expires (untolerated taints are eligibility's business).
 */
export function noExecuteDeadline(ds: DsRecord, node: NodeRecord): number | undefined {
  const tolerations = daemonTolerations(ds.spec.template.spec);
  let deadline: number | undefined;
  for (const taint of effectiveTaints(node)) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0 || matching.some((t) => t.tolerationSeconds === undefined)) continue;
    const seconds = Math.min(...matching.map((t) => Math.max(0, t.tolerationSeconds ?? 0)));
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : node.readyTransitionMs;
    const at = (Number.isNaN(added) ? node.readyTransitionMs : added) + seconds * 1000;
    deadline = deadline === undefined ? at : Math.min(deadline, at);
  }
  return deadline;
}

/**
 * Pods whose owner is a DaemonSet `key` (namespace/name) that no longer exists (or was re-created
 * with another uid): Kubernetes' garbage collector deletes them. Pods already terminating excluded.
 */
export function garbageOf(state: State, key: string): PodRecord[] {
  const live = state.daemonSets.get(key);
  const out: PodRecord[] = [];
  for (const [uid, byNode] of state.podsByOwner) {
    if (live && live.uid === uid) continue;
    // One pod names the owner: look at it before materialising every pod of every other owner.
    const firstKeys = byNode.values().next().value;
    const first = firstKeys ? state.pods.get(firstKeys.values().next().value as string) : undefined;
    if (!first?.owner || `${first.namespace}/${first.owner.name}` !== key) continue;
    const keys = [...byNode.values()].flatMap((set) => [...set]).filter((k) => isPodVisible(state, k));
    for (const pod of keys.map((k) => state.pods.get(k))) if (pod && pod.deletionMs === undefined) out.push(pod);
  }
  return out;
}
