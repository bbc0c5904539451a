// Kubernetes-style Events (SuccessfulCreate, SuccessfulDelete, FailedDaemonPod, ...) derived
// from the log, for `describe` and `events`. Call it BEFORE folding the envelope: a delete
// needs the pod's owner as it was. PURE.

import type { Envelope } from '../events/types.js';
import { dsKey, podKey, type EventRecord, type State } from './state.js';

export function eventRecordOf(state: State, env: Envelope): EventRecord | undefined {
  const e = env.event;
  const cause = e.type === 'PodCreate' || e.type === 'PodDelete' ? { cause: e.data.causeSeq } : {};
  const rec = (kind: EventRecord['kind'], reason: string, object: string, message: string): EventRecord => ({
    seq: env.seq,
    timeMs: env.timeMs,
    kind,
    reason,
    object,
    message,
    ...cause,
  });
  switch (e.type) {
    case 'PodCreate':
      // A create that raced its node's departure never made a pod (see evolve).
      if (!state.nodes.has(e.data.node)) return undefined;
      return rec('Normal', 'SuccessfulCreate', `daemonset/${dsKey(e.data.ds.namespace, e.data.ds.name)}`, `Created pod: ${e.data.pod.name}`);
    case 'PodDelete': {
      const pod = state.pods.get(podKey(e.data.namespace, e.data.podName));
      const owner = pod?.owner ? `daemonset/${dsKey(pod.namespace, pod.owner.name)}` : `pod/${podKey(e.data.namespace, e.data.podName)}`;
      if (e.data.reason === 'FailedDaemonPod') {
        return rec('Warning', 'FailedDaemonPod', owner, `Found failed daemon pod ${e.data.namespace}/${e.data.podName} on node ${e.data.node}, will try to kill it`);
      }
      if (e.data.reason === 'SucceededDaemonPod') {
        return rec('Normal', 'SucceededDaemonPod', owner, `Found succeeded daemon pod ${e.data.namespace}/${e.data.podName} on node ${e.data.node}, will try to delete it`);
      }
      return rec('Normal', 'SuccessfulDelete', owner, `Deleted pod: ${e.data.podName} (${e.data.reason})`);
    }
    case 'PodFailed':
      return rec('Warning', 'Failed', `pod/${podKey(e.data.namespace, e.data.podName)}`, `Pod failed on node ${e.data.node}: ${e.data.reason}`);
    case 'CommandRejected':
      return rec('Warning', 'CommandRejected', `pod/${podKey(e.data.namespace, e.data.podName)}`, `Node ${e.data.node} refused ${e.data.commandType} (${e.data.reason}): ${e.data.message}`);
    case 'NodeRegistered':
      return rec('Normal', 'RegisteredNode', `node/${e.data.node}`, `Node ${e.data.node} event: Registered Node ${e.data.node}`);
    case 'NodeDeregistered':
      return rec('Normal', 'RemovingNode', `node/${e.data.node}`, `Node ${e.data.node} event: Removing Node ${e.data.node}`);
    case 'NodeReady':
      return rec('Normal', 'NodeReady', `node/${e.data.node}`, `Node ${e.data.node} status is now: NodeReady`);
    case 'NodeNotReady':
      return rec('Normal', 'NodeNotReady', `node/${e.data.node}`, `Node ${e.data.node} status is now: NodeNotReady (${e.data.reason})`);
    case 'DaemonSetDeleted':
      return rec('Normal', 'Deleted', `daemonset/${dsKey(e.data.namespace, e.data.name)}`, `DaemonSet deleted (propagation ${e.data.propagation})`);
    default:
      return undefined;
  }
}
