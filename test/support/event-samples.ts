// One valid sample of every event type in the union, for tests that need "an event of each kind".
// The mapped type makes tsc refuse this table when a type is added to the union without a sample.
// The samples tell one small story: DaemonSet `kube-system/fluentd` on node `node-a`, slot 5.

import type { AnyEvent, DsRef, EventType } from '../../libs/events/types.js';
import type { DefaultedDaemonSetSpec, PodSpec } from '../../libs/model/types.js';

export type EventSamples = { readonly [K in EventType]: Extract<AnyEvent, { type: K }> };

const DS: DsRef = { namespace: 'kube-system', name: 'fluentd', uid: '2b7c1f0e-8d3a-4c55-9a41-3e6f0d9b7a10' };
const NODE = 'node-a';
const SLOT = 5;
const EPOCH = 3;
const POD = { namespace: 'kube-system', podName: 'fluentd-x7k2q', podUid: '9f1e2d3c-4b5a-4697-a887-766554433221' };

const SPEC: DefaultedDaemonSetSpec = {
  selector: { matchLabels: { app: 'fluentd' } },
  template: {
    metadata: { labels: { app: 'fluentd' } },
    spec: {
      containers: [{ name: 'fluentd', image: 'fluentd:v1.16', command: ['fluentd'], args: ['-c', '/etc/fluent.conf'] }],
      restartPolicy: 'Always',
      tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    },
  },
  updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
  minReadySeconds: 0,
  revisionHistoryLimit: 10,
};

const POD_SPEC: PodSpec = {
  ...SPEC.template.spec,
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [NODE] }] }],
      },
    },
  },
  tolerations: [
    ...(SPEC.template.spec.tolerations ?? []),
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  ],
};

export const EVENT_SAMPLES: EventSamples = {
  DaemonSetApplied: {
    type: 'DaemonSetApplied',
    v: 1,
    data: {
      ...DS,
      generation: 1,
      labels: { 'k8s-app': 'fluentd-logging' },
      annotations: { 'kubernetes.io/change-cause': 'initial' },
      spec: SPEC,
    },
  },
  DaemonSetDeleted: { type: 'DaemonSetDeleted', v: 1, data: { ...DS, propagation: 'background' } },
  NamespaceCreated: {
    type: 'NamespaceCreated',
    v: 1,
    data: { name: 'logging', uid: '5d1c0b2a-7e6f-4a83-9c10-2f4e6a8b0c1d', labels: { team: 'logging' }, annotations: { 'example.com/owner': 'ops' } },
  },
  NamespaceDeleted: { type: 'NamespaceDeleted', v: 1, data: { name: 'logging', uid: '5d1c0b2a-7e6f-4a83-9c10-2f4e6a8b0c1d' } },
  NodeRegistered: {
    type: 'NodeRegistered',
    v: 1,
    data: {
      node: NODE,
      incarnation: 'inc-1',
      labels: { 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux' },
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '3800m', memory: '15Gi', pods: '110' },
    },
  },
  NodeLabelsSet: { type: 'NodeLabelsSet', v: 1, data: { node: NODE, source: 'admin', labels: { 'topology.kubernetes.io/zone': 'eu-1a' } } },
  NodeTaintsSet: {
    type: 'NodeTaintsSet',
    v: 1,
    data: {
      node: NODE,
      source: 'admin',
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2024-05-01T10:00:00Z' },
      ],
    },
  },
  NodeUnschedulableSet: { type: 'NodeUnschedulableSet', v: 1, data: { node: NODE, unschedulable: true } },
  NodeDeregistered: { type: 'NodeDeregistered', v: 1, data: { node: NODE, incarnation: 'inc-1' } },
  NodeReady: { type: 'NodeReady', v: 1, data: { node: NODE } },
  NodeNotReady: {
    type: 'NodeNotReady',
    v: 1,
    data: { node: NODE, status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatMs: 1_714_557_600_000 },
  },
  PodCreate: {
    type: 'PodCreate',
    v: 1,
    data: {
      id: 'create-1x2y3z-4a5b6c',
      slot: SLOT,
      epoch: EPOCH,
      causeSeq: 41,
      node: NODE,
      ds: DS,
      pod: {
        namespace: POD.namespace,
        name: POD.podName,
        uid: POD.podUid,
        labels: { app: 'fluentd', 'controller-revision-hash': '6d4b9c8f7', 'pod-template-generation': '1' },
        annotations: {},
        spec: POD_SPEC,
        hash: '6d4b9c8f7',
        templateGeneration: 1,
      },
    },
  },
  PodDelete: {
    type: 'PodDelete',
    v: 1,
    data: { id: 'delete-7g8h9i', slot: SLOT, epoch: EPOCH, causeSeq: 42, node: NODE, ...POD, reason: 'outdated template' },
  },
  PodStarted: { type: 'PodStarted', v: 1, data: { node: NODE, ...POD, restartCount: 0 } },
  PodReady: { type: 'PodReady', v: 1, data: { node: NODE, ...POD } },
  PodNotReady: { type: 'PodNotReady', v: 1, data: { node: NODE, ...POD, reason: 'readiness probe failed' } },
  PodFailed: { type: 'PodFailed', v: 1, data: { node: NODE, ...POD, reason: 'Error', exitCode: 137 } },
  PodSucceeded: { type: 'PodSucceeded', v: 1, data: { node: NODE, ...POD } },
  PodDeleted: { type: 'PodDeleted', v: 1, data: { node: NODE, ...POD } },
  CommandRejected: {
    type: 'CommandRejected',
    v: 1,
    data: {
      node: NODE,
      commandId: 'create-1x2y3z-4a5b6c',
      commandType: 'PodCreate',
      slot: SLOT,
      epoch: 2,
      ...POD,
      reason: 'StaleEpoch',
      message: 'epoch 2 is below 3, the highest seen for slot 5',
    },
  },
  DaemonSetStatusUpdated: {
    type: 'DaemonSetStatusUpdated',
    v: 1,
    data: {
      ...DS,
      status: {
        desiredNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberReady: 2,
        numberAvailable: 2,
        numberUnavailable: 1,
        updatedNumberScheduled: 3,
        numberMisscheduled: 0,
        observedGeneration: 1,
      },
    },
  },
  PodDeleteRequested: {
    type: 'PodDeleteRequested',
    v: 1,
    data: { node: NODE, namespace: 'kube-system', podName: 'fluentd-x7k2p', podUid: '3f1c2a9e-0b4d-4e8f-9a6b-1c2d3e4f5a6b' },
  },
  ClockTicked: { type: 'ClockTicked', v: 1, data: { slot: SLOT, reason: 'minReadySeconds' } },
  ShardAcquired: { type: 'ShardAcquired', v: 1, data: { slot: SLOT, owner: 'controller-1', epoch: EPOCH } },
  Heartbeat: { type: 'Heartbeat', v: 1, data: { node: NODE, incarnation: 'inc-1', sentMs: 1_714_557_600_000 } },
};

/** The samples as a list, in the order of the table. */
export const EVENT_SAMPLE_LIST: readonly AnyEvent[] = Object.values(EVENT_SAMPLES);
