// Per-DaemonSet views of the state shared by reconcile and status: eligibility per node, the
// pods of a DaemonSet on a node in Kubernetes' order, and whether a pod is up to date. PURE.

import { nodeShouldRunDaemonPod, type Verdict } from './eligibility.js';
import { effectiveTaints } from './node-taints.js';
import type { DsRecord, NodeRecord, PodRecord, State } from './state.js';

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
    if (p) out.push(p);
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

