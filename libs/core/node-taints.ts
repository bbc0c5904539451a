// The taints a node effectively carries: what its sources set (agent conditions, admins) plus
// what Kubernetes' node lifecycle controller adds from the Ready condition and cordon. PURE.

import type { Taint } from '../model/types.js';
import type { NodeRecord } from './state.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export function effectiveTaints(node: NodeRecord): Taint[] {
  // The common case (a Ready, schedulable node nobody tainted) allocates nothing: reconcile
  // asks this for every node on every pass.
  if (node.ready === 'True' && !node.unschedulable && !node.taints.admin?.length && !node.taints.agent?.length) return [];
  const byKey = new Map<string, Taint>();
  const add = (t: Taint): void => {
    const k = `${t.key}:${t.effect}`;
    if (!byKey.has(k)) byKey.set(k, t);
  };
  for (const t of node.taints.admin ?? []) add(t);
  for (const t of node.taints.agent ?? []) add(t);
  const since = node.ready === 'True' ? '' : new Date(node.readyTransitionMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (node.ready === 'Unknown') {
    add({ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: since });
    add({ key: TAINT_UNREACHABLE, effect: 'NoSchedule', timeAdded: since });
  } else if (node.ready === 'False') {
    add({ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: since });
    add({ key: TAINT_NOT_READY, effect: 'NoSchedule', timeAdded: since });
  }
  if (node.unschedulable) add({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return [...byKey.values()].sort((a, b) => (a.key === b.key ? a.effect.localeCompare(b.effect) : a.key.localeCompare(b.key)));
}
