// Which revisions of a DaemonSet still exist as ControllerRevisions: the fold keeps every
// template ever applied (DsRecord.revisions), while Kubernetes' controller prunes old ones in
// cleanupHistory. `rollout history` and `rollout undo` see only what it would keep. PURE.

import type { DsRecord, Revision, State } from '../core/state.js';

function byRevision(a: Revision, b: Revision): number {
  return a.revision - b.revision;
}

/** Hashes carried by any pod of the DaemonSet, terminating or terminal ones included. */
function liveHashes(ds: DsRecord, state: State): Set<string> {
  const out = new Set<string>();
  for (const keys of state.podsByOwner.get(ds.uid)?.values() ?? []) {
    for (const key of keys) {
      const pod = state.pods.get(key);
      if (pod) out.add(pod.hash);
    }
  }
  return out;
}

/**
 * DaemonSetsController.cleanupHistory: the current revision always stays; of the old ones,
 * `len(old) − revisionHistoryLimit` are deleted, oldest first, skipping any revision whose hash
 * a pod still carries. Returned in ascending revision order.
 */
export function keptRevisions(ds: DsRecord, state: State): Revision[] {
  const sorted = [...ds.revisions].sort(byRevision);
  const old = sorted.filter((r) => r.hash !== ds.currentHash);
  let toKill = old.length - ds.spec.revisionHistoryLimit;
  if (toKill <= 0) return sorted;
  const live = liveHashes(ds, state);
  const killed = new Set<number>();
  for (const r of old) {
    if (toKill <= 0) break;
    if (live.has(r.hash)) continue;
    killed.add(r.revision);
    toKill--;
  }
  return sorted.filter((r) => !killed.has(r.revision));
}
