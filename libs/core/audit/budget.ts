// BudgetExceeded: the rolling update deleted an available pod while maxUnavailable nodes were
// already unavailable. Keeps the rolling-update bookkeeping the state does not hold: when each
// pod was deleted, went ready or unready, and which nodes a rollout took down.

import type { Envelope, PodDelete } from '../../events/types.js';
import { isUpdated } from '../daemon-view.js';
import { ROLLING_UPDATE } from '../evolve.js';
import { rollingBudget } from '../reconcile.js';
import { isPodAvailable } from '../status.js';
import { dsKey, type DsRecord, type PodRecord, type State } from '../state.js';
import type { AuditBreak } from './types.js';
import { liveDsOf, type EligibleNodes } from './view.js';

/**
 * Deletes of a rollout: rollingUpdate's, and with surge manage's replacement of an old pod
 * (podsShouldBeOnNode), which is how a surge rollout takes old pods down.
 */
const ROLLOUT_DELETE_REASONS: ReadonlySet<string> = new Set([ROLLING_UPDATE, 'SurgeReplaced']);
/** A break names at most this many sequences (a budget broken during an outage could name hundreds). */
const MAX_SEQS = 20;

interface Down {
  readonly node: string;
  readonly why: string;
  readonly seq?: number;
  /** The cause is a pod that was ready and went unready at this seq (an unplanned disruption). */
  readonly unreadySince?: number;
}

export interface BudgetCheck {
  /**
   * A PodDelete of `pod` (as the state holds it before the fold), before it is folded: judged
   * when `judge` and the rollout issued it, then recorded.
   */
  deleteIssued(env: Envelope, d: PodDelete['data'], pod: PodRecord | undefined, judge: boolean): AuditBreak | undefined;
  /** A report that `pod` is not ready (or failed), before it is folded. */
  unreadyReported(seq: number, pod: PodRecord | undefined): void;
  /** A PodReady of `pod`, before it is folded. */
  readyReported(seq: number, pod: PodRecord | undefined): void;
  /** A pod of the DaemonSet was created on the node: the rollout no longer owes the node one. */
  podCreated(dsUid: string, node: string): void;
  /** An event touched the DaemonSet's pods on the node: its availability must be judged again. */
  touched(dsUid: string | undefined, node: string): void;
  /** The DaemonSet's spec may have changed: every node's availability must be judged again. */
  specChanged(dsUid: string): void;
  /** The node's agent starts over or leaves: the node owes no rollout anything. */
  nodeStartsOver(node: string): void;
  /** Node → seq of the RollingUpdate delete, until a pod of the DaemonSet is created there again. */
  rolledOffOf(dsUid: string): ReadonlyMap<string, number> | undefined;
}

export function budgetCheck(state: State, eligible: EligibleNodes): BudgetCheck {
  const deleteSeqOf = new Map<string, number>();
  const unreadySeqOf = new Map<string, number>();
  const readySeqOf = new Map<string, number>();
  /** DaemonSet uid → node → seq of the RollingUpdate delete, until a pod of it is created there again (evolve's rolledOff). */
  const rolledOff = new Map<string, Map<string, number>>();
  /**
   * Nodes found available (pods ready past minReadySeconds), per DaemonSet uid and mode: time
   * only makes pods more available, so they stay so until an event touches that DaemonSet's pods
   * on that node, the node starts over, or the DaemonSet's spec changes. Saves re-judging a
   * whole fleet at every delete of a rollout.
   */
  const stable = new Map<string, Set<string>>();
  const stableKey = (dsUid: string, surge: boolean): string => `${dsUid}|${surge ? 'surge' : ''}`;

  /**
   * Why `node` counts as unavailable for `ds` now, or undefined when it is available. Mirrors
   * reconcile's rollingUpdate count (maxSurge 0: findUpdatedPodsOnNode and IsPodAvailable); with
   * surge a node is available when one of its pods that is not terminating is.
   */
  const nodeDown = (ds: DsRecord, node: string, surge: boolean, nowMs: number, except?: PodRecord): Down | undefined => {
    const minReady = ds.spec.minReadySeconds;
    const running: PodRecord[] = [];
    let terminating: PodRecord | undefined;
    for (const key of state.podsByOwner.get(ds.uid)?.get(node) ?? []) {
      const p = state.pods.get(key);
      if (!p || p === except) continue;
      if (p.deletionMs === undefined) running.push(p);
      else terminating ??= p;
    }
    const unready = (p: PodRecord): Down | undefined => {
      if (isPodAvailable(p, minReady, nowMs)) return undefined;
      if (p.ready && p.phase === 'Running') return { node, why: `pod ${p.name} ready for less than minReadySeconds (${minReady}s)`, seq: readySeqOf.get(p.uid) ?? p.createSeq };
      const since = unreadySeqOf.get(p.uid);
      return { node, why: `pod ${p.name} not available`, seq: since ?? p.createSeq, ...(since !== undefined ? { unreadySince: since } : {}) };
    };
    if (running.length === 0) {
      const seq = terminating ? deleteSeqOf.get(terminating.uid) : rolledOff.get(ds.uid)?.get(node);
      return { node, why: terminating ? `pod ${terminating.name} terminating` : 'no pod', ...(seq !== undefined ? { seq } : {}) };
    }
    if (surge) {
      const downs = running.map(unready);
      return downs.some((x) => x === undefined) ? undefined : downs[0];
    }
    if (running.length > 1) {
      running.sort((a, b) => a.createSeq - b.createSeq);
      const updated = running.filter((p) => isUpdated(ds, p)).length;
      const why = updated === running.length ? 'two updated pods' : updated === 0 ? 'two old pods' : 'an old and an updated pod';
      return { node, why, seq: running[running.length - 1]!.createSeq };
    }
    return unready(running[0]!);
  };

  const check = (env: Envelope, d: PodDelete['data'], pod: PodRecord | undefined): AuditBreak | undefined => {
    if (!pod || pod.deletionMs !== undefined) return undefined;
    const ds = liveDsOf(state, pod.namespace, pod.owner);
    if (!ds || ds.deletion || ds.spec.updateStrategy.type !== 'RollingUpdate') return undefined;
    const nowMs = env.timeMs;
    // Kubernetes deletes an old pod that is already unavailable whatever the budget.
    if (!isPodAvailable(pod, ds.spec.minReadySeconds, nowMs)) return undefined;
    const nodes = eligible.of(ds);
    const { maxSurge, maxUnavailable } = rollingBudget(ds.spec.updateStrategy.rollingUpdate, nodes.size);
    const surge = maxSurge > 0;
    if (surge && !nodes.has(pod.node)) return undefined; // not a node the DaemonSet must run on
    // The delete takes the node down only if nothing else there keeps it available.
    if (nodeDown(ds, pod.node, surge, nowMs) !== undefined) return undefined;
    if (nodeDown(ds, pod.node, surge, nowMs, pod) === undefined) return undefined;
    const key = stableKey(ds.uid, surge);
    let known = stable.get(key);
    if (!known) stable.set(key, (known = new Set()));
    const down: Down[] = [];
    const judge = (node: string): void => {
      if (node === pod.node || known.has(node)) return;
      const why = nodeDown(ds, node, surge, nowMs);
      if (!why) known.add(node);
      // A pod that went unready after the decision (causeSeq) is an unplanned disruption the
      // controller could not see: not held against the rollout.
      else if (why.unreadySince === undefined || why.unreadySince <= d.causeSeq) down.push(why);
    };
    // reconcile's node list: eligible nodes, and (maxSurge 0) every node holding a pod of it.
    for (const node of nodes) judge(node);
    const byNode = state.podsByOwner.get(ds.uid);
    if (!surge) {
      for (const node of byNode?.keys() ?? []) if (!nodes.has(node)) judge(node);
      // Nodes this rollout took down that went NotReady since still count (evolve's rolledOff).
      for (const [node, seq] of rolledOff.get(ds.uid) ?? []) {
        if (node !== pod.node && !nodes.has(node) && !byNode?.has(node) && state.nodes.get(node)?.ready !== 'True') down.push({ node, why: 'rolled off, now NotReady', seq });
      }
    }
    if (down.length < maxUnavailable) return undefined;
    const name = dsKey(ds.namespace, ds.name);
    const shown = down.slice(0, 5).map((x) => `${x.node}: ${x.why}${x.seq !== undefined ? ` (seq ${x.seq})` : ''}`).join('; ');
    return {
      kind: 'BudgetExceeded',
      ds: name,
      node: pod.node,
      seqs: [...down.flatMap((x) => (x.seq !== undefined ? [x.seq] : [])).slice(0, MAX_SEQS - 1), env.seq],
      message:
        `the rolling update deleted available pod ${pod.name} on ${pod.node} (${d.reason}) at seq ${env.seq} while ${down.length} node${down.length === 1 ? ' was' : 's were'} ` +
        `already unavailable (${shown}${down.length > 5 ? `; and ${down.length - 5} more` : ''}) and maxUnavailable is ${maxUnavailable}: ` +
        `more nodes down than the budget; the decision was made at seq ${d.causeSeq} (dsctl replay --at ${d.causeSeq} get pods)`,
    };
  };

  return {
    deleteIssued(env: Envelope, d: PodDelete['data'], pod: PodRecord | undefined, judge: boolean): AuditBreak | undefined {
      const found = judge && ROLLOUT_DELETE_REASONS.has(d.reason) ? check(env, d, pod) : undefined;
      if (pod && pod.deletionMs === undefined) {
        if (d.reason === ROLLING_UPDATE) {
          const ds = liveDsOf(state, pod.namespace, pod.owner);
          if (ds) {
            let byNode = rolledOff.get(ds.uid);
            if (!byNode) rolledOff.set(ds.uid, (byNode = new Map()));
            byNode.set(pod.node, env.seq);
          }
        }
        deleteSeqOf.set(pod.uid, env.seq);
      }
      return found;
    },
    unreadyReported(seq: number, pod: PodRecord | undefined): void {
      if (pod?.ready) unreadySeqOf.set(pod.uid, seq);
    },
    readyReported(seq: number, pod: PodRecord | undefined): void {
      if (pod && !pod.ready) readySeqOf.set(pod.uid, seq);
    },
    podCreated(dsUid: string, node: string): void {
      rolledOff.get(dsUid)?.delete(node);
    },
    touched(dsUid: string | undefined, node: string): void {
      if (dsUid === undefined) return;
      stable.get(stableKey(dsUid, true))?.delete(node);
      stable.get(stableKey(dsUid, false))?.delete(node);
    },
    specChanged(dsUid: string): void {
      stable.delete(stableKey(dsUid, true));
      stable.delete(stableKey(dsUid, false));
    },
    nodeStartsOver(node: string): void {
      for (const byNode of rolledOff.values()) byNode.delete(node);
      for (const nodes of stable.values()) nodes.delete(node);
    },
    rolledOffOf(dsUid: string): ReadonlyMap<string, number> | undefined {
      return rolledOff.get(dsUid);
    },
  };
}
