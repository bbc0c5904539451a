// evolve(state, envelope) -> state: the fold of the log into the read model.
//
// Deterministic: it reads only the state and the envelope (stream time, never the clock), so
// folding the same log twice gives deep-equal states. It mutates and returns `state` (see
// state.ts for why). Every event is idempotent to fold again where a retry could duplicate it.

import type { Envelope, LogEvent } from '../events/types.js';
import type { Labels, Taint } from '../model/types.js';
import { matchesSelector } from '../model/selectors.js';
import { templateHash } from './template-hash.js';
import {
  dsKey,
  podKey,
  type DsRecord,
  type NodeRecord,
  type PodKey,
  type PodRecord,
  type State,
} from './state.js';
import { dsSlot } from '../topology/slot.js';
import { namespaceView } from './namespaces.js';

export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

export interface EvolveOptions {
  /** Slot count of the topology; the fold records each DaemonSet's slot. */
  readonly slots: number;
}

export function evolve(state: State, env: Envelope, opts: EvolveOptions): State {
  const e: LogEvent = env.event;
  const t = env.timeMs;
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
      if (existing && existing.incarnation !== d.incarnation) {
        // The node came back without its local state: pods of the earlier incarnation are gone.
        dropPodsOnNode(state, d.node);
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
      };
      node.incarnation = d.incarnation;
      node.labelsBySource = { ...node.labelsBySource, agent: d.labels };
      node.labels = effectiveLabels(node);
      node.capacity = d.capacity;
      node.allocatable = d.allocatable;
      setReady(node, 'True', 'AgentRegistered', t);
      state.nodes.set(d.node, node);
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
      dropPodsOnNode(state, node.name);
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
      if (state.pods.has(key) || !state.nodes.has(d.node)) break;
      // Memory: a fleet holds 100,000s of pods; what pods of one DaemonSet revision share is
      // stored once (the node's and DaemonSet's own strings, one owner object, one labels object).
      const pod: PodRecord = {
        namespace: live ? live.namespace : d.pod.namespace,
        name: d.pod.name,
        uid: d.pod.uid,
        node: state.nodes.get(d.node)!.name,
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
      break;
    }
    case 'PodDelete': {
      const pod = state.pods.get(podKey(e.data.namespace, e.data.podName));
      if (pod && pod.uid === e.data.podUid && pod.deletionMs === undefined) {
        pod.deletionMs = t;
        pod.lastReason = e.data.reason;
        if (e.data.reason === FAILED_DAEMON_POD) recordFailedBackoff(state, pod, t);
        if (e.data.reason === ROLLING_UPDATE) ownerOf(state, pod)?.rolledOff.set(pod.node, t);
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
  state.seq = env.seq;
  state.lastTimeMs = t;
  if (state.firstTimeMs === 0) state.firstTimeMs = t;
  return state;
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
    if (pod.owner || pod.namespace !== ds.namespace) continue;
    if (!matchesSelector(ds.spec.selector, pod.labels)) continue;
    pod.owner = { name: ds.name, uid: ds.uid };
    indexPod(state, key, pod);
  }
}

/** One owner reference object per DaemonSet record, shared by all its pods. */
const ownerRefs = new WeakMap<DsRecord, { readonly name: string; readonly uid: string }>();

function ownerRefOf(ds: DsRecord): { readonly name: string; readonly uid: string } {
  let ref = ownerRefs.get(ds);
  if (!ref) ownerRefs.set(ds, (ref = { name: ds.name, uid: ds.uid }));
  return ref;
}

/**
 * Identical label sets (all pods of one revision) share one frozen object. A memo, not state:
 * bounded, and clearing it changes no result.
 */
const labelSets = new Map<string, Labels>();
const MAX_LABEL_SETS = 10_000;

export function internLabels(labels: Labels): Labels {
  const key = JSON.stringify(labels);
  let shared = labelSets.get(key);
  if (!shared) {
    if (labelSets.size >= MAX_LABEL_SETS) labelSets.clear();
    labelSets.set(key, (shared = Object.freeze({ ...labels })));
  }
  return shared;
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
function recordFailedBackoff(state: State, pod: PodRecord, t: number): void {
  if (!pod.owner) return;
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  if (!ds || ds.uid !== pod.owner.uid) return;
  const prev = ds.failedBackoff.get(pod.node);
  const stale = !prev || t - prev.lastMs > 2 * FAILED_BACKOFF_MAX_MS;
  const delayMs = stale ? FAILED_BACKOFF_INITIAL_MS : Math.min(prev.delayMs * 2, FAILED_BACKOFF_MAX_MS);
  ds.failedBackoff.set(pod.node, { delayMs, lastMs: t });
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

export function podKeysOf(state: State, ownerUid: string): PodKey[] {
  const byNode = state.podsByOwner.get(ownerUid);
  if (!byNode) return [];
  const out: PodKey[] = [];
  for (const keys of byNode.values()) for (const k of keys) out.push(k);
  return out;
}

function addPod(state: State, key: PodKey, pod: PodRecord): void {
  state.pods.set(key, pod);
  indexPod(state, key, pod);
}

function indexPod(state: State, key: PodKey, pod: PodRecord): void {
  if (!pod.owner) return;
  let byNode = state.podsByOwner.get(pod.owner.uid);
  if (!byNode) state.podsByOwner.set(pod.owner.uid, (byNode = new Map()));
  let keys = byNode.get(pod.node);
  if (!keys) byNode.set(pod.node, (keys = new Set()));
  keys.add(key);
}

function removePod(state: State, key: PodKey, pod: PodRecord): void {
  state.pods.delete(key);
  if (!pod.owner) return;
  const byNode = state.podsByOwner.get(pod.owner.uid);
  const keys = byNode?.get(pod.node);
  if (!byNode || !keys) return;
  keys.delete(key);
  if (keys.size === 0) byNode.delete(pod.node);
  if (byNode.size === 0) state.podsByOwner.delete(pod.owner.uid);
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  if (ds && ds.uid === pod.owner.uid) finishDeletionIfEmpty(state, ds);
}

function dropPodsOnNode(state: State, node: string): void {
  for (const [key, pod] of [...state.pods]) if (pod.node === node) removePod(state, key, pod);
  // A node that left (or came back as a new incarnation) owes no rollout anything.
  for (const ds of state.daemonSets.values()) ds.rolledOff.delete(node);
}

function ownerOf(state: State, pod: PodRecord): DsRecord | undefined {
  if (!pod.owner) return undefined;
  const ds = state.daemonSets.get(dsKey(pod.namespace, pod.owner.name));
  return ds && ds.uid === pod.owner.uid ? ds : undefined;
}

/** A DaemonSet being deleted (background or foreground) disappears once its last pod is gone. */
function finishDeletionIfEmpty(state: State, ds: DsRecord): void {
  if (!ds.deletion) return;
  if (state.podsByOwner.has(ds.uid)) return;
  state.daemonSets.delete(dsKey(ds.namespace, ds.name));
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
