// DaemonSet status exactly as Kubernetes' updateDaemonSetStatus computes it (reference §9). PURE.

import type { Verdict } from './eligibility.js';
import type { DsRecord, DsStatus, PodRecord, State } from './state.js';
import { isUpdated, podsOnNode, verdictFor } from './daemon-view.js';

/** podutil.IsPodReady: the Ready condition is True (a pod that is not Running never is, here). */
export function isPodReady(pod: PodRecord): boolean {
  return pod.ready && pod.phase === 'Running';
}

/** podutil.IsPodAvailable: Ready, and Ready for longer than minReadySeconds. */
export function isPodAvailable(pod: PodRecord, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  return pod.readyTransitionMs + minReadySeconds * 1000 < nowMs;
}

export interface StatusResult {
  readonly status: DsStatus;
  /** Earliest time a ready pod becomes available (minReadySeconds), if any is waiting. */
  readonly wakeAtMs?: number;
}

export function computeStatus(
  state: State,
  ds: DsRecord,
  verdicts: ReadonlyMap<string, Verdict> | undefined,
  nowMs: number,
  observedGeneration: number,
): StatusResult {
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  let wakeAtMs: number | undefined;
  const minReady = ds.spec.minReadySeconds;
  for (const node of state.nodes.values()) {
    const v = verdicts?.get(node.name) ?? verdictFor(ds, node);
    const pods = podsOnNode(state, ds, node.name).filter(
      (p) => !(p.deletionMs !== undefined && (p.phase === 'Failed' || p.phase === 'Succeeded')),
    );
    const scheduled = pods.length > 0;
    if (v.shouldRun) {
      desired++;
      if (!scheduled) continue;
      current++;
      const pod0 = pods[0]!;
      if (isPodReady(pod0)) {
        ready++;
        if (isPodAvailable(pod0, minReady, nowMs)) available++;
        else {
          const at = pod0.readyTransitionMs + minReady * 1000 + 1;
          wakeAtMs = wakeAtMs === undefined ? at : Math.min(wakeAtMs, at);
        }
      }
      if (isUpdated(ds, pod0)) updated++;
    } else if (scheduled) {
      misscheduled++;
    }
  }
  return {
    status: {
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
      updatedNumberScheduled: updated,
      numberMisscheduled: misscheduled,
      observedGeneration,
    },
    wakeAtMs,
  };
}
