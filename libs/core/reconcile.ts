// reconcile(state, key, ctx) -> decision: one level-triggered pass over one DaemonSet.
//
// Mirrors Kubernetes' syncDaemonSet after the expectations gate (the shell checks the gate):
// `manage` (per-node create/delete, podsShouldBeOnNode) and, only when manage had nothing to do,
// `rollingUpdate` (update.go). It looks at the whole current view, never at the event that woke
// it. PURE: the clock is `ctx.nowMs`, ids are derived from the state.

import type { PodCreate, PodDelete, PodCommand } from '../events/types.js';
import type { IntOrString } from '../model/types.js';
import type { Verdict } from './eligibility.js';
import { daemonPodSpec } from './daemon-pod.js';
import { createIdentity, deleteCommandId, podNameFor } from './ids.js';
import { garbageOf, isUpdated, noExecuteDeadline, podsOnNode, verdictFor } from './daemon-view.js';
import { FAILED_DAEMON_POD, ROLLING_UPDATE } from './evolve.js';
import { computeStatus, isPodAvailable, isPodReady } from './status.js';
import { podKey, type DsKey, type DsRecord, type DsStatus, type PodRecord, type State } from './state.js';

export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

export interface ReconcileContext {
  /**
   * "Now" for time-dependent decisions. The controller passes the stream time of the latest
   * event it folded (state.lastTimeMs), never its wall clock, so a replay decides the same.
   */
  readonly nowMs: number;
  /** Epoch of the slot lease this controller holds for the DaemonSet's slot. */
  readonly epoch: number;
  /** At most this many creates and, separately, deletes per pass (Kubernetes' BurstReplicas, 250). */
  readonly burst?: number;
}

export const DEFAULT_BURST = 250;

export interface Decision {
  readonly commands: readonly PodCommand[];
  /** The status to record; undefined when it equals the last recorded one. */
  readonly status?: DsStatus;
  /** When a time-dependent fact (minReadySeconds) changes the answer; the shell wakes then. */
  readonly wakeAtMs?: number;
  /** Which phase produced the commands, for logs and tests. */
  readonly phase: 'idle' | 'manage' | 'rollingUpdate' | 'delete';
}

/** Kubernetes' manage() map: terminal pods that are already being deleted are invisible. */
function visiblePods(pods: readonly PodRecord[]): PodRecord[] {
  return pods.filter((p) => !(p.deletionMs !== undefined && (p.phase === 'Failed' || p.phase === 'Succeeded')));
}

/** maxSurge/maxUnavailable scaled to `desired`: ints as they are, percentages rounded up. */
export function scaledValue(value: IntOrString | undefined, desired: number): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value.trim());
  if (!m) return Number.parseInt(value, 10) || 0;
  return Math.ceil((desired * Number(m[1])) / 100);
}

/**
 * Kubernetes' updatedDesiredNodeCounts: maxSurge and maxUnavailable scaled to the desired node
 * count; when both come out 0 on a non-empty DaemonSet, maxUnavailable is 1 so a rollout can move.
 */
export function rollingBudget(
  ru: { readonly maxUnavailable?: IntOrString; readonly maxSurge?: IntOrString },
  desired: number,
): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = scaledValue(ru.maxSurge, desired);
  let maxUnavailable = scaledValue(ru.maxUnavailable, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export function reconcile(state: State, key: DsKey, ctx: ReconcileContext): Decision {
  const ds = state.daemonSets.get(key);
  if (!ds) return collectGarbage(state, key, ctx);
  const b = new CommandBuilder(state, ds, ctx);

  if (ds.deletion) {
    // Cascading delete: every pod goes; the DaemonSet record disappears with the last one.
    for (const node of state.podsByOwner.get(ds.uid)?.keys() ?? []) {
      for (const pod of podsOnNode(state, ds, node)) if (pod.deletionMs === undefined) b.remove(pod, 'DaemonSetDeleted');
    }
    return { commands: b.commands, phase: b.commands.length ? 'delete' : 'idle' };
  }

  // Pods left by an earlier DaemonSet of this name (another uid) are garbage.
  for (const pod of garbageOf(state, key)) b.remove(pod, 'GarbageCollected');

  const verdicts = new Map<string, Verdict>();
  for (const node of state.nodes.values()) {
    let v = verdictFor(ds, node);
    // A NoExecute taint tolerated only for tolerationSeconds: no new pod goes there, and the
    // running one is evicted when the time runs out (Kubernetes' taint manager).
    if (v.shouldContinueRunning) {
      const deadline = noExecuteDeadline(ds, node);
      if (deadline !== undefined) {
        if (ctx.nowMs >= deadline) v = { shouldRun: false, shouldContinueRunning: false, reason: 'TaintManagerEviction' };
        else {
          v = { shouldRun: false, shouldContinueRunning: true, reason: 'NoExecuteTolerationExpiring' };
          b.wakeAt(deadline);
        }
      }
    }
    verdicts.set(node.name, v);
  }

  manage(state, ds, verdicts, b, ctx.nowMs);
  let phase: Decision['phase'] = b.commands.length ? 'manage' : 'idle';
  if (!b.commands.length && ds.spec.updateStrategy.type === 'RollingUpdate') {
    rollingUpdate(state, ds, verdicts, b, ctx.nowMs);
    if (b.commands.length) phase = 'rollingUpdate';
  }

  const { status, wakeAtMs } = computeStatus(state, ds, verdicts, ctx.nowMs, ds.generation);
  if (wakeAtMs !== undefined) b.wakeAt(wakeAtMs);
  // Kubernetes' updatePod enqueues the DaemonSet minReadySeconds after ANY of its pods goes
  // Ready, not only the oldest pod of a node that status looks at: with surge the new pod is
  // the younger one, and its becoming available is what lets the old one go.
  const minReady = ds.spec.minReadySeconds;
  if (minReady > 0) {
    for (const node of state.podsByOwner.get(ds.uid)?.keys() ?? []) {
      for (const pod of podsOnNode(state, ds, node)) {
        if (pod.deletionMs === undefined && isPodReady(pod) && !isPodAvailable(pod, minReady, ctx.nowMs)) {
          b.wakeAt(pod.readyTransitionMs + minReady * 1000 + 1);
        }
      }
    }
  }
  return {
    commands: b.commands,
    status: statusChanged(ds.status, status) ? status : undefined,
    wakeAtMs: b.wakeAtMs,
    phase,
  };
}

/** No DaemonSet at `key`: delete the pods a dead owner of that name left behind. */
function collectGarbage(state: State, key: DsKey, ctx: ReconcileContext): Decision {
  const garbage = garbageOf(state, key);
  const commands: PodDelete[] = garbage.slice(0, ctx.burst ?? DEFAULT_BURST).map((pod) => ({
    type: 'PodDelete',
    v: 1,
    data: {
      id: deleteCommandId(pod.uid, ctx.epoch),
      slot: pod.slot,
      epoch: ctx.epoch,
      node: pod.node,
      ...decidedAt(state, pod.slot),
      namespace: pod.namespace,
      podName: pod.name,
      podUid: pod.uid,
      reason: 'GarbageCollected',
    },
  }));
  return { commands, phase: commands.length ? 'delete' : 'idle' };
}

export function statusChanged(prev: DsStatus | undefined, next: DsStatus): boolean {
  if (!prev) return true;
  return (Object.keys(next) as (keyof DsStatus)[]).some((k) => prev[k] !== next[k]);
}

function surgeEnabled(ds: DsRecord): boolean {
  const s = ds.spec.updateStrategy;
  return s.type === 'RollingUpdate' && scaledValue(s.rollingUpdate.maxSurge, 1) > 0;
}

/** Kubernetes' manage + podsShouldBeOnNode. */
function manage(state: State, ds: DsRecord, verdicts: Map<string, Verdict>, b: CommandBuilder, nowMs: number): void {
  const surge = surgeEnabled(ds);
  for (const node of state.nodes.values()) {
    const v = verdicts.get(node.name)!;
    const pods = visiblePods(podsOnNode(state, ds, node.name));
    if (v.shouldRun && pods.length === 0) {
      b.create(node.name);
    } else if (v.shouldContinueRunning) {
      const running: PodRecord[] = [];
      for (const pod of pods) {
        if (pod.deletionMs !== undefined) continue;
        if (pod.deleteRequestedMs !== undefined) {
          b.remove(pod, 'DeletedByUser');
        } else if (pod.phase === 'Failed') {
          // Kubernetes' failedPodsBackoff: delete now unless the node's back-off is running.
          const backoff = ds.failedBackoff.get(node.name);
          if (backoff && nowMs - backoff.lastMs < backoff.delayMs) b.wakeAt(backoff.lastMs + backoff.delayMs);
          else b.remove(pod, FAILED_DAEMON_POD);
        } else if (pod.phase === 'Succeeded') b.remove(pod, 'SucceededDaemonPod');
        else running.push(pod);
      }
      if (!surge) {
        // Keep the oldest running pod, delete the rest.
        for (const extra of running.slice(1)) b.remove(extra, 'ExcessDaemonPod');
      } else {
        if (running.length === 0 && v.shouldRun) b.create(node.name);
        if (running.length > 1) {
          const oldestNew = running.find((p) => isUpdated(ds, p));
          const oldestOld = running.find((p) => !isUpdated(ds, p));
          for (const p of running) if (p !== oldestNew && p !== oldestOld) b.remove(p, 'ExcessDaemonPod');
          if (oldestNew && oldestOld) {
            // podsShouldBeOnNode: the old pod goes when it is not READY (IsPodReady, not
            // IsPodAvailable: a ready old pod inside its minReadySeconds still serves), or once
            // the new pod is available.
            if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec.minReadySeconds, nowMs)) {
              b.remove(oldestOld, 'SurgeReplaced');
            }
          }
        }
      }
    } else {
      for (const pod of pods) if (pod.deletionMs === undefined) b.remove(pod, v.reason ?? 'NodeNoLongerEligible');
    }
  }
}

/** Kubernetes' findUpdatedPodsOnNode: at most one new and one old live pod, else not ok. */
function findUpdatedPodsOnNode(ds: DsRecord, pods: readonly PodRecord[]): { ok: boolean; newPod?: PodRecord; oldPod?: PodRecord } {
  let newPod: PodRecord | undefined;
  let oldPod: PodRecord | undefined;
  for (const pod of pods) {
    if (pod.deletionMs !== undefined) continue;
    if (isUpdated(ds, pod)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { ok: true, newPod, oldPod };
}

/** Kubernetes' rollingUpdate (update.go). Nodes are walked in name order (Go's is map order). */
function rollingUpdate(state: State, ds: DsRecord, verdicts: Map<string, Verdict>, b: CommandBuilder, nowMs: number): void {
  const strategy = ds.spec.updateStrategy;
  if (strategy.type !== 'RollingUpdate') return;
  const minReady = ds.spec.minReadySeconds;
  const nodes = [...state.nodes.values()]
    .filter((n) => verdicts.get(n.name)!.shouldRun || (state.podsByOwner.get(ds.uid)?.has(n.name) ?? false))
    .sort((a, b2) => (a.name < b2.name ? -1 : a.name > b2.name ? 1 : 0));
  const desired = [...verdicts.values()].filter((v) => v.shouldRun).length;
  const { maxSurge, maxUnavailable } = rollingBudget(strategy.rollingUpdate, desired);

  if (maxSurge === 0) {
    // Nodes this rollout took down that have since gone NotReady and so dropped out of `nodes`
    // (no pod, no longer schedulable) still count: their unavailability is the rollout's doing.
    const listed = new Set(nodes.map((n) => n.name));
    let numUnavailable = 0;
    for (const name of ds.rolledOff.keys()) {
      if (!listed.has(name) && state.nodes.get(name)?.ready !== 'True') numUnavailable++;
    }
    const allowed: PodRecord[] = [];
    const candidates: PodRecord[] = [];
    for (const node of nodes) {
      const { ok, newPod, oldPod } = findUpdatedPodsOnNode(ds, podsOnNode(state, ds, node.name));
      if (!ok) {
        numUnavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
      else if (newPod) {
        if (!isPodAvailable(newPod, minReady, nowMs)) numUnavailable++;
      } else if (oldPod) {
        if (!isPodAvailable(oldPod, minReady, nowMs)) {
          allowed.push(oldPod);
          numUnavailable++;
        } else if (numUnavailable < maxUnavailable) {
          candidates.push(oldPod);
        }
      }
    }
    const remaining = Math.max(0, Math.min(maxUnavailable - numUnavailable, candidates.length));
    for (const pod of [...allowed, ...candidates.slice(0, remaining)]) b.remove(pod, ROLLING_UPDATE);
    return;
  }

  let numSurge = 0;
  let numAvailable = 0;
  const createOn: string[] = [];
  const candidateNodes: string[] = [];
  const notRun: PodRecord[] = [];
  for (const node of nodes) {
    const { ok, newPod, oldPod } = findUpdatedPodsOnNode(ds, podsOnNode(state, ds, node.name));
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod) numAvailable += isPodAvailable(oldPod, minReady, nowMs) ? 1 : 0;
    else if (newPod) numAvailable += isPodAvailable(newPod, minReady, nowMs) ? 1 : 0;
    if (!oldPod) continue;
    const shouldRun = verdicts.get(node.name)!.shouldRun;
    if (!newPod) {
      if (!isPodAvailable(oldPod, minReady, nowMs)) {
        if (!shouldRun) b.remove(oldPod, 'RollingUpdate');
        else createOn.push(node.name);
      } else if (!shouldRun) notRun.push(oldPod);
      else if (numSurge < maxSurge) candidateNodes.push(node.name);
    } else if (!isPodAvailable(newPod, minReady, nowMs)) {
      numSurge++;
    } else {
      b.remove(oldPod, 'RollingUpdate');
    }
  }
  const surplus = numAvailable - desired;
  if (surplus > 0) for (const pod of notRun.slice(0, surplus)) b.remove(pod, ROLLING_UPDATE);
  const room = Math.max(0, Math.min(maxSurge - numSurge, candidateNodes.length));
  for (const node of [...createOn, ...candidateNodes.slice(0, room)]) b.create(node);
}

/** Builds commands with deterministic ids and pod names that are unique in the state. */
class CommandBuilder {
  readonly commands: PodCommand[] = [];
  wakeAtMs: number | undefined;
  private readonly namesTaken = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private creates = 0;
  private deletes = 0;

  constructor(
    private readonly state: State,
    private readonly ds: DsRecord,
    private readonly ctx: ReconcileContext,
  ) {}

  wakeAt(ms: number): void {
    this.wakeAtMs = this.wakeAtMs === undefined ? ms : Math.min(this.wakeAtMs, ms);
  }

  private get burst(): number {
    return this.ctx.burst ?? DEFAULT_BURST;
  }

  create(node: string): void {
    // Past the burst the rest waits for the next pass (after these are seen back).
    if (this.creates >= this.burst) return;
    this.creates++;
    const ds = this.ds;
    const attempt = this.attempts.get(node) ?? ds.createsByNode.get(node) ?? 0;
    this.attempts.set(node, attempt + 1);
    const id = createIdentity(ds.uid, node, ds.currentHash, attempt, this.ctx.epoch);
    let salt = 0;
    let name = podNameFor(ds.name, id.nameSeed, salt);
    while (this.state.pods.has(podKey(ds.namespace, name)) || this.namesTaken.has(name)) {
      name = podNameFor(ds.name, id.nameSeed, ++salt);
    }
    this.namesTaken.add(name);
    const template = ds.spec.template;
    const cmd: PodCreate = {
      type: 'PodCreate',
      v: 1,
      data: {
        id: id.commandId,
        slot: ds.slot,
        epoch: this.ctx.epoch,
        node,
        ...decidedAt(this.state, this.ds.slot),
        ds: { namespace: ds.namespace, name: ds.name, uid: ds.uid },
        pod: {
          namespace: ds.namespace,
          name,
          uid: id.podUid,
          labels: {
            ...(template.metadata?.labels ?? {}),
            [REVISION_HASH_LABEL]: ds.currentHash,
            [TEMPLATE_GENERATION_LABEL]: String(ds.templateGeneration),
          },
          annotations: { ...(template.metadata?.annotations ?? {}) },
          spec: daemonPodSpec(template.spec, node),
          hash: ds.currentHash,
          templateGeneration: ds.templateGeneration,
        },
      },
    };
    this.commands.push(cmd);
  }

  remove(pod: PodRecord, reason: string): void {
    if (this.deletes >= this.burst) return;
    if (this.commands.some((c) => c.type === 'PodDelete' && c.data.podUid === pod.uid)) return;
    this.deletes++;
    const cmd: PodDelete = {
      type: 'PodDelete',
      v: 1,
      data: {
        id: deleteCommandId(pod.uid, this.ctx.epoch),
        slot: this.ds.slot,
        epoch: this.ctx.epoch,
        node: pod.node,
        ...decidedAt(this.state, this.ds.slot),
        namespace: pod.namespace,
        podName: pod.name,
        podUid: pod.uid,
        reason,
        ...(pod.owner ? { ds: { namespace: pod.namespace, name: pod.owner.name, uid: pod.owner.uid } } : {}),
      },
    };
    this.commands.push(cmd);
  }
}

/** Where a decision about a slot was made: the log position, and how far its slot and the global facts were folded. */
export function decidedAt(state: State, slot: number): { causeSeq: number; slotSeq: number; globalSeq: number } {
  return { causeSeq: state.seq, slotSeq: state.slotParts.get(slot)?.seq ?? 0, globalSeq: state.global.seq };
}
