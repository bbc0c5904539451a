// A Given/When/Then harness over the REAL fold and reconcile of libs/core.
//
// Builders make log events (`dsApplied`, `nodeRegistered`, `taintsSet`, `podReady`, ...); a
// Scenario wraps them in Envelopes with increasing seq and a stream time it controls, folds them
// with the real `evolve`, and asks the real `reconcile` for a Decision. A Decision's commands can
// be folded back as the controller's echo (`apply`), and agents can be simulated (`runAgents`):
// PodStarted + PodReady for created pods, PodDeleted for deleted ones. The whole log is kept, so
// a test can fold it again from scratch and compare states.
//
// The fixtures follow Kubernetes' daemon_controller_test.go: newDaemonSet("foo") selects
// simpleDaemonSetLabel and runs image "foo/bar"; addNodes names nodes `node-<i>`.

import type {
  CommandRejected,
  DaemonSetApplied,
  DaemonSetDeleted,
  DaemonSetStatusUpdated,
  DeletePropagation,
  Envelope,
  LogEvent,
  NodeDeregistered,
  NodeLabelsSet,
  NodeNotReady,
  NodeReady,
  NodeRegistered,
  NodeTaintsSet,
  NodeUnschedulableSet,
  PodCommand,
  PodCreate,
  PodDelete,
  PodDeleted,
  PodFailed,
  PodNotReady,
  PodReady,
  PodReportBase,
  PodStarted,
  PodSucceeded,
  ShardAcquired,
  TaintSource,
} from '../../libs/events/types.js';
import type { DefaultedDaemonSetSpec, IntOrString, Labels, PodSpec, PodTemplateSpec, Taint } from '../../libs/model/types.js';
import { mulberry32 } from '../../libs/agent-runtime/prng.js';
import { evolve } from '../../libs/core/evolve.js';
import { reconcile, type Decision } from '../../libs/core/reconcile.js';
import { podsOnNode } from '../../libs/core/daemon-view.js';
import { isPodAvailable } from '../../libs/core/status.js';
import { createIdentity, deleteCommandId, podNameFor } from '../../libs/core/ids.js';
import { dsKey, initialState, type DsKey, type DsRecord, type PodRecord, type State } from '../../libs/core/state.js';

/** 2026-01-02T03:04:05Z: stream time of the first event of every scenario. */
export const START_MS = Date.UTC(2026, 0, 2, 3, 4, 5);
export const NS = 'default';
export const SLOTS = 64;
export const EPOCH = 1;

// The fixtures of daemon_controller_test.go.
export const simpleDaemonSetLabel: Labels = { name: 'simple-daemon', type: 'production' };
export const simpleDaemonSetLabel2: Labels = { name: 'simple-daemon', type: 'test' };
export const simpleNodeLabel: Labels = { color: 'blue', speed: 'fast' };
export const simpleNodeLabel2: Labels = { color: 'red', speed: 'fast' };

// ---- event builders ---------------------------------------------------------------------------

export interface DsOptions {
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly labels?: Labels;
  readonly annotations?: Labels;
  /** The first container's image (default "foo/bar"). */
  readonly image?: string;
  /** Merged into the template's pod spec (nodeSelector, tolerations, nodeName, affinity, ...). */
  readonly podSpec?: Partial<PodSpec>;
  /** The template's labels (default simpleDaemonSetLabel); the selector matches them. */
  readonly templateLabels?: Labels;
  readonly templateAnnotations?: Labels;
  /** Overrides of the defaulted spec (selector, updateStrategy, minReadySeconds, ...). */
  readonly spec?: Partial<DefaultedDaemonSetSpec>;
  /** Shorthands for the update strategy. */
  readonly maxUnavailable?: IntOrString;
  readonly maxSurge?: IntOrString;
  readonly onDelete?: boolean;
  readonly minReadySeconds?: number;
}

export function dsTemplate(o: DsOptions = {}): PodTemplateSpec {
  const metadata: { labels: Labels; annotations?: Labels } = { labels: o.templateLabels ?? simpleDaemonSetLabel };
  if (o.templateAnnotations) metadata.annotations = o.templateAnnotations;
  return {
    metadata,
    spec: {
      containers: [{ name: 'foo', image: o.image ?? 'foo/bar' }],
      restartPolicy: 'Always',
      ...(o.podSpec ?? {}),
    },
  };
}

/** newDaemonSet(name) after apps/v1 defaulting, with the overrides of `o`. */
export function dsSpecOf(o: DsOptions = {}): DefaultedDaemonSetSpec {
  const template = dsTemplate(o);
  const updateStrategy: DefaultedDaemonSetSpec['updateStrategy'] = o.onDelete
    ? { type: 'OnDelete' }
    : {
        type: 'RollingUpdate',
        rollingUpdate: {
          maxUnavailable: o.maxUnavailable ?? (o.maxSurge !== undefined ? 0 : 1),
          maxSurge: o.maxSurge ?? 0,
        },
      };
  return {
    selector: { matchLabels: { ...(template.metadata?.labels ?? {}) } },
    template,
    updateStrategy,
    minReadySeconds: o.minReadySeconds ?? 0,
    revisionHistoryLimit: 10,
    ...(o.spec ?? {}),
  };
}

export function dsApplied(name: string, o: DsOptions = {}): DaemonSetApplied {
  return {
    type: 'DaemonSetApplied',
    v: 1,
    data: {
      namespace: o.namespace ?? NS,
      name,
      uid: o.uid ?? `uid-${name}`,
      generation: o.generation ?? 1,
      labels: o.labels ?? {},
      annotations: o.annotations ?? {},
      spec: dsSpecOf(o),
    },
  };
}

export function dsDeleted(name: string, propagation: DeletePropagation, o: { namespace?: string; uid?: string } = {}): DaemonSetDeleted {
  return { type: 'DaemonSetDeleted', v: 1, data: { namespace: o.namespace ?? NS, name, uid: o.uid ?? `uid-${name}`, propagation } };
}

export function nodeRegistered(name: string, labels: Labels = {}, incarnation = `inc-${name}`): NodeRegistered {
  return {
    type: 'NodeRegistered',
    v: 1,
    data: { node: name, incarnation, labels, capacity: { pods: '110' }, allocatable: { pods: '110' } },
  };
}

/** addNodes(store, start, count, labels): node-<start> … node-<start+count-1>. */
export function addNodes(start: number, count: number, labels: Labels = {}): NodeRegistered[] {
  return Array.from({ length: count }, (_, i) => nodeRegistered(`node-${start + i}`, labels));
}

export function nodeLabelsSet(node: string, labels: Labels, source: TaintSource = 'agent'): NodeLabelsSet {
  return { type: 'NodeLabelsSet', v: 1, data: { node, source, labels } };
}

export function taintsSet(node: string, taints: readonly Taint[], source: TaintSource = 'admin'): NodeTaintsSet {
  return { type: 'NodeTaintsSet', v: 1, data: { node, source, taints } };
}

export function unschedulableSet(node: string, unschedulable: boolean): NodeUnschedulableSet {
  return { type: 'NodeUnschedulableSet', v: 1, data: { node, unschedulable } };
}

export function nodeDeregistered(node: string, incarnation = `inc-${node}`): NodeDeregistered {
  return { type: 'NodeDeregistered', v: 1, data: { node, incarnation } };
}

export function nodeReady(node: string): NodeReady {
  return { type: 'NodeReady', v: 1, data: { node } };
}

export function nodeNotReady(node: string, status: 'False' | 'Unknown' = 'Unknown', reason = 'NodeStatusUnknown'): NodeNotReady {
  return { type: 'NodeNotReady', v: 1, data: { node, status, reason, lastHeartbeatMs: 0 } };
}

/** A pod as agents report it: a PodRecord or a PodCreate's pod both fit. */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
}

function report(p: PodRef): PodReportBase {
  return { node: p.node, namespace: p.namespace, podName: p.name, podUid: p.uid };
}

export function podRefOf(cmd: PodCreate): PodRef {
  return { namespace: cmd.data.pod.namespace, name: cmd.data.pod.name, uid: cmd.data.pod.uid, node: cmd.data.node };
}

export function podStarted(p: PodRef, restartCount = 0): PodStarted {
  return { type: 'PodStarted', v: 1, data: { ...report(p), restartCount } };
}

export function podReady(p: PodRef): PodReady {
  return { type: 'PodReady', v: 1, data: report(p) };
}

export function podNotReady(p: PodRef, reason = 'readiness probe failed'): PodNotReady {
  return { type: 'PodNotReady', v: 1, data: { ...report(p), reason } };
}

export function podFailed(p: PodRef, reason = 'Error'): PodFailed {
  return { type: 'PodFailed', v: 1, data: { ...report(p), reason, exitCode: 1 } };
}

export function podSucceeded(p: PodRef): PodSucceeded {
  return { type: 'PodSucceeded', v: 1, data: report(p) };
}

export function podDeleted(p: PodRef): PodDeleted {
  return { type: 'PodDeleted', v: 1, data: report(p) };
}

export function commandRejected(cmd: PodCommand, reason: CommandRejected['data']['reason'] = 'DriverError'): CommandRejected {
  const pod =
    cmd.type === 'PodCreate'
      ? { namespace: cmd.data.pod.namespace, podName: cmd.data.pod.name, podUid: cmd.data.pod.uid }
      : { namespace: cmd.data.namespace, podName: cmd.data.podName, podUid: cmd.data.podUid };
  return {
    type: 'CommandRejected',
    v: 1,
    data: {
      node: cmd.data.node,
      commandId: cmd.data.id,
      commandType: cmd.type,
      slot: cmd.data.slot,
      epoch: cmd.data.epoch,
      ...pod,
      reason,
      message: `refused ${cmd.type}`,
    },
  };
}

export function shardAcquired(slot: number, epoch: number, owner = 'controller-1'): ShardAcquired {
  return { type: 'ShardAcquired', v: 1, data: { slot, owner, epoch } };
}

/**
 * A PodCreate as a controller would publish it, for pods that exist before the DaemonSet
 * controller looks (addPods in the upstream tests). `hash` defaults to the DaemonSet's current one.
 */
export function podCreateFor(
  ds: DsRecord,
  node: string,
  name: string,
  o: { hash?: string; templateGeneration?: number; labels?: Labels; uid?: string } = {},
): PodCreate {
  const hash = o.hash ?? ds.currentHash;
  const templateGeneration = o.templateGeneration ?? ds.templateGeneration;
  return {
    type: 'PodCreate',
    v: 1,
    data: {
      id: `seed-${name}`,
      slot: ds.slot,
      epoch: EPOCH,
      causeSeq: 0,
      node,
      ds: { namespace: ds.namespace, name: ds.name, uid: ds.uid },
      pod: {
        namespace: ds.namespace,
        name,
        uid: o.uid ?? `uid-${name}`,
        labels: o.labels ?? {
          ...(ds.spec.template.metadata?.labels ?? {}),
          'controller-revision-hash': hash,
          'pod-template-generation': String(templateGeneration),
        },
        annotations: {},
        spec: { ...ds.spec.template.spec },
        hash,
        templateGeneration,
      },
    },
  };
}

/** A PodDelete as a controller (or a test standing in for one) would publish it. */
export function podDeleteFor(p: PodRef, reason = 'test', o: { epoch?: number; slot?: number; id?: string; ds?: { namespace: string; name: string; uid: string } } = {}): PodDelete {
  return {
    type: 'PodDelete',
    v: 1,
    data: {
      id: o.id ?? `delete-${p.name}`,
      slot: o.slot ?? 0,
      epoch: o.epoch ?? EPOCH,
      node: p.node,
      causeSeq: 0,
      namespace: p.namespace,
      podName: p.name,
      podUid: p.uid,
      reason,
      ...(o.ds ? { ds: o.ds } : {}),
    },
  };
}

// ---- decisions ---------------------------------------------------------------------------------

export function createsOf(d: Decision): PodCreate[] {
  return d.commands.filter((c): c is PodCreate => c.type === 'PodCreate');
}

export function deletesOf(d: Decision): PodDelete[] {
  return d.commands.filter((c): c is PodDelete => c.type === 'PodDelete');
}

/** The nodes a decision creates pods on, sorted. */
export function createdNodes(d: Decision): string[] {
  return createsOf(d).map((c) => c.data.node).sort();
}

/** The names of the pods a decision deletes, sorted. */
export function deletedPods(d: Decision): string[] {
  return deletesOf(d).map((c) => c.data.podName).sort();
}

/** The id, pod uid and pod name the `attempt`-th create on `node` must carry (ids.ts). */
export function expectedCreate(ds: DsRecord, node: string, attempt: number, epoch = EPOCH): { id: string; uid: string; name: string } {
  const id = createIdentity(ds.uid, node, ds.currentHash, attempt, epoch);
  return { id: id.commandId, uid: id.podUid, name: podNameFor(ds.name, id.nameSeed, 0) };
}

export function expectedDeleteId(pod: { uid: string }, epoch = EPOCH): string {
  return deleteCommandId(pod.uid, epoch);
}

// ---- the scenario ------------------------------------------------------------------------------

export interface ReconcileOptions {
  readonly nowMs?: number;
  readonly epoch?: number;
}

export interface AgentOptions {
  /** Report PodReady after PodStarted (default true). */
  readonly ready?: boolean;
  /** Only these nodes' agents act (default all). */
  readonly nodes?: readonly string[];
}

export class Scenario {
  readonly state: State = initialState();
  readonly log: Envelope[] = [];
  nowMs: number;
  epoch = EPOCH;
  private seq = 0;

  constructor(startMs = START_MS) {
    this.nowMs = startMs;
  }

  /** Fold events at the current stream time. */
  given(...events: readonly (LogEvent | readonly LogEvent[])[]): this {
    for (const e of events.flat() as LogEvent[]) this.fold(e);
    return this;
  }

  fold(event: LogEvent): Envelope {
    const env: Envelope = { seq: ++this.seq, subject: `test.${event.type}`, timeMs: this.nowMs, event };
    this.log.push(env);
    evolve(this.state, env, { slots: SLOTS });
    return env;
  }

  /** Move the stream clock forward. */
  advance(ms: number): this {
    this.nowMs += ms;
    return this;
  }

  at(ms: number): this {
    this.nowMs = ms;
    return this;
  }

  ds(name = 'foo', namespace = NS): DsRecord {
    const ds = this.state.daemonSets.get(dsKey(namespace, name));
    if (!ds) throw new Error(`no DaemonSet ${namespace}/${name}`);
    return ds;
  }

  /** Re-apply DaemonSet `name` with the next generation (a spec change). */
  update(name: string, o: DsOptions = {}): this {
    const ds = this.ds(name, o.namespace ?? NS);
    return this.given(dsApplied(name, { uid: ds.uid, generation: ds.generation + 1, ...o }));
  }

  whenReconcile(key: DsKey | string = 'foo', o: ReconcileOptions = {}): Decision {
    const k = key.includes('/') ? key : dsKey(NS, key);
    return reconcile(this.state, k, { nowMs: o.nowMs ?? this.nowMs, epoch: o.epoch ?? this.epoch });
  }

  /**
   * Fold a decision's commands as the controller's echo, and its status as the controller writes
   * it (DaemonSetStatusUpdated for DaemonSet `name`, while it exists).
   */
  apply(d: Decision, name = 'foo'): this {
    for (const c of d.commands) this.fold(c);
    const ds = this.state.daemonSets.get(dsKey(NS, name));
    if (d.status && ds) this.fold(statusUpdated(ds, d.status));
    return this;
  }

  /**
   * Agents act on the commands: a create → PodStarted (+ PodReady unless `ready: false`), a delete →
   * PodDeleted. Only commands whose pod exists in the state are reported (as real agents would).
   */
  runAgents(commands: readonly PodCommand[], o: AgentOptions = {}): this {
    for (const c of commands) {
      if (o.nodes && !o.nodes.includes(c.data.node)) continue;
      if (c.type === 'PodCreate') {
        const ref = podRefOf(c);
        if (!this.hasPod(ref)) continue;
        this.fold(podStarted(ref));
        if (o.ready ?? true) this.fold(podReady(ref));
      } else {
        const ref = { namespace: c.data.namespace, name: c.data.podName, uid: c.data.podUid, node: c.data.node };
        if (this.hasPod(ref)) this.fold(podDeleted(ref));
      }
    }
    return this;
  }

  /** One controller pass as the shell runs it: reconcile, publish (fold) the commands and status. */
  sync(name = 'foo', o: ReconcileOptions = {}): Decision {
    const d = this.whenReconcile(name, o);
    this.apply(d, name);
    return d;
  }

  /** sync() then every agent acts at once (pods come up ready unless `ready: false`). */
  step(name = 'foo', o: AgentOptions = {}): Decision {
    const d = this.sync(name);
    this.runAgents(d.commands, o);
    return d;
  }

  /** step() until a pass has no commands; returns the passes that had some. */
  converge(name = 'foo', maxSteps = 100): Decision[] {
    const out: Decision[] = [];
    for (let i = 0; i < maxSteps; i++) {
      const d = this.step(name);
      if (!d.commands.length) return out;
      out.push(d);
    }
    throw new Error(`no convergence after ${maxSteps} steps`);
  }

  hasPod(p: PodRef): boolean {
    return this.state.pods.get(`${p.namespace}/${p.name}`)?.uid === p.uid;
  }

  pod(name: string, namespace = NS): PodRecord {
    const p = this.state.pods.get(`${namespace}/${name}`);
    if (!p) throw new Error(`no pod ${namespace}/${name}`);
    return p;
  }

  /** The pods of DaemonSet `name` on `node`, oldest first. */
  podsOn(node: string, name = 'foo'): PodRecord[] {
    return podsOnNode(this.state, this.ds(name), node);
  }

  /** Every pod of DaemonSet `name`, by node then age. */
  podsOf(name = 'foo'): PodRecord[] {
    const ds = this.ds(name);
    return [...this.state.nodes.keys()].sort().flatMap((n) => podsOnNode(this.state, ds, n));
  }

  /** node → number of pods of `name` there (terminating ones included). */
  podCounts(name = 'foo'): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.podsOf(name)) out[p.node] = (out[p.node] ?? 0) + 1;
    return out;
  }

  /** Pods not being deleted. */
  livePods(name = 'foo'): PodRecord[] {
    return this.podsOf(name).filter((p) => p.deletionMs === undefined);
  }

  /** Mark every live pod of `name` (or those `which` selects) Running and Ready now. */
  markPodsReady(name = 'foo', which: (p: PodRecord) => boolean = () => true): this {
    for (const p of this.livePods(name)) {
      if (!which(p)) continue;
      if (p.phase === 'Pending') this.fold(podStarted(p));
      if (!p.ready) this.fold(podReady(p));
    }
    return this;
  }

  isAvailable(p: PodRecord, name = 'foo'): boolean {
    return isPodAvailable(p, this.ds(name).spec.minReadySeconds, this.nowMs);
  }
}

export function statusUpdated(ds: DsRecord, status: NonNullable<Decision['status']>): DaemonSetStatusUpdated {
  return { type: 'DaemonSetStatusUpdated', v: 1, data: { namespace: ds.namespace, name: ds.name, uid: ds.uid, status } };
}

/** Fold a log into a fresh state, as a replaying process would. */
export function replay(log: readonly Envelope[]): State {
  const state = initialState();
  for (const env of log) evolve(state, env, { slots: SLOTS });
  return state;
}

/** A small deterministic PRNG (mulberry32) for simulations: same seed, same run. */
export const prng = mulberry32;
