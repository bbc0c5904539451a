// What the checkers read off the folded state: a pod or a DaemonSet by the identity an event
// names, whether a DaemonSet surges, and the nodes it should run on.

import { noExecuteDeadline, verdictFor } from '../daemon-view.js';
import { scaledValue } from '../reconcile.js';
import { dsKey, podKey, type DsRecord, type PodRecord, type State } from '../state.js';

/** The DaemonSet `owner` names, if it still lives (same uid). */
export function liveDsOf(state: State, namespace: string, owner: PodRecord['owner']): DsRecord | undefined {
  if (!owner) return undefined;
  const ds = state.daemonSets.get(dsKey(namespace, owner.name));
  return ds && ds.uid === owner.uid ? ds : undefined;
}

/** The pod of that name, if it is the one of that uid. */
export function podOf(state: State, namespace: string, name: string, uid: string): PodRecord | undefined {
  const pod = state.pods.get(podKey(namespace, name));
  return pod && pod.uid === uid ? pod : undefined;
}

/** Whether the DaemonSet's strategy lets a replacement start beside the old pod (maxSurge > 0). */
export function surgeOf(ds: DsRecord | undefined): boolean {
  const s = ds?.spec.updateStrategy;
  return s !== undefined && s.type === 'RollingUpdate' && scaledValue(s.rollingUpdate.maxSurge, 1) > 0;
}

export interface EligibleNodes {
  /** The nodes `ds` should run on now. */
  of(ds: DsRecord): Set<string>;
  /** A node was added, removed or changed: every DaemonSet's set is computed again. */
  topologyChanged(): void;
}

/** Eligible nodes per DaemonSet, recomputed when a node or the DaemonSet's spec changes. */
export function eligibleNodes(state: State): EligibleNodes {
  let topologyVersion = 0;
  const cache = new Map<string, { version: number; spec: DsRecord['spec']; nodes: Set<string> }>();
  return {
    of(ds: DsRecord): Set<string> {
      const cached = cache.get(ds.uid);
      if (cached && cached.version === topologyVersion && cached.spec === ds.spec) return cached.nodes;
      const nodes = new Set<string>();
      // As reconcile sees them: a NoExecute taint tolerated only for a while makes a node one that
      // should not run a (new) pod.
      for (const node of state.nodes.values()) if (verdictFor(ds, node).shouldRun && noExecuteDeadline(ds, node) === undefined) nodes.add(node.name);
      cache.set(ds.uid, { version: topologyVersion, spec: ds.spec, nodes });
      return nodes;
    },
    topologyChanged(): void {
      topologyVersion++;
    },
  };
}
