// Node liveness from heartbeats (Kubernetes' node lifecycle controller, reduced to the Ready
// condition): a node silent for longer than the grace period becomes Ready=Unknown, and Ready
// again once heartbeats resume. The verdicts are events, so a replay sees the same history.
// PURE: heartbeat times and the clock are arguments.

import type { NodeNotReady, NodeReady } from '../events/types.js';
import type { State } from './state.js';

export const REASON_STATUS_UNKNOWN = 'NodeStatusUnknown';

export interface LivenessInput {
  /** When each node was last heard from (ms); a node missing here counts from its last Ready transition. */
  readonly lastSeenMs: ReadonlyMap<string, number>;
  readonly nowMs: number;
  readonly graceMs: number;
  /** Whether this controller judges the node (it owns the node's slot). */
  readonly judges: (node: string) => boolean;
  /** Nodes with a verdict published but not yet folded back: judged again once it is. */
  readonly pending: ReadonlySet<string>;
}

export function judgeLiveness(state: State, input: LivenessInput): (NodeReady | NodeNotReady)[] {
  const out: (NodeReady | NodeNotReady)[] = [];
  for (const node of state.nodes.values()) {
    if (!input.judges(node.name) || input.pending.has(node.name)) continue;
    const seen = input.lastSeenMs.get(node.name);
    // The grace period runs from the later of the last heartbeat and the last Ready transition
    // (the node lifecycle controller resets its probe timestamp when the condition changes): a
    // node that just registered again is not judged on a heartbeat from before its outage.
    const since = Math.max(seen ?? Number.NEGATIVE_INFINITY, node.readyTransitionMs);
    const fresh = input.nowMs - since <= input.graceMs;
    if (node.ready === 'True' && !fresh) {
      out.push({
        type: 'NodeNotReady',
        v: 1,
        data: { node: node.name, status: 'Unknown', reason: REASON_STATUS_UNKNOWN, lastHeartbeatMs: seen ?? 0 },
      });
    } else if (node.ready === 'Unknown' && seen !== undefined && seen > node.readyTransitionMs && fresh) {
      out.push({ type: 'NodeReady', v: 1, data: { node: node.name } });
    }
  }
  return out;
}
