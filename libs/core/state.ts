// The folded state of the log: the read model every process derives from the same events.
//
// For speed the fold mutates the state it is given (a fleet of 10,000 nodes and millions of
// events cannot afford a copy per event); it is still pure in the sense that matters here: no
// I/O, no clock, no randomness, so folding the same log always gives the same state.
// Times are stream times in epoch milliseconds.

import type { DefaultedDaemonSetSpec, Labels, PodTemplateSpec, Taint } from '../model/types.js';
import type { DeletePropagation, DaemonSetStatusUpdated, NodeFactSource, TaintSource } from '../events/types.js';

export type DsKey = string; // `${namespace}/${name}`
export type PodKey = string; // `${namespace}/${podName}`

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export type DsStatus = DaemonSetStatusUpdated['data']['status'];

export interface Revision {
  readonly revision: number;
  readonly hash: string;
  readonly template: PodTemplateSpec;
  readonly changeCause?: string;
  /** Stream time the template was first applied, or re-applied (undo renumbers it). */
  readonly appliedMs: number;
  readonly seq: number;
}

/** One node's failed-pod back-off (see DsRecord.failedBackoff); `podUid`: the pod whose delete set it last. */
export interface FailedBackoff {
  readonly delayMs: number;
  readonly lastMs: number;
  readonly podUid?: string;
}

export interface DsRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly slot: number;
  generation: number;
  /** Kubernetes' `deprecated.daemonset.template.generation`: +1 on every template change. */
  templateGeneration: number;
  labels: Labels;
  annotations: Labels;
  spec: DefaultedDaemonSetSpec;
  createdMs: number;
  /** The revision whose template is current. */
  currentHash: string;
  /** Every distinct template ever applied, newest revision last. */
  revisions: Revision[];
  /** Set by a foreground delete: the DaemonSet stays, doing nothing, until its pods are gone. */
  deletion?: { readonly propagation: DeletePropagation; readonly requestedMs: number };
  /** The last status the controller wrote (DaemonSetStatusUpdated). */
  status?: DsStatus;
  /** Creates issued per node so far: the attempt number in the next create's deterministic id. */
  createsByNode: Map<string, number>;
  /**
   * Failed-pod back-off per node (Kubernetes' failedPodsBackoff, key dsUID/node): a failed pod
   * is deleted only once `lastMs + delayMs` has passed; each delete doubles the delay (1 s → 15 min).
   */
  failedBackoff: Map<string, FailedBackoff>;
  /**
   * Nodes whose pod the rolling update deleted and that have had no pod of this DaemonSet created
   * since (stream time of the delete). While such a node is not Ready it is still counted against
   * maxUnavailable, although Kubernetes' rollingUpdate would no longer see it (a node that went
   * NotReady becomes unschedulable for a new pod and drops out of its node list): a burst of
   * NotReady verdicts must not let a rollout take down more nodes than its budget.
   */
  rolledOff: Map<string, number>; // node → log sequence of the RollingUpdate delete
  /** Seq of the last DaemonSetApplied: `dsctl apply` states it for optimistic concurrency. */
  lastSpecSeq: number;
}

export interface NodeRecord {
  readonly name: string;
  incarnation: string;
  /** Effective labels: the agent's overlaid by the admin's (see labelsBySource). */
  labels: Labels;
  labelsBySource: Partial<Record<NodeFactSource, Labels>>;
  /** Taints by the source that owns them; see effectiveTaints(). */
  taints: Partial<Record<TaintSource, readonly Taint[]>>;
  unschedulable: boolean;
  ready: ConditionStatus;
  readyReason: string;
  readyTransitionMs: number;
  capacity: Labels;
  allocatable: Labels;
  registeredMs: number;
  /**
   * Log sequence of the NodeRegistered that began this incarnation: a pod created before it belongs
   * to an earlier incarnation and is gone (0 in states folded before this field: every pod counts).
   */
  incarnationSeq: number;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  /** Slot of the owning DaemonSet when the pod was created (whose controller deletes it). */
  readonly slot: number;
  /**
   * The controlling DaemonSet; undefined once orphaned (delete --cascade=orphan). It may name a
   * DaemonSet uid that no longer exists (a create echo folded after its delete): such a pod is
   * garbage, and the slot's controller deletes it.
   */
  owner?: { readonly name: string; readonly uid: string };
  readonly hash: string;
  readonly templateGeneration: number;
  labels: Labels;
  readonly createdMs: number;
  readonly createSeq: number;
  phase: PodPhase;
  ready: boolean;
  readyTransitionMs: number;
  startedMs?: number;
  restartCount: number;
  /** Set when a PodDelete was issued: the pod is terminating. */
  deletionMs?: number;
  /** Set when an admin asked for the pod's deletion (dsctl delete pod); the controller acts on it. */
  deleteRequestedMs?: number;
  lastReason?: string;
}

/** A Namespace created on the log (NamespaceCreated); see namespaces.ts for the ones that always exist. */
export interface NamespaceRecord {
  readonly name: string;
  readonly uid: string;
  labels: Labels;
  annotations: Labels;
  /** Stream time of the NamespaceCreated that made it. */
  readonly createdMs: number;
  /** Seq of the last NamespaceCreated for it: its resourceVersion, and what a writer states. */
  lastSeq: number;
}

export interface ShardRecord {
  readonly slot: number;
  owner: string;
  epoch: number;
  sinceMs: number;
}

/** A kept, readable record of what happened, for `describe` and `events` (Kubernetes' Events). */
export interface EventRecord {
  readonly seq: number;
  readonly timeMs: number;
  readonly kind: 'Normal' | 'Warning';
  readonly reason: string;
  readonly object: string; // e.g. `daemonset/kube-system/fluentd`
  readonly message: string;
  /** For controller commands: the log sequence the decision was made at (`dsctl replay --at` it). */
  readonly cause?: number;
}

/** How far one part of the log (one slot's `s.<slot>.…`, or the global `g.…`) is folded. */
export interface PartPosition {
  /** Last sequence of this part folded. */
  seq: number;
  /** Its stream time. */
  timeMs: number;
}

export interface State {
  /** Last stream sequence folded into this state, whatever its part. */
  seq: number;
  lastTimeMs: number;
  /** How far the global part of the log (`g.…`: nodes, liveness, namespaces) is folded. */
  readonly global: PartPosition;
  /** How far each slot's part of the log (`s.<slot>.…`) is folded; slots never folded are absent. */
  readonly slotParts: Map<number, PartPosition>;
  /**
   * Every global fact below this sequence is folded. A reader of the whole log in order advances
   * it with every message; a controller reading its slots and the global facts apart only with
   * global ones (see evolve's `inOrder`).
   */
  globalThrough: number;
  /**
   * Pods created while the global facts were behind (their node unknown, or gone, at the fold):
   * whether they exist depends on global facts not folded yet. No view shows them; they become
   * ordinary pods if their node registers before their create, and are dropped once the global
   * facts pass their create without it.
   */
  readonly tentative: Set<PodKey>;
  /** Stream time of the first event folded (0 before any): when the built-in namespaces began. */
  firstTimeMs: number;
  readonly daemonSets: Map<DsKey, DsRecord>;
  readonly nodes: Map<string, NodeRecord>;
  readonly pods: Map<PodKey, PodRecord>;
  /** Index: DaemonSet uid → node → pod keys on that node owned by it. */
  readonly podsByOwner: Map<string, Map<string, Set<PodKey>>>;
  readonly shards: Map<number, ShardRecord>;
  /** Namespaces created on the log, by name. */
  readonly namespaces: Map<string, NamespaceRecord>;
}

export function dsKey(namespace: string, name: string): DsKey {
  return `${namespace}/${name}`;
}

export function podKey(namespace: string, name: string): PodKey {
  return `${namespace}/${name}`;
}

export function initialState(): State {
  return {
    seq: 0,
    lastTimeMs: 0,
    global: { seq: 0, timeMs: 0 },
    slotParts: new Map(),
    globalThrough: 0,
    tentative: new Set(),
    firstTimeMs: 0,
    daemonSets: new Map(),
    nodes: new Map(),
    pods: new Map(),
    podsByOwner: new Map(),
    shards: new Map(),
    namespaces: new Map(),
  };
}

/**
 * "Now" for the decisions about a slot's DaemonSets: the stream time of the latest event folded of
 * that slot's part or of the global part. It depends only on how far those two parts are folded,
 * never on other slots, so a replay of exactly those parts decides the same.
 */
export function decisionTimeMs(state: State, slot: number): number {
  return Math.max(state.slotParts.get(slot)?.timeMs ?? 0, state.global.timeMs);
}

/** Whether a pod is real in this state: not one of the tentative ones (see State.tentative). */
export function isPodVisible(state: State, key: PodKey): boolean {
  return state.tentative.size === 0 || !state.tentative.has(key);
}
