// Hand-built read models for tests: records with sensible defaults, overridable field by field,
// and a State whose maps and owner index agree with the records put in.

import type { DefaultedDaemonSetSpec, PodTemplateSpec } from '../../libs/model/types.js';
import type { DsRecord, NodeRecord, PodRecord, Revision, State } from '../../libs/core/state.js';
import { dsKey, initialState, podKey } from '../../libs/core/state.js';

/** 2026-01-02T03:04:05Z: the default creation time of everything built here. */
export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

export function template(image = 'fluentd:v1', labels: Record<string, string> = { app: 'fluentd' }): PodTemplateSpec {
  return {
    metadata: { labels },
    spec: { containers: [{ name: 'fluentd', image }], restartPolicy: 'Always' },
  };
}

export function dsSpec(tpl: PodTemplateSpec = template()): DefaultedDaemonSetSpec {
  return {
    selector: { matchLabels: { ...(tpl.metadata?.labels ?? {}) } },
    template: tpl,
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    minReadySeconds: 0,
    revisionHistoryLimit: 10,
  };
}

export function revision(hash: string, tpl: PodTemplateSpec, over: Partial<Revision> = {}): Revision {
  return { revision: 1, hash, template: tpl, appliedMs: T0, seq: 1, ...over };
}

type DsOverrides = Partial<Omit<DsRecord, 'namespace' | 'name' | 'uid' | 'slot'>> & {
  namespace?: string;
  uid?: string;
};

/** A DaemonSet with one revision (`hash`, default `h1`) whose template is the spec's. */
export function makeDs(name: string, over: DsOverrides = {}): DsRecord {
  const spec = over.spec ?? dsSpec();
  const hash = over.currentHash ?? 'h1';
  return {
    namespace: over.namespace ?? 'default',
    name,
    uid: over.uid ?? `uid-${name}`,
    slot: 0,
    generation: 1,
    templateGeneration: 1,
    labels: {},
    annotations: {},
    spec,
    createdMs: T0,
    currentHash: hash,
    revisions: over.revisions ?? [revision(hash, spec.template)],
    createsByNode: new Map(),
    failedBackoff: new Map(),
    rolledOff: new Map(),
    lastSpecSeq: 1,
    ...over,
  };
}

export function makeNode(name: string, over: Partial<Omit<NodeRecord, 'name'>> = {}): NodeRecord {
  return {
    name,
    incarnation: `inc-${name}`,
    incarnationSeq: 0,
    labels: { 'kubernetes.io/hostname': name },
    labelsBySource: { agent: { 'kubernetes.io/hostname': name } },
    taints: {},
    unschedulable: false,
    ready: 'True',
    readyReason: 'KubeletReady',
    readyTransitionMs: T0,
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    registeredMs: T0,
    ...over,
  };
}

type PodOverrides = Partial<Omit<PodRecord, 'name' | 'node'>>;

/** A running, ready pod of `ds` on `node`, labelled as the DaemonSet controller labels it. */
export function makePod(ds: DsRecord, name: string, node: string, over: PodOverrides = {}): PodRecord {
  const hash = over.hash ?? ds.currentHash;
  return {
    namespace: ds.namespace,
    name,
    uid: `uid-${name}`,
    node,
    owner: { name: ds.name, uid: ds.uid },
    hash,
    templateGeneration: ds.templateGeneration,
    labels: {
      ...(ds.spec.template.metadata?.labels ?? {}),
      'controller-revision-hash': hash,
      'pod-template-generation': String(ds.templateGeneration),
    },
    createdMs: T0,
    createSeq: 1,
    slot: ds.slot,
    phase: 'Running',
    ready: true,
    readyTransitionMs: T0,
    startedMs: T0,
    restartCount: 0,
    ...over,
  };
}

/** A State holding these records, with podsByOwner filled in from the pods' owners. */
export function makeState(parts: { daemonSets?: DsRecord[]; nodes?: NodeRecord[]; pods?: PodRecord[] }): State {
  const state = initialState();
  for (const ds of parts.daemonSets ?? []) state.daemonSets.set(dsKey(ds.namespace, ds.name), ds);
  for (const node of parts.nodes ?? []) state.nodes.set(node.name, node);
  for (const pod of parts.pods ?? []) {
    const key = podKey(pod.namespace, pod.name);
    state.pods.set(key, pod);
    if (pod.owner) {
      const byNode = state.podsByOwner.get(pod.owner.uid) ?? new Map<string, Set<string>>();
      const keys = byNode.get(pod.node) ?? new Set<string>();
      keys.add(key);
      byNode.set(pod.node, keys);
      state.podsByOwner.set(pod.owner.uid, byNode);
    }
  }
  return state;
}
