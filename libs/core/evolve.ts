// evolve(state, envelope) -> state: the fold of the log into the read model.
//
// Deterministic: it reads only the state and the envelope (stream time, never the clock), so
// folding the same log twice gives deep-equal states. It mutates and returns `state` (see
// state.ts for why). Every event is idempotent to fold again where a retry could duplicate it.

import type { Envelope, LogEvent } from '../events/types.js';
import type { Taint } from '../model/types.js';
import { matchesSelector } from '../model/selectors.js';
import { templateHash } from './template-hash.js';
import {
  dsKey,
  podKey,
  type DsRecord,
  type NodeRecord,
  type PodRecord,
  type State,
} from './state.js';
import { dsSlot } from '../topology/slot.js';
import { namespaceView } from './namespaces.js';
import { advanceGlobalThrough, dropTentativeOnNode, partOf, settleTentativeOnNode } from './log-parts.js';
import { internLabels, ownerRefOf } from './shared-records.js';
import { addPod, dropPodsOnNode, finishDeletionIfEmpty, indexPod, ownerOf, podKeysOf, removePod } from './pod-index.js';

export { advanceGlobalThrough, partOf, settleParts, type LogPart } from './log-parts.js';
export { podKeysOf } from './pod-index.js';
export { internLabels } from './shared-records.js';

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

export interface EvolveOptions {
  /** Slot count of the topology; the fold records each DaemonSet's slot. */
  readonly slots: number;
  /**
   * Whether the envelopes come from one reader of the whole log, in order (default true): then
   * every global fact before an envelope has been folded when it arrives. A controller that reads
   * its slots and the global facts with separate consumers folds them interleaved in any order and
   * passes false; its state is still a function of how far each part is folded (see below).
   */
  readonly inOrder?: boolean;
}

/**
 * Folds one envelope. The log has two kinds of part, read apart by a controller (libs/topology):
 * each slot's `s.<slot>.…` and the global `g.…`. The state after folding is a function of how far
 * each part is folded, whatever the interleaving, because the only rules that join the parts
 * compare log sequences (one total order): a pod exists when its node's current incarnation
 * registered before its create (NodeRegistered.seq < PodCreate.seq) and no deregistration came
 * between; a create folded while the global facts are behind it is kept tentative until they
 * pass it (State.tentative). An envelope at or below its part's position is already folded
 * (a snapshot had it, or a reader read it again) and changes nothing.
 */
export function evolve(state: State, env: Envelope, opts: EvolveOptions): State {
  const e: LogEvent = env.event;
  const t = env.timeMs;
  const part = partOf(state, env, opts.slots);
  const position = part === 'global' ? state.global : part === undefined ? undefined : state.slotParts.get(part);
  if (position && env.seq <= position.seq) return state;
  // Read in order, every global fact before this envelope is folded.
  if (opts.inOrder !== false && env.seq - 1 > state.globalThrough) state.globalThrough = env.seq - 1;
  switch (e.type) {
    case 'DaemonSetApplied':
      applyDaemonSet(state, e.data, env, opts);
      break;
    case 'DaemonSetDeleted': {
      const ds = state.daemonSets.get(dsKey(e.data.namespace, e.data.name));
      if (!ds || ds.uid !== e.data.uid) break;
      if (e.data.propagation === 'orphan') {
        for (const key of podKeysOf(state, ds.uid)) {
          const pod = state.pods.get(key);
          if (pod) pod.owner = undefined;
        }
        state.podsByOwner.delete(ds.uid);
        state.daemonSets.delete(dsKey(ds.namespace, ds.name));
      } else {
        ds.deletion = { propagation: e.data.propagation, requestedMs: t };
        finishDeletionIfEmpty(state, ds);
      }
      break;
    }
    case 'NamespaceCreated': {
      const d = e.data;
      const existing = state.namespaces.get(d.name);
      if (existing && existing.uid === d.uid) {
        // Re-applied metadata of the same namespace.
        existing.labels = d.labels;
        existing.annotations = d.annotations;
        existing.lastSeq = env.seq;
      } else {
        // Metadata applied to a namespace that existed unwritten (built-in, or holding DaemonSets
        // of an older log) keeps its uid and creation time.
        const before = namespaceView(state, d.name);
        const createdMs = before !== undefined && before.uid === d.uid && before.createdMs > 0 ? before.createdMs : t;
        state.namespaces.set(d.name, { name: d.name, uid: d.uid, labels: d.labels, annotations: d.annotations, createdMs, lastSeq: env.seq });
      }
      break;
    }
    case 'NamespaceDeleted': {
      // Its DaemonSets were deleted by their own events before this one (see NamespaceDeleted).
      if (state.namespaces.get(e.data.name)?.uid === e.data.uid) state.namespaces.delete(e.data.name);
      break;
    }
    case 'NodeRegistered': {
      const d = e.data;
      const existing = state.nodes.get(d.node);
      const newIncarnation = !existing || existing.incarnation !== d.incarnation;
      if (existing && newIncarnation) {
        // The node came back without its local state: pods of the earlier incarnation are gone.
        dropPodsOnNode(state, d.node, env.seq);
      } else if (!existing && state.tentative.size > 0) {
        // Creates folded before this registration: those before it never happened.
        dropTentativeOnNode(state, d.node, env.seq);
      }
      const node: NodeRecord = existing ?? {
        name: d.node,
        incarnation: d.incarnation,
        labels: {},
        labelsBySource: {},
        taints: {},
        unschedulable: false,
        ready: 'True',
        readyReason: 'AgentRegistered',
        readyTransitionMs: t,
        capacity: {},
        allocatable: {},
        registeredMs: t,
        incarnationSeq: env.seq,
      };
      if (newIncarnation) node.incarnationSeq = env.seq;
      node.incarnation = d.incarnation;
      node.labelsBySource = { ...node.labelsBySource, agent: d.labels };
      node.labels = effectiveLabels(node);
      node.capacity = d.capacity;
      node.allocatable = d.allocatable;
      setReady(node, 'True', 'AgentRegistered', t);
      state.nodes.set(d.node, node);
      // Tentative creates after this registration are real now.
      if (newIncarnation && state.tentative.size > 0) settleTentativeOnNode(state, d.node);
      break;
    }
    case 'NodeLabelsSet': {
      const node = state.nodes.get(e.data.node);
      if (node) {
        node.labelsBySource = { ...node.labelsBySource, [e.data.source]: e.data.labels };
        node.labels = effectiveLabels(node);
      }
      break;
    }
    case 'NodeTaintsSet': {
      const node = state.nodes.get(e.data.node);
      if (node) node.taints = { ...node.taints, [e.data.source]: stampTimeAdded(node.taints[e.data.source] ?? [], e.data.taints, t) };
      break;
    }
    case 'NodeUnschedulableSet': {
      const node = state.nodes.get(e.data.node);
      if (node) node.unschedulable = e.data.unschedulable;
      break;
    }
    case 'NodeDeregistered': {
      const node = state.nodes.get(e.data.node);
      if (!node || node.incarnation !== e.data.incarnation) break;
      // Creates folded after this (the global facts were behind) stay, tentative: the node may
      // register again before them.
      const later = dropPodsOnNode(state, node.name, env.seq);
      for (const key of later) state.tentative.add(key);
      state.nodes.delete(node.name);
      break;
    }
    case 'NodeReady': {
      const node = state.nodes.get(e.data.node);
      if (node) setReady(node, 'True', 'HeartbeatsResumed', t);
      break;
    }
    case 'NodeNotReady': {
      const node = state.nodes.get(e.data.node);
      if (node) setReady(node, e.data.status, e.data.reason, t);
      break;
    }
    case 'PodCreate': {
      const d = e.data;
      const ds = state.daemonSets.get(dsKey(d.ds.namespace, d.ds.name));
      const live = ds && ds.uid === d.ds.uid ? ds : undefined;
      const key = podKey(d.pod.namespace, d.pod.name);
      // A duplicate of a create already folded (same pod uid) changes nothing, not even the
      // attempt count: folding a retried command twice must give the state of folding it once.
      if (state.pods.get(key)?.uid === d.pod.uid) break;
      if (live) {
        live.createsByNode.set(d.node, (live.createsByNode.get(d.node) ?? 0) + 1);
        live.rolledOff.delete(d.node);
      }
      if (state.pods.has(key)) break;
      const node = state.nodes.get(d.node);
      let tentative = false;
      if (node) {
        // Folded after a later incarnation registered: made for an earlier one, which is gone.
        if (node.incarnationSeq > env.seq) break;
      } else if (state.globalThrough >= env.seq) {
        break; // the node did not exist at this create
      } else {
        tentative = true; // the global facts are behind: its node may yet register before it
      }
      // Memory: a fleet holds 100,000s of pods; what pods of one DaemonSet revision share is
      // stored once (the node's and DaemonSet's own strings, one owner object, one labels object).
      const pod: PodRecord = {
        namespace: live ? live.namespace : d.pod.namespace,
        name: d.pod.name,
        uid: d.pod.uid,
        node: node ? node.name : d.node,
        slot: d.slot,
        // Without a live owner the pod keeps the one it was made for (a dangling reference):
        // garbageOf() finds it and its slot's controller deletes it, as Kubernetes' GC would.
        owner: live ? ownerRefOf(live) : { name: d.ds.name, uid: d.ds.uid },
        hash: live && live.currentHash === d.pod.hash ? live.currentHash : d.pod.hash,
        templateGeneration: d.pod.templateGeneration,
        labels: internLabels(d.pod.labels),
        createdMs: t,
        createSeq: env.seq,
        phase: 'Pending',
        ready: false,
        readyTransitionMs: t,
        restartCount: 0,
      };
      addPod(state, key, pod);
      if (tentative) state.tentative.add(key);
      break;
    }
    case 'PodDelete': {
      const pod = state.pods.get(podKey(e.data.namespace, e.data.podName));
      if (!(pod && pod.uid === e.data.podUid) && e.data.reason === FAILED_DAEMON_POD && e.data.ds) {
        // The pod is gone from this state: its node left or came back as a new incarnation, and
        // the global facts were folded first. The back-off this delete starts holds all the same
        // (a fold of the parts in any order must give the state of a fold in log order).
        recordFailedBackoff(state, { namespace: e.data.namespace, owner: e.data.ds, node: e.data.node, uid: e.data.podUid }, t);
      }
      if (pod && pod.uid === e.data.podUid && pod.deletionMs === undefined) {
        pod.deletionMs = t;
        pod.lastReason = e.data.reason;
        if (e.data.reason === FAILED_DAEMON_POD) recordFailedBackoff(state, pod, t);
        if (e.data.reason === ROLLING_UPDATE) ownerOf(state, pod)?.rolledOff.set(pod.node, env.seq);
      }
      break;
    }
    case 'PodDeleteRequested': {
      const pod = reportedPod(state, e.data);
      if (pod && pod.deleteRequestedMs === undefined) pod.deleteRequestedMs = t;
      break;
    }
    case 'ClockTicked':
      // Only time passes: the envelope's stream time becomes the state's `lastTimeMs`.
      break;
    case 'PodStarted': {
      const pod = reportedPod(state, e.data);
      if (!pod) break;
      if (pod.phase === 'Pending' || pod.phase === 'Running') pod.phase = 'Running';
      pod.startedMs ??= t;
      pod.restartCount = e.data.restartCount;
      break;
    }
    case 'PodReady': {
      const pod = reportedPod(state, e.data);
      if (pod && !pod.ready) {
        pod.ready = true;
        pod.readyTransitionMs = t;
        if (pod.phase === 'Pending') pod.phase = 'Running';
      }
      break;
    }
    case 'PodNotReady': {
      const pod = reportedPod(state, e.data);
      if (pod) {
        if (pod.ready) pod.readyTransitionMs = t;
        pod.ready = false;
        pod.lastReason = e.data.reason;
      }
      break;
    }
    case 'PodFailed': {
      const pod = reportedPod(state, e.data);
      if (pod) {
        if (pod.ready) pod.readyTransitionMs = t;
        pod.ready = false;
        pod.phase = 'Failed';
        pod.lastReason = e.data.reason;
      }
      break;
    }
    case 'PodSucceeded': {
      const pod = reportedPod(state, e.data);
      if (pod) {
        pod.ready = false;
        pod.phase = 'Succeeded';
      }
      break;
    }
    case 'PodDeleted': {
      const key = podKey(e.data.namespace, e.data.podName);
      const pod = state.pods.get(key);
      if (pod && pod.uid === e.data.podUid) removePod(state, key, pod);
      break;
    }
    case 'CommandRejected': {
      const key = podKey(e.data.namespace, e.data.podName);
      const pod = state.pods.get(key);
      if (!pod || pod.uid !== e.data.podUid) break;
      // A refused create never ran: the pod does not exist. A refused delete leaves the pod
      // running and no longer terminating, so the slot's current owner decides again.
      if (e.data.commandType === 'PodCreate') removePod(state, key, pod);
      else pod.deletionMs = undefined;
      break;
    }
    case 'DaemonSetStatusUpdated': {
      const ds = state.daemonSets.get(dsKey(e.data.namespace, e.data.name));
      if (ds && ds.uid === e.data.uid) ds.status = e.data.status;
      break;
    }
    case 'ShardAcquired': {
      state.shards.set(e.data.slot, {
        slot: e.data.slot,
        owner: e.data.owner,
        epoch: e.data.epoch,
        sinceMs: t,
      });
      break;
    }
    default:
      assertNever(e);
  }
  if (part === 'global') {
    advance(state.global, env.seq, t);
  } else if (part !== undefined) {
    const pos = state.slotParts.get(part);
    if (pos) advance(pos, env.seq, t);
    else state.slotParts.set(part, { seq: env.seq, timeMs: t });
  }
  if (part === 'global' || opts.inOrder !== false) advanceGlobalThrough(state, env.seq);
  if (env.seq > state.seq) state.seq = env.seq;
  if (t > state.lastTimeMs) state.lastTimeMs = t;
  // The earliest time folded, whatever the order the parts came in.
  if (state.firstTimeMs === 0 || t < state.firstTimeMs) state.firstTimeMs = t;
  return state;
}

function advance(pos: { seq: number; timeMs: number }, seq: number, t: number): void {
  if (seq > pos.seq) pos.seq = seq;
  if (t > pos.timeMs) pos.timeMs = t;
}

function applyDaemonSet(
  state: State,
  d: Extract<LogEvent, { type: 'DaemonSetApplied' }>['data'],
  env: Envelope,
  opts: EvolveOptions,
): void {
  const key = dsKey(d.namespace, d.name);
  const hash = templateHash(d.spec.template);
  const changeCause = d.annotations[CHANGE_CAUSE_ANNOTATION];
  const existing = state.daemonSets.get(key);
  if (!existing || existing.uid !== d.uid) {
    if (existing) {
      // Re-created under the same name with a new uid: the old object is gone.
      state.daemonSets.delete(key);
    }
    const ds: DsRecord = {
      namespace: d.namespace,
      name: d.name,
      uid: d.uid,
      slot: dsSlot(d.namespace, d.name, opts.slots),
      generation: d.generation,
      templateGeneration: 1,
      labels: d.labels,
      annotations: d.annotations,
      spec: d.spec,
      createdMs: env.timeMs,
      currentHash: hash,
      revisions: [
        { revision: 1, hash, template: d.spec.template, changeCause, appliedMs: env.timeMs, seq: env.seq },
      ],
      createsByNode: new Map(),
      failedBackoff: new Map(),
      rolledOff: new Map(),
      lastSpecSeq: env.seq,
    };
    state.daemonSets.set(key, ds);
    adoptOrphans(state, ds);
    return;
  }
  const ds = existing;
  ds.generation = d.generation;
  ds.labels = d.labels;
  ds.annotations = d.annotations;
  ds.spec = d.spec;
  ds.lastSpecSeq = env.seq;
  if (hash === ds.currentHash) return;
  ds.templateGeneration += 1;
  ds.currentHash = hash;
  // Kubernetes' constructHistory: a template seen before keeps its hash and is renumbered to
  // max+1 (so pods already on it are not restarted); a new template gets max+1.
  // A reused revision keeps its change-cause: a ControllerRevision's annotations are the
  // DaemonSet's at the revision's creation, and renumbering changes only its number.
  const next = Math.max(0, ...ds.revisions.map((r) => r.revision)) + 1;
  const reused = ds.revisions.find((r) => r.hash === hash);
  ds.revisions = ds.revisions.filter((r) => r.hash !== hash);
  ds.revisions.push({
    revision: next,
    hash,
    template: d.spec.template,
    changeCause: reused ? reused.changeCause : changeCause,
    appliedMs: env.timeMs,
    seq: env.seq,
  });
}

/** Pods that match a new DaemonSet's selector and have no controller are adopted (ControllerRefManager). */
function adoptOrphans(state: State, ds: DsRecord): void {
  for (const [key, pod] of state.pods) {
    // Only orphans of the same slot: a controller holds only its own slots (an orphan left by a
    // DaemonSet of the same name, the usual case, is always in it).
    if (pod.owner || pod.namespace !== ds.namespace || pod.slot !== ds.slot) continue;
    if (!matchesSelector(ds.spec.selector, pod.labels)) continue;
    pod.owner = { name: ds.name, uid: ds.uid };
    indexPod(state, key, pod);
  }
}

export const FAILED_DAEMON_POD = 'FailedDaemonPod';
/** The reason of a PodDelete issued by the rolling update (see DsRecord.rolledOff). */
export const ROLLING_UPDATE = 'RollingUpdate';
export const FAILED_BACKOFF_INITIAL_MS = 1_000;
export const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

/**
 * Kubernetes' flowcontrol.Backoff.Next for key dsUID/node: the first failure (or one after the
 * entry went stale: 2 x max without an update) starts at 1 s; each further one doubles, up to 15 min.
 */
function recordFailedBackoff(
  state: State,
  pod: { readonly namespace: string; readonly owner?: { readonly name: string; readonly uid: string } | undefined; readonly node: string; readonly uid: string },
  t: number,
): void {
  if (!pod.owner) return;
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  if (!ds || ds.uid !== pod.owner.uid) return;
  const prev = ds.failedBackoff.get(pod.node);
  if (prev?.podUid === pod.uid) return; // this pod's delete was counted already (a retry)
  const stale = !prev || t - prev.lastMs > 2 * FAILED_BACKOFF_MAX_MS;
  const delayMs = stale ? FAILED_BACKOFF_INITIAL_MS : Math.min(prev.delayMs * 2, FAILED_BACKOFF_MAX_MS);
  ds.failedBackoff.set(pod.node, { delayMs, lastMs: t, podUid: pod.uid });
}

/** NoExecute taints carry the time they were added (tolerationSeconds counts from it); a taint kept keeps its time. */
function stampTimeAdded(previous: readonly Taint[], next: readonly Taint[], t: number): Taint[] {
  return next.map((taint) => {
    if (taint.effect !== 'NoExecute' || taint.timeAdded) return taint;
    const kept = previous.find((p) => p.key === taint.key && p.effect === taint.effect && p.value === taint.value);
    return { ...taint, timeAdded: kept?.timeAdded ?? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  });
}

export function effectiveLabels(node: NodeRecord): NodeRecord['labels'] {
  return { ...(node.labelsBySource.agent ?? {}), ...(node.labelsBySource.admin ?? {}) };
}

function setReady(node: NodeRecord, status: NodeRecord['ready'], reason: string, t: number): void {
  if (node.ready !== status) node.readyTransitionMs = t;
  node.ready = status;
  node.readyReason = reason;
}

function reportedPod(
  state: State,
  d: { readonly namespace: string; readonly podName: string; readonly podUid: string; readonly node: string },
): PodRecord | undefined {
  const pod = state.pods.get(podKey(d.namespace, d.podName));
  return pod && pod.uid === d.podUid && pod.node === d.node ? pod : undefined;
}

function assertNever(x: never): never {
  throw new Error(`unhandled event ${JSON.stringify(x)}`);
}

/**
 * A message that was set aside (undecodable, invalid, forged) changes nothing, but the state has
 * still seen that position of the log: waiting for "folded up to sequence N" must not hang on it.
 */
export function skipPosition(state: State, seq: number): State {
  if (seq > state.seq) state.seq = seq;
  return state;
}
