// Node liveness from heartbeats (Kubernetes' node lifecycle controller, reduced to the Ready
// condition): a node silent for longer than the grace period becomes Ready=Unknown, and Ready
// again once heartbeats resume. The verdicts are events, so a replay sees the same history.
// PURE: heartbeat times and the clock are arguments.
//
// Two guards against judging the fleet by the controller's own blindness (issue 19):
// - the grace period never starts before the controller's view of heartbeats was last restored
//   (`sightSinceMs`): after its own outage (a reconnect, a stopped server, its own start) every
//   node gets a full grace, as the node lifecycle controller's probe timestamps do;
// - when a large share of the judged nodes looks silent at once (monitorNodeHealth's
//   PartialDisruption: more than 2 nodes and at least `unhealthyThreshold` of them), no node is
//   judged NotReady: that is far more often the controller's or the bus's trouble than the fleet's.

import type { NodeNotReady, NodeReady } from '../events/types.js';
import type { State } from './state.js';

export const REASON_STATUS_UNKNOWN = 'NodeStatusUnknown';
/** Kubernetes' --unhealthy-zone-threshold default. */
export const DEFAULT_UNHEALTHY_THRESHOLD = 0.55;
/** monitorNodeHealth's zone is disrupted only with more than this many NotReady nodes. */
const DISRUPTION_MIN_NODES = 2;

export interface LivenessInput {
  /** When each node was last heard from (ms); a node missing here counts from its last Ready transition. */
  readonly lastSeenMs: ReadonlyMap<string, number>;
  readonly nowMs: number;
  readonly graceMs: number;
  /**
   * Since when the controller's own view of heartbeats has been continuous (ms), or undefined when
   * it is blind right now (then no node is judged NotReady).
   */
  readonly sightSinceMs: number | undefined;
  /** Share of silent judged nodes at which NotReady verdicts are held (default 0.55; above 1 disables). */
  readonly unhealthyThreshold?: number;
  /** Whether this controller judges the node (it owns the node's slot). */
  readonly judges: (node: string) => boolean;
  /** Nodes with a verdict published but not yet folded back: judged again once it is. */
  readonly pending: ReadonlySet<string>;
}

export interface LivenessDecision {
  readonly verdicts: (NodeReady | NodeNotReady)[];
  /** Set when NotReady verdicts were held back: how many judged nodes looked silent, of how many. */
  readonly held?: { readonly reason: 'blind' | 'disruption'; readonly silent: number; readonly judged: number };
}

export function judgeLiveness(state: State, input: LivenessInput): LivenessDecision {
  const ready: NodeReady[] = [];
  const notReady: NodeNotReady[] = [];
  let judged = 0;
  let silent = 0;
  for (const node of state.nodes.values()) {
    if (!input.judges(node.name)) continue;
    judged++;
    const seen = input.lastSeenMs.get(node.name);
    // The grace period runs from the later of the last heartbeat and the last Ready transition
    // (the node lifecycle controller resets its probe timestamp when the condition changes): a
    // node that just registered again is not judged on a heartbeat from before its outage.
    const since = Math.max(seen ?? Number.NEGATIVE_INFINITY, node.readyTransitionMs);
    const fresh = input.nowMs - since <= input.graceMs;
    if (node.ready === 'Unknown' || (node.ready === 'True' && !fresh)) silent++;
    if (input.pending.has(node.name)) continue;
    if (node.ready === 'True' && !fresh) {
      const sight = input.sightSinceMs;
      if (sight !== undefined && input.nowMs - sight <= input.graceMs) continue; // a full grace since we can see
      notReady.push({
        type: 'NodeNotReady',
        v: 1,
        data: { node: node.name, status: 'Unknown', reason: REASON_STATUS_UNKNOWN, lastHeartbeatMs: seen ?? 0 },
      });
    } else if (node.ready === 'Unknown' && seen !== undefined && seen > node.readyTransitionMs && fresh) {
      ready.push({ type: 'NodeReady', v: 1, data: { node: node.name } });
    }
  }
  if (notReady.length && input.sightSinceMs === undefined) return { verdicts: ready, held: { reason: 'blind', silent, judged } };
  const threshold = input.unhealthyThreshold ?? DEFAULT_UNHEALTHY_THRESHOLD;
  if (notReady.length && silent > DISRUPTION_MIN_NODES && silent >= threshold * judged) {
    return { verdicts: ready, held: { reason: 'disruption', silent, judged } };
  }
  const verdicts = [...ready, ...notReady].sort((a, b) => (a.data.node < b.data.node ? -1 : a.data.node > b.data.node ? 1 : 0));
  return { verdicts };
}
