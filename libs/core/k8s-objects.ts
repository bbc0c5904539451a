// The read model as Kubernetes objects: what `dsctl get -o json|yaml` prints and what a future
// API facade serves. Shapes follow apps/v1 DaemonSet, core/v1 Pod and core/v1 Node field for field,
// so scripts written against `kubectl ... -o json` keep working. PURE: no clock, no I/O.
//
// Departures from what an API server would return, on purpose:
// - DaemonSet status keeps numberAvailable, numberUnavailable and updatedNumberScheduled even
//   when zero (Kubernetes omits zero-valued optional ints); CONTRACT.md lists them as present.
// - Fields the system has no facts for are left out rather than invented: pod IPs, hostIP,
//   container ids and states, node addresses and nodeInfo, heartbeat times, resourceVersion of
//   pods and nodes.

import type { ConditionStatus, DsRecord, NodeRecord, PodPhase, PodRecord, Revision, State } from './state.js';
import type { DefaultedDaemonSetSpec, Labels, PodSpec, PodTemplateSpec, Taint } from '../model/types.js';
import { daemonPodSpec } from './daemon-pod.js';
import type { NamespaceView } from './namespaces.js';
import { NAMESPACE_NAME_LABEL } from '../model/namespace-manifest.js';
import { effectiveTaints } from './node-taints.js';

// effectiveTaints lives with the node lifecycle rules; re-exported because the objects printed
// here are where users see its result (`node.spec.taints`).
export { effectiveTaints };

/** Kubernetes' `deprecated.daemonset.template.generation` annotation. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export interface K8sOwnerReference {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'DaemonSet';
  readonly name: string;
  readonly uid: string;
  readonly controller: true;
  readonly blockOwnerDeletion: true;
}

export interface K8sDaemonSetStatus {
  readonly currentNumberScheduled: number;
  readonly desiredNumberScheduled: number;
  readonly numberAvailable: number;
  readonly numberMisscheduled: number;
  readonly numberReady: number;
  readonly numberUnavailable: number;
  readonly observedGeneration: number;
  readonly updatedNumberScheduled: number;
}

export interface K8sDaemonSet {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'DaemonSet';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly generation: number;
    /** The stream sequence of the last DaemonSetApplied: what `apply` states for concurrency. */
    readonly resourceVersion: string;
    /** RFC 3339, whole seconds. */
    readonly creationTimestamp: string;
    /** Omitted when empty, as Kubernetes does. */
    readonly labels?: Labels;
    readonly annotations: Labels;
    readonly deletionTimestamp?: string;
    /** `['foregroundDeletion']` while a foreground delete waits for the pods. */
    readonly finalizers?: readonly string[];
  };
  readonly spec: DefaultedDaemonSetSpec;
  readonly status: K8sDaemonSetStatus;
}

export type K8sPodConditionType = 'Initialized' | 'Ready' | 'ContainersReady' | 'PodScheduled';

export interface K8sPodCondition {
  readonly type: K8sPodConditionType;
  readonly status: ConditionStatus;
  readonly lastProbeTime: null;
  readonly lastTransitionTime: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface K8sContainerStatus {
  readonly name: string;
  readonly image: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly started: boolean;
}

export interface K8sPod {
  readonly apiVersion: 'v1';
  readonly kind: 'Pod';
  readonly metadata: {
    readonly name: string;
    readonly generateName?: string;
    readonly namespace: string;
    readonly uid: string;
    readonly creationTimestamp: string;
    readonly labels: Labels;
    readonly annotations?: Labels;
    readonly ownerReferences?: readonly K8sOwnerReference[];
    readonly deletionTimestamp?: string;
  };
  readonly spec: PodSpec;
  readonly status: {
    readonly phase: PodPhase;
    readonly conditions: readonly K8sPodCondition[];
    readonly startTime?: string;
    readonly containerStatuses: readonly K8sContainerStatus[];
  };
}

export interface K8sNodeCondition {
  readonly type: 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
  readonly status: ConditionStatus;
  readonly reason?: string;
  readonly lastTransitionTime: string;
}

export interface K8sNode {
  readonly apiVersion: 'v1';
  readonly kind: 'Node';
  readonly metadata: {
    readonly name: string;
    readonly labels?: Labels;
    readonly creationTimestamp: string;
  };
  readonly spec: {
    readonly taints?: readonly Taint[];
    readonly unschedulable?: true;
  };
  readonly status: {
    readonly conditions: readonly K8sNodeCondition[];
    readonly capacity: Labels;
    readonly allocatable: Labels;
  };
}

export interface K8sList<T> {
  readonly apiVersion: 'v1';
  readonly kind: 'List';
  readonly metadata: { readonly resourceVersion: '' };
  readonly items: T[];
}

/** metav1.Time as JSON: RFC 3339 in UTC with whole seconds (`2026-01-02T03:04:05Z`). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function nonEmpty(labels: Labels | undefined): Labels | undefined {
  return labels !== undefined && Object.keys(labels).length > 0 ? labels : undefined;
}

const NO_STATUS: K8sDaemonSetStatus = {
  currentNumberScheduled: 0,
  desiredNumberScheduled: 0,
  numberAvailable: 0,
  numberMisscheduled: 0,
  numberReady: 0,
  numberUnavailable: 0,
  observedGeneration: 0,
  updatedNumberScheduled: 0,
};

export function daemonSetObject(ds: DsRecord): K8sDaemonSet {
  const s = ds.status;
  const status: K8sDaemonSetStatus =
    s === undefined
      ? NO_STATUS
      : {
          currentNumberScheduled: s.currentNumberScheduled,
          desiredNumberScheduled: s.desiredNumberScheduled,
          numberAvailable: s.numberAvailable,
          numberMisscheduled: s.numberMisscheduled,
          numberReady: s.numberReady,
          numberUnavailable: s.numberUnavailable,
          observedGeneration: s.observedGeneration,
          updatedNumberScheduled: s.updatedNumberScheduled,
        };
  const labels = nonEmpty(ds.labels);
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: ds.name,
      namespace: ds.namespace,
      uid: ds.uid,
      generation: ds.generation,
      resourceVersion: String(ds.lastSpecSeq),
      creationTimestamp: rfc3339(ds.createdMs),
      ...(labels ? { labels } : {}),
      annotations: { ...ds.annotations, [TEMPLATE_GENERATION_ANNOTATION]: String(ds.templateGeneration) },
      ...(ds.deletion ? { deletionTimestamp: rfc3339(ds.deletion.requestedMs) } : {}),
      ...(ds.deletion?.propagation === 'foreground' ? { finalizers: ['foregroundDeletion'] } : {}),
    },
    spec: ds.spec,
    status,
  };
}

/**
 * The template a pod was created from: its owner's revision with the pod's hash. An orphaned pod
 * (or one whose owner is gone) is looked up among the DaemonSets of its namespace by hash, since
 * the hash names the template's content.
 */
export function podTemplate(pod: PodRecord, state: State): PodTemplateSpec | undefined {
  const byHash = (ds: DsRecord): Revision | undefined => ds.revisions.find((r) => r.hash === pod.hash);
  if (pod.owner) {
    for (const ds of state.daemonSets.values()) {
      if (ds.uid === pod.owner.uid) {
        const rev = byHash(ds);
        if (rev) return rev.template;
      }
    }
  }
  for (const ds of state.daemonSets.values()) {
    if (ds.namespace !== pod.namespace) continue;
    const rev = byHash(ds);
    if (rev) return rev.template;
  }
  return undefined;
}

/** `fluentd-x7k2p` → `fluentd-`: the generateName the DaemonSet controller used. */
function generateNameOf(podName: string): string | undefined {
  return /^.+-[a-z0-9]{5}$/.test(podName) ? podName.slice(0, -5) : undefined;
}

function podConditions(pod: PodRecord, containerNames: readonly string[]): K8sPodCondition[] {
  const created = rfc3339(pod.createdMs);
  const readyAt = rfc3339(pod.readyTransitionMs || pod.createdMs);
  const terminal = pod.phase === 'Succeeded' || pod.phase === 'Failed';
  const readyStatus: ConditionStatus = pod.ready ? 'True' : 'False';
  // kubelet's GeneratePodReadyCondition: why a pod is not ready.
  const why: { reason?: string; message?: string } = pod.ready
    ? {}
    : terminal
      ? { reason: 'PodCompleted' }
      : { reason: 'ContainersNotReady', message: `containers with unready status: [${containerNames.join(' ')}]` };
  return [
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
    { type: 'Ready', status: readyStatus, lastProbeTime: null, lastTransitionTime: readyAt, ...why },
    { type: 'ContainersReady', status: readyStatus, lastProbeTime: null, lastTransitionTime: readyAt, ...why },
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created },
  ];
}

/**
 * A bound daemon pod. The spec is the template's plus what the DaemonSet controller adds
 * (daemonPodSpec: daemon tolerations, node affinity) and `nodeName`. The agent reports one
 * restart count per pod: it is given to the first container, the others show 0, so summing the
 * containers (as kubectl does) gives the pod's count.
 */
export function podObject(pod: PodRecord, state: State): K8sPod {
  const template = podTemplate(pod, state);
  const spec: PodSpec = template
    ? { ...daemonPodSpec(template.spec, pod.node), nodeName: pod.node }
    : { containers: [], nodeName: pod.node };
  const started = pod.phase === 'Running' && pod.startedMs !== undefined;
  const containerStatuses: K8sContainerStatus[] = spec.containers.map((c, i) => ({
    name: c.name,
    image: c.image,
    ready: pod.ready,
    restartCount: i === 0 ? pod.restartCount : 0,
    started,
  }));
  const generateName = generateNameOf(pod.name);
  const annotations = nonEmpty(template?.metadata?.annotations);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      ...(generateName ? { generateName } : {}),
      namespace: pod.namespace,
      uid: pod.uid,
      creationTimestamp: rfc3339(pod.createdMs),
      labels: pod.labels,
      ...(annotations ? { annotations } : {}),
      ...(pod.owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'DaemonSet',
                name: pod.owner.name,
                uid: pod.owner.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
      ...(pod.deletionMs !== undefined ? { deletionTimestamp: rfc3339(pod.deletionMs) } : {}),
    },
    spec,
    status: {
      phase: pod.phase,
      conditions: podConditions(
        pod,
        spec.containers.map((c) => c.name),
      ),
      ...(pod.startedMs !== undefined ? { startTime: rfc3339(pod.startedMs) } : {}),
      containerStatuses,
    },
  };
}

export function nodeObject(node: NodeRecord, _state: State): K8sNode {
  const taints = effectiveTaints(node);
  const labels = nonEmpty(node.labels);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      ...(labels ? { labels } : {}),
      creationTimestamp: rfc3339(node.registeredMs),
    },
    spec: {
      ...(taints.length > 0 ? { taints } : {}),
      ...(node.unschedulable ? { unschedulable: true as const } : {}),
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: node.ready,
          ...(node.readyReason ? { reason: node.readyReason } : {}),
          lastTransitionTime: rfc3339(node.readyTransitionMs || node.registeredMs),
        },
        ...pressureConditions(node),
      ],
      capacity: node.capacity,
      allocatable: node.allocatable,
    },
  };
}

/** The kubelet's pressure conditions, from the taints the agent derives from its readings. */
const PRESSURE_CONDITIONS: readonly [K8sNodeCondition['type'], string, string][] = [
  ['MemoryPressure', 'node.kubernetes.io/memory-pressure', 'KubeletHasSufficientMemory'],
  ['DiskPressure', 'node.kubernetes.io/disk-pressure', 'KubeletHasNoDiskPressure'],
  ['PIDPressure', 'node.kubernetes.io/pid-pressure', 'KubeletHasSufficientPID'],
];

function pressureConditions(node: NodeRecord): K8sNodeCondition[] {
  const agent = node.taints.agent ?? [];
  return PRESSURE_CONDITIONS.map(([type, key, okReason]) => {
    const on = agent.some((t) => t.key === key);
    return {
      type,
      status: on ? 'True' : 'False',
      reason: on ? `KubeletHas${type}` : okReason,
      lastTransitionTime: rfc3339(node.registeredMs),
    };
  });
}

export interface K8sNamespace {
  readonly apiVersion: 'v1';
  readonly kind: 'Namespace';
  readonly metadata: {
    readonly name: string;
    readonly uid: string;
    /** The seq of its last NamespaceCreated (the API server stamps the seq it last changed at). */
    readonly resourceVersion: string;
    readonly creationTimestamp: string;
    readonly labels: Labels;
    /** Omitted when empty, as Kubernetes does. */
    readonly annotations?: Labels;
  };
  readonly spec: { readonly finalizers: readonly string[] };
  readonly status: { readonly phase: 'Active' };
}

/** A v1 Namespace (see namespaces.ts for which exist), with the name label the API server adds. */
export function namespaceObject(ns: NamespaceView): K8sNamespace {
  const annotations = nonEmpty(ns.annotations);
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns.name,
      uid: ns.uid,
      resourceVersion: String(ns.lastSeq),
      creationTimestamp: rfc3339(ns.createdMs),
      labels: { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name },
      ...(annotations ? { annotations } : {}),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** What `kubectl get -o json` prints for more than one object. */
export function listObject<T>(items: T[]): K8sList<T> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}
