// TwoLivePods: more running pods of a DaemonSet on one node than its strategy allows, judged
// when a pod begins to run.

import type { Envelope } from '../../events/types.js';
import { dsKey, type DsRecord, type PodRecord, type State } from '../state.js';
import type { AuditBreak } from './types.js';
import { liveDsOf, surgeOf } from './view.js';

export interface LivePodsCheck {
  /** The controller created pod `podUid` while `ds` (its DaemonSet, if it lives) was in force. */
  created(podUid: string, ds: DsRecord | undefined): void;
  /**
   * `pod` began to run (or stopped terminating) at `env`: the break if too many now run beside it.
   * Each overlap is reported once, and not at all when it began before the range (it is
   * remembered whether or not the caller keeps the break).
   */
  check(env: Envelope, pod: PodRecord): AuditBreak | undefined;
}

export function livePodsCheck(state: State): LivePodsCheck {
  /** Pod uid → whether its DaemonSet allowed surge when the pod was created (the rule its start is judged by). */
  const surgeAtCreate = new Map<string, boolean>();
  /** TwoLivePods already reported (or begun before the range), by owner, node and pod uids. */
  const overlaps = new Set<string>();

  return {
    created(podUid: string, ds: DsRecord | undefined): void {
      if (!surgeAtCreate.has(podUid)) surgeAtCreate.set(podUid, surgeOf(ds));
    },
    check(env: Envelope, pod: PodRecord): AuditBreak | undefined {
      if (!pod.owner || pod.phase !== 'Running') return undefined;
      // Judged by the strategy in force when the controller created the pod: turning maxSurge off
      // while a replacement is on its way does not make its start a break.
      const surge = surgeAtCreate.get(pod.uid) ?? surgeOf(liveDsOf(state, pod.namespace, pod.owner));
      const live: PodRecord[] = [];
      for (const key of state.podsByOwner.get(pod.owner.uid)?.get(pod.node) ?? []) {
        const p = state.pods.get(key);
        // A terminating pod still runs; only with surge does the controller look past it (as Kubernetes does).
        if (p && p.phase === 'Running' && (!surge || p.deletionMs === undefined)) live.push(p);
      }
      const broken = surge ? live.length > 2 || (live.length === 2 && live[0]!.hash === live[1]!.hash) : live.length > 1;
      if (!broken) return undefined;
      live.sort((a, b) => a.createSeq - b.createSeq);
      const signature = `${pod.owner.uid}/${pod.node}/${live.map((p) => p.uid).sort().join(',')}`;
      if (overlaps.has(signature)) return undefined;
      overlaps.add(signature);
      const name = dsKey(pod.namespace, pod.owner.name);
      const rule = surge
        ? 'with maxSurge > 0 at most two may run, an old one and its replacement'
        : 'its maxSurge is 0, so at most one may run (a replacement only after the old pod is gone)';
      return {
        kind: 'TwoLivePods',
        ds: name,
        node: pod.node,
        seqs: [...live.map((p) => p.createSeq), env.seq],
        message:
          `${live.length} running pods of ${name} on ${pod.node}: ${live.map((p) => `${p.name} (hash ${p.hash}, created at seq ${p.createSeq}${p.deletionMs !== undefined ? ', terminating' : ''})`).join(', ')}; ` +
          `the last began running at seq ${env.seq}; ${rule}`,
      };
    },
  };
}
