// RolloutStalled: a rollout incomplete at the end of the log, idle longer than the stall time,
// with no recorded reason to stand still.

import type { Envelope } from '../../events/types.js';
import { podsOnNode } from '../daemon-view.js';
import { computeStatus } from '../status.js';
import { dsKey, type DsRecord, type State } from '../state.js';
import type { AuditBreak } from './types.js';
import type { EligibleNodes } from './view.js';

export const DEFAULT_STALL_AFTER_MS = 60_000;
/** `"true"` on a DaemonSet: no pod is updated (CONTRACT.md); a paused rollout is not stalled. */
export const PAUSED_ANNOTATION = 'daemonset-js.io/paused';

interface Activity {
  readonly seq: number;
  readonly timeMs: number;
}

export interface StallCheck {
  /** Something happened for the DaemonSet of uid `dsUid` (if known) at `env`. */
  active(dsUid: string | undefined, env: Envelope): void;
  /** The rollouts stalled when the log ends at `end` (its last position and latest stream time); the audit orders their seqs. */
  stalled(end: { readonly seq: number; readonly timeMs: number }): AuditBreak[];
}

/**
 * `rolledOffOf`: the nodes a DaemonSet's rollout took down (the budget's bookkeeping). With
 * `startedFromState`, every DaemonSet counts as active at the state's position.
 */
export function stallCheck(
  state: State,
  eligible: EligibleNodes,
  rolledOffOf: (dsUid: string) => ReadonlyMap<string, number> | undefined,
  stallAfterMs: number,
  startedFromState: boolean,
): StallCheck {
  const lastActivity = new Map<string, Activity>();
  if (startedFromState) for (const ds of state.daemonSets.values()) lastActivity.set(ds.uid, { seq: state.seq, timeMs: state.lastTimeMs });

  /** A recorded reason why the rollout of `ds` may stand still, or undefined. */
  const stallReason = (ds: DsRecord): string | undefined => {
    if (ds.deletion) return 'being deleted';
    if (ds.spec.updateStrategy.type === 'OnDelete') return 'OnDelete';
    if (ds.annotations[PAUSED_ANNOTATION] === 'true') return 'paused';
    const byNode = state.podsByOwner.get(ds.uid);
    for (const node of byNode?.keys() ?? []) {
      for (const p of podsOnNode(state, ds, node)) {
        if (p.phase === 'Failed') return `pod ${p.name} failed`;
        if (!p.ready && p.deletionMs === undefined && (p.restartCount > 0 || p.lastReason !== undefined)) return `pod ${p.name} not ready (${p.lastReason ?? 'restarting'})`;
      }
    }
    const nodes = eligible.of(ds);
    const off = rolledOffOf(ds.uid);
    for (const node of state.nodes.values()) {
      if (node.ready === 'True') continue;
      if (byNode?.has(node.name) || nodes.has(node.name) || off?.has(node.name)) return `node ${node.name} NotReady`;
    }
    return undefined;
  };

  return {
    active(dsUid: string | undefined, env: Envelope): void {
      if (dsUid !== undefined) lastActivity.set(dsUid, { seq: env.seq, timeMs: env.timeMs });
    },
    stalled(end: { readonly seq: number; readonly timeMs: number }): AuditBreak[] {
      const out: AuditBreak[] = [];
      for (const ds of state.daemonSets.values()) {
        const act = lastActivity.get(ds.uid);
        if (!act) continue;
        const idleMs = end.timeMs - act.timeMs;
        if (idleMs <= stallAfterMs) continue;
        const { status } = computeStatus(state, ds, undefined, state.lastTimeMs, ds.generation);
        const observed = ds.status?.observedGeneration ?? 0;
        const desired = status.desiredNumberScheduled;
        if (status.updatedNumberScheduled >= desired && status.numberAvailable >= desired && observed >= ds.generation) continue;
        if (stallReason(ds) !== undefined) continue;
        const name = dsKey(ds.namespace, ds.name);
        out.push({
          kind: 'RolloutStalled',
          ds: name,
          seqs: [act.seq, end.seq],
          message:
            `rollout of ${name} is incomplete (updated ${status.updatedNumberScheduled}/${desired}, available ${status.numberAvailable}/${desired}, ` +
            `observedGeneration ${observed}/${ds.generation}) and nothing happened for it for ${Math.round(idleMs / 1000)}s of log time ` +
            `(last at seq ${act.seq}, the log ends at seq ${end.seq}) with no recorded reason (not paused, not OnDelete, no failing pod, no NotReady node): ` +
            `check that a controller owns slot ${ds.slot} (dsctl get shards) and that the agents report`,
        });
      }
      return out;
    },
  };
}
