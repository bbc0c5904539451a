// What a folded event means to the controller's shell: which DaemonSets must be reconciled again
// (Kubernetes' event handlers, which only enqueue keys), and which in-flight bookkeeping it settles
// (a command seen back clears its expectation, a verdict or a clock tick seen back may be issued
// again). PURE, and exhaustive over the event union: a new event type does not compile until it
// is routed here.
//
// Route before folding: a pod report names its DaemonSet through the pod, which the fold of a
// PodDeleted removes.

import { dsKey, podKey, type DsKey, type State } from '../../libs/core/state.js';
import { isPodReport } from '../../libs/events/event-table.js';
import type { LogEvent } from '../../libs/events/types.js';

export interface Route {
  /** A DaemonSet key, every DaemonSet ('all': a node or the clock changed), or none. */
  readonly touched: DsKey | 'all' | undefined;
  /** A command id seen back on the log (its expectation is met). */
  readonly observed?: string;
  /** A node whose liveness verdict was folded. */
  readonly verdictFor?: string;
  /** A slot whose clock tick was folded. */
  readonly tickedSlot?: number;
}

export function routeEvent(state: State, e: LogEvent): Route {
  // A pod report (libs/events/event-table.ts) names its DaemonSet through the pod it is about.
  if (isPodReport(e)) return { touched: ownerKey(state, e.data.namespace, e.data.podName) };
  switch (e.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
      return { touched: dsKey(e.data.namespace, e.data.name) };
    case 'PodCreate':
      return { touched: dsKey(e.data.ds.namespace, e.data.ds.name), observed: e.data.id };
    case 'PodDelete':
      return { touched: ownerKey(state, e.data.namespace, e.data.podName), observed: e.data.id };
    case 'PodDeleteRequested':
      return { touched: ownerKey(state, e.data.namespace, e.data.podName) };
    case 'NodeReady':
    case 'NodeNotReady':
      return { touched: 'all', verdictFor: e.data.node };
    case 'NodeRegistered':
    case 'NodeLabelsSet':
    case 'NodeTaintsSet':
    case 'NodeUnschedulableSet':
    case 'NodeDeregistered':
      return { touched: 'all' };
    case 'ClockTicked':
      return { touched: 'all', tickedSlot: e.data.slot };
    // The controller's own status writes and shard events, and namespaces (a namespace's
    // DaemonSets are deleted by their own events first), change no decision.
    case 'DaemonSetStatusUpdated':
    case 'ShardAcquired':
    case 'NamespaceCreated':
    case 'NamespaceDeleted':
      return { touched: undefined };
    default:
      return assertNever(e);
  }
}

function ownerKey(state: State, namespace: string, podName: string): DsKey | undefined {
  const pod = state.pods.get(podKey(namespace, podName));
  return pod?.owner ? dsKey(pod.namespace, pod.owner.name) : undefined;
}

function assertNever(x: never): never {
  throw new Error(`unrouted event ${JSON.stringify(x)}`);
}
