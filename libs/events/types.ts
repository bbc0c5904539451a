// The event union: every fact and command that travels on the bus.
//
// Each payload is `{ type, v, data }`: `type` is PascalCase (past tense for facts, imperative for
// commands), `v` the schema version of that type. Stream metadata (sequence, subject, time)
// travels beside the payload in an Envelope, never inside it. Times inside payloads are epoch
// milliseconds (`…Ms`) and only where the author's own clock matters; the fold uses stream time.

import type {
  DefaultedDaemonSetSpec,
  Labels,
  PodSpec,
  Taint,
} from '../model/types.js';

/**
 * Who owns a slice of a node's labels or taints: the node's agent (its flags and measured
 * conditions) or an admin (dsctl label/taint). Effective taints are the union of both; effective
 * labels are the agent's overlaid by the admin's, so an agent restart never wipes admin labels.
 */
export type NodeFactSource = 'agent' | 'admin';
export type TaintSource = NodeFactSource;

export type DeletePropagation = 'background' | 'foreground' | 'orphan';

export interface DsRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

// ---- DaemonSet spec (written by dsctl) --------------------------------------------------

export interface DaemonSetApplied {
  readonly type: 'DaemonSetApplied';
  readonly v: 1;
  readonly data: {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    /** 1 on create; +1 on every spec change (metadata-only changes keep it). */
    readonly generation: number;
    readonly labels: Labels;
    readonly annotations: Labels;
    readonly spec: DefaultedDaemonSetSpec;
  };
}

export interface DaemonSetDeleted {
  readonly type: 'DaemonSetDeleted';
  readonly v: 1;
  readonly data: DsRef & { readonly propagation: DeletePropagation };
}

// ---- Namespaces (dsctl, apiserver) ---------------------------------------------------------

/**
 * A v1 Namespace came into being, or (same uid as the namespace that exists) had its metadata
 * re-applied: `labels` and `annotations` replace the previous ones. Written on `g.ns.<name>`
 * stating the last sequence of that subject, so two creates of one name cannot both win.
 * `kubernetes.io/metadata.name` is not stored: readers add it, as the API server does.
 */
export interface NamespaceCreated {
  readonly type: 'NamespaceCreated';
  readonly v: 1;
  readonly data: {
    readonly name: string;
    readonly uid: string;
    readonly labels: Labels;
    readonly annotations: Labels;
  };
}

/**
 * A namespace is gone. Its writer first deletes every DaemonSet in it (DaemonSetDeleted with
 * background propagation, as the namespace controller's deletion does), then writes this.
 * The built-in namespaces (default, kube-system, kube-public, kube-node-lease) are never deleted.
 */
export interface NamespaceDeleted {
  readonly type: 'NamespaceDeleted';
  readonly v: 1;
  readonly data: { readonly name: string; readonly uid: string };
}

// ---- Nodes (agent, dsctl) ------------------------------------------------------------------

export interface NodeRegistered {
  readonly type: 'NodeRegistered';
  readonly v: 1;
  readonly data: {
    readonly node: string;
    /** Changes when the node comes back without its local state: pods of earlier incarnations are gone. */
    readonly incarnation: string;
    readonly labels: Labels;
    readonly capacity: Labels;
    readonly allocatable: Labels;
  };
}

export interface NodeLabelsSet {
  readonly type: 'NodeLabelsSet';
  readonly v: 1;
  /** Replaces the labels owned by `source` (NodeRegistered sets the agent's). */
  readonly data: { readonly node: string; readonly source: NodeFactSource; readonly labels: Labels };
}

export interface NodeTaintsSet {
  readonly type: 'NodeTaintsSet';
  readonly v: 1;
  /** Replaces the taints owned by `source`; the other sources' taints stay. */
  readonly data: { readonly node: string; readonly source: TaintSource; readonly taints: readonly Taint[] };
}

export interface NodeUnschedulableSet {
  readonly type: 'NodeUnschedulableSet';
  readonly v: 1;
  readonly data: { readonly node: string; readonly unschedulable: boolean };
}

export interface NodeDeregistered {
  readonly type: 'NodeDeregistered';
  readonly v: 1;
  readonly data: { readonly node: string; readonly incarnation: string };
}

// ---- Liveness verdicts (controller) ---------------------------------------------------------

export interface NodeReady {
  readonly type: 'NodeReady';
  readonly v: 1;
  readonly data: { readonly node: string };
}

export interface NodeNotReady {
  readonly type: 'NodeNotReady';
  readonly v: 1;
  /** `status` Unknown = heartbeats stopped (Kubernetes' NodeStatusUnknown); False = the agent said so. */
  readonly data: {
    readonly node: string;
    readonly status: 'False' | 'Unknown';
    readonly reason: string;
    /** Stream time (ms) of the last heartbeat the controller saw, 0 if none. */
    readonly lastHeartbeatMs: number;
  };
}

// ---- Pod commands (controller → agent) ------------------------------------------------------

export interface CommandMeta {
  /** Deterministic id, also sent as Nats-Msg-Id: the server de-duplicates retries. */
  readonly id: string;
  readonly slot: number;
  /** The slot lease's epoch of the controller that issued it; agents refuse lower epochs. */
  readonly epoch: number;
  readonly node: string;
  /**
   * The log sequence the decision was made at (the controller had folded exactly up to here):
   * folding the log to this point and reconciling again yields this command. Its audit trail.
   */
  readonly causeSeq: number;
  /**
   * How far the deciding controller had folded the command's slot (`s.<slot>.…`) and the global
   * facts (`g.…`), which it reads apart: folding exactly those two parts and reconciling again
   * yields this command (the determinism test does). Absent in commands of older builds.
   */
  readonly slotSeq?: number;
  readonly globalSeq?: number;
}

export interface PodCreate {
  readonly type: 'PodCreate';
  readonly v: 1;
  readonly data: CommandMeta & {
    readonly ds: DsRef;
    readonly pod: {
      readonly namespace: string;
      readonly name: string;
      readonly uid: string;
      readonly labels: Labels;
      readonly annotations: Labels;
      /** The template spec plus the node affinity pinning it here and the daemon tolerations. */
      readonly spec: PodSpec;
      readonly hash: string;
      readonly templateGeneration: number;
    };
  };
}

export interface PodDelete {
  readonly type: 'PodDelete';
  readonly v: 1;
  readonly data: CommandMeta & {
    readonly namespace: string;
    readonly podName: string;
    readonly podUid: string;
    /** Why the controller deletes it, for `dsctl events` and audits. */
    readonly reason: string;
    /**
     * The pod's controlling DaemonSet when the delete was decided (absent for an orphan, and in
     * commands of older builds): a FailedDaemonPod delete starts its back-off even when the pod
     * is already gone from a reader's state (its node left, folded before this command).
     */
    readonly ds?: DsRef;
  };
}

// ---- Admin requests (dsctl) -----------------------------------------------------------------

/** `dsctl delete pod`: the slot's controller turns it into a PodDelete (with its epoch). */
export interface PodDeleteRequested {
  readonly type: 'PodDeleteRequested';
  readonly v: 1;
  readonly data: { readonly node: string; readonly namespace: string; readonly podName: string; readonly podUid: string };
}

// ---- Pod reports (agent) --------------------------------------------------------------------

export interface PodReportBase {
  readonly node: string;
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
}

export interface PodStarted {
  readonly type: 'PodStarted';
  readonly v: 1;
  readonly data: PodReportBase & { readonly restartCount: number };
}

export interface PodReady {
  readonly type: 'PodReady';
  readonly v: 1;
  readonly data: PodReportBase;
}

export interface PodNotReady {
  readonly type: 'PodNotReady';
  readonly v: 1;
  readonly data: PodReportBase & { readonly reason: string };
}

export interface PodFailed {
  readonly type: 'PodFailed';
  readonly v: 1;
  readonly data: PodReportBase & { readonly reason: string; readonly exitCode?: number };
}

export interface PodSucceeded {
  readonly type: 'PodSucceeded';
  readonly v: 1;
  readonly data: PodReportBase;
}

export interface PodDeleted {
  readonly type: 'PodDeleted';
  readonly v: 1;
  readonly data: PodReportBase;
}

export interface CommandRejected {
  readonly type: 'CommandRejected';
  readonly v: 1;
  readonly data: {
    readonly node: string;
    readonly commandId: string;
    readonly commandType: 'PodCreate' | 'PodDelete';
    readonly slot: number;
    readonly epoch: number;
    readonly namespace: string;
    readonly podName: string;
    readonly podUid: string;
    readonly reason: 'StaleEpoch' | 'Invalid' | 'DriverError';
    readonly message: string;
  };
}

// ---- Controller facts -----------------------------------------------------------------------

export interface DaemonSetStatusUpdated {
  readonly type: 'DaemonSetStatusUpdated';
  readonly v: 1;
  readonly data: DsRef & {
    readonly status: {
      readonly desiredNumberScheduled: number;
      readonly currentNumberScheduled: number;
      readonly numberReady: number;
      readonly numberAvailable: number;
      readonly numberUnavailable: number;
      readonly updatedNumberScheduled: number;
      readonly numberMisscheduled: number;
      readonly observedGeneration: number;
    };
  };
}

/**
 * Time entering the log: a controller writes it when a time-dependent decision is due
 * (minReadySeconds elapsed, a back-off expired, a tolerationSeconds ran out). Reconcile's
 * "now" is the stream time of the latest event, so replaying the log decides the same.
 */
export interface ClockTicked {
  readonly type: 'ClockTicked';
  readonly v: 1;
  readonly data: { readonly slot: number; readonly reason: string };
}

export interface ShardAcquired {
  readonly type: 'ShardAcquired';
  readonly v: 1;
  readonly data: { readonly slot: number; readonly owner: string; readonly epoch: number };
}

// ---- Heartbeats (their own stream, last per node) -------------------------------------------

export interface Heartbeat {
  readonly type: 'Heartbeat';
  readonly v: 1;
  readonly data: { readonly node: string; readonly incarnation: string; readonly sentMs: number };
}

export type LogEvent =
  | DaemonSetApplied
  | DaemonSetDeleted
  | NamespaceCreated
  | NamespaceDeleted
  | NodeRegistered
  | NodeLabelsSet
  | NodeTaintsSet
  | NodeUnschedulableSet
  | NodeDeregistered
  | NodeReady
  | NodeNotReady
  | PodCreate
  | PodDelete
  | PodStarted
  | PodReady
  | PodNotReady
  | PodFailed
  | PodSucceeded
  | PodDeleted
  | CommandRejected
  | DaemonSetStatusUpdated
  | PodDeleteRequested
  | ClockTicked
  | ShardAcquired;

export type AnyEvent = LogEvent | Heartbeat;

export type EventType = AnyEvent['type'];

export type PodCommand = PodCreate | PodDelete;

/** An event with the stream metadata it was read with. `timeMs` is the stream's receive time. */
export interface Envelope<E extends AnyEvent = LogEvent> {
  readonly seq: number;
  readonly subject: string;
  readonly timeMs: number;
  readonly event: E;
}
