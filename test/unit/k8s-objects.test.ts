import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { NodeRecord } from '../../libs/core/state.js';
import type { Taint } from '../../libs/model/types.js';
import { daemonPodSpec } from '../../libs/core/daemon-pod.js';
import { daemonSetObject, effectiveTaints, listObject, nodeObject, podObject, rfc3339 } from '../../libs/core/k8s-objects.js';
import { T0, dsSpec, makeDs, makeNode, makePod, makeState, revision, template } from '../support/state-builders.js';

const T0_TEXT = '2026-01-02T03:04:05Z';
const STATUS = {
  desiredNumberScheduled: 3,
  currentNumberScheduled: 3,
  numberReady: 2,
  numberAvailable: 2,
  numberUnavailable: 1,
  updatedNumberScheduled: 3,
  numberMisscheduled: 0,
  observedGeneration: 2,
};

describe('rfc3339', () => {
  it('prints UTC with whole seconds, cutting the milliseconds', () => {
    assert.equal(rfc3339(T0), T0_TEXT);
    assert.equal(rfc3339(T0 + 999), T0_TEXT);
  });
});

describe('daemonSetObject', () => {
  it('gives the apps/v1 shape with metadata, the defaulted spec as is, and the status', () => {
    const spec = dsSpec(template('fluentd:v2'));
    const ds = makeDs('fluentd', {
      namespace: 'kube-system',
      uid: 'u-1',
      generation: 2,
      templateGeneration: 2,
      labels: { 'k8s-app': 'fluentd' },
      annotations: { 'kubernetes.io/change-cause': 'bump' },
      spec,
      createdMs: T0 + 250,
      lastSpecSeq: 42,
      status: STATUS,
    });
    assert.deepEqual(daemonSetObject(ds), {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {
        name: 'fluentd',
        namespace: 'kube-system',
        uid: 'u-1',
        generation: 2,
        resourceVersion: '42',
        creationTimestamp: T0_TEXT,
        labels: { 'k8s-app': 'fluentd' },
        annotations: { 'kubernetes.io/change-cause': 'bump', 'deprecated.daemonset.template.generation': '2' },
      },
      spec,
      status: STATUS,
    });
    assert.equal(daemonSetObject(ds).spec, spec, 'the spec is the stored, already defaulted one');
  });

  it('has a zero status with observedGeneration 0 before the controller wrote one, zeros kept present', () => {
    const obj = daemonSetObject(makeDs('fluentd'));
    assert.deepEqual(obj.status, {
      desiredNumberScheduled: 0,
      currentNumberScheduled: 0,
      numberReady: 0,
      numberAvailable: 0,
      numberUnavailable: 0,
      updatedNumberScheduled: 0,
      numberMisscheduled: 0,
      observedGeneration: 0,
    });
  });

  it('omits empty labels, as Kubernetes does', () => {
    assert.equal('labels' in daemonSetObject(makeDs('fluentd')).metadata, false);
  });

  it('shows a foreground delete as deletionTimestamp plus the foregroundDeletion finalizer', () => {
    const ds = makeDs('fluentd', { deletion: { propagation: 'foreground', requestedMs: T0 + 60_000 } });
    const meta = daemonSetObject(ds).metadata;
    assert.equal(meta.deletionTimestamp, '2026-01-02T03:05:05Z');
    assert.deepEqual(meta.finalizers, ['foregroundDeletion']);
    const bg = daemonSetObject(makeDs('x', { deletion: { propagation: 'background', requestedMs: T0 } })).metadata;
    assert.equal(bg.deletionTimestamp, T0_TEXT);
    assert.equal(bg.finalizers, undefined);
  });
});

describe('podObject', () => {
  const tpl = {
    metadata: { labels: { app: 'fluentd' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T00:00:00Z' } },
    spec: { containers: [{ name: 'fluentd', image: 'fluentd:v2' }, { name: 'sidecar', image: 'busybox:1' }] },
  };
  const ds = makeDs('fluentd', {
    namespace: 'kube-system',
    uid: 'ds-uid',
    templateGeneration: 3,
    spec: dsSpec(tpl),
    currentHash: 'h2',
    revisions: [revision('h1', template('fluentd:v1')), revision('h2', tpl, { revision: 2 })],
  });

  it('gives the bound daemon pod: owner ref, template annotations, daemon spec plus nodeName, status', () => {
    const pod = makePod(ds, 'fluentd-x7k2p', 'node-a', {
      uid: 'pod-uid',
      createdMs: T0,
      startedMs: T0 + 2000,
      readyTransitionMs: T0 + 5000,
      restartCount: 2,
    });
    const state = makeState({ daemonSets: [ds], pods: [pod] });
    assert.deepEqual(podObject(pod, state), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'fluentd-x7k2p',
        generateName: 'fluentd-',
        namespace: 'kube-system',
        uid: 'pod-uid',
        creationTimestamp: T0_TEXT,
        labels: { app: 'fluentd', 'controller-revision-hash': 'h2', 'pod-template-generation': '3' },
        annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T00:00:00Z' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'fluentd', uid: 'ds-uid', controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: { ...daemonPodSpec(tpl.spec, 'node-a'), nodeName: 'node-a' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: T0_TEXT },
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:10Z' },
          { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:10Z' },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: T0_TEXT },
        ],
        startTime: '2026-01-02T03:04:07Z',
        containerStatuses: [
          { name: 'fluentd', image: 'fluentd:v2', ready: true, restartCount: 2, started: true },
          { name: 'sidecar', image: 'busybox:1', ready: true, restartCount: 0, started: true },
        ],
      },
    });
  });

  it('pins the pod to its node and carries the automatic daemon tolerations', () => {
    const pod = makePod(ds, 'fluentd-x7k2p', 'node-a');
    const spec = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] })).spec;
    assert.equal(spec.nodeName, 'node-a');
    assert.deepEqual(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] }],
    });
    assert.ok(
      spec.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.operator === 'Exists' && t.effect === 'NoExecute'),
    );
  });

  it('uses the revision of the pod hash, not the current one', () => {
    const old = makePod(ds, 'fluentd-oldpd', 'node-b', { hash: 'h1' });
    const spec = podObject(old, makeState({ daemonSets: [ds], pods: [old] })).spec;
    assert.deepEqual(
      spec.containers.map((c) => c.image),
      ['fluentd:v1'],
    );
  });

  it('says why a pending pod is not ready and has no startTime', () => {
    const pod = makePod(ds, 'fluentd-pend1', 'node-a', { phase: 'Pending', ready: false, startedMs: undefined });
    const obj = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] }));
    assert.equal(obj.status.phase, 'Pending');
    assert.equal('startTime' in obj.status, false);
    assert.deepEqual(obj.status.conditions[1], {
      type: 'Ready',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: T0_TEXT,
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [fluentd sidecar]',
    });
    assert.deepEqual(
      obj.status.containerStatuses.map((c) => [c.ready, c.started]),
      [
        [false, false],
        [false, false],
      ],
    );
  });

  it('keeps the phase of a terminating pod and sets deletionTimestamp', () => {
    const pod = makePod(ds, 'fluentd-term1', 'node-a', { deletionMs: T0 + 10_000 });
    const obj = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] }));
    assert.equal(obj.status.phase, 'Running');
    assert.equal(obj.metadata.deletionTimestamp, '2026-01-02T03:04:15Z');
  });

  it('marks a completed pod not ready with reason PodCompleted', () => {
    const pod = makePod(ds, 'fluentd-done1', 'node-a', { phase: 'Succeeded', ready: false });
    const ready = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] })).status.conditions[1];
    assert.equal(ready?.reason, 'PodCompleted');
    assert.equal(ready?.message, undefined);
  });

  it('has no ownerReferences once orphaned, and still finds its template by hash', () => {
    const pod = makePod(ds, 'fluentd-orph1', 'node-a', { owner: undefined });
    const obj = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] }));
    assert.equal(obj.metadata.ownerReferences, undefined);
    assert.equal(obj.spec.containers[0]?.image, 'fluentd:v2');
  });

  it('falls back to an empty spec bound to the node when the template is unknown', () => {
    const pod = makePod(ds, 'fluentd-gone1', 'node-c', { hash: 'nope' });
    const obj = podObject(pod, makeState({ daemonSets: [ds], pods: [pod] }));
    assert.deepEqual(obj.spec, { containers: [], nodeName: 'node-c' });
    assert.deepEqual(obj.status.containerStatuses, []);
  });
});

describe('nodeObject', () => {
  it('reports a pressure condition True while the agent holds its taint', () => {
    const node = makeNode('node-p', { taints: { agent: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] } });
    const conditions = nodeObject(node, makeState({ nodes: [node] })).status.conditions;
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status]),
      [['Ready', 'True'], ['MemoryPressure', 'False'], ['DiskPressure', 'True'], ['PIDPressure', 'False']],
    );
    assert.equal(conditions.find((c) => c.type === 'DiskPressure')?.reason, 'KubeletHasDiskPressure');
  });

  it('gives the core/v1 node: labels, no taints or unschedulable when there are none, Ready condition', () => {
    const node = makeNode('node-a', { registeredMs: T0, readyTransitionMs: T0 + 1000 });
    assert.deepEqual(nodeObject(node, makeState({ nodes: [node] })), {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' }, creationTimestamp: T0_TEXT },
      spec: {},
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-02T03:04:06Z' },
          { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastTransitionTime: T0_TEXT },
          { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', lastTransitionTime: T0_TEXT },
          { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', lastTransitionTime: T0_TEXT },
        ],
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      },
    });
  });

  it('shows effective taints and unschedulable: true for a cordoned, unreachable node', () => {
    const node = makeNode('node-b', {
      unschedulable: true,
      ready: 'Unknown',
      readyReason: 'NodeStatusUnknown',
      readyTransitionMs: T0,
      taints: { admin: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    });
    const obj = nodeObject(node, makeState({ nodes: [node] }));
    assert.equal(obj.spec.unschedulable, true);
    assert.deepEqual(obj.spec.taints, [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: T0_TEXT },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: T0_TEXT },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(obj.status.conditions[0], {
      type: 'Ready',
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      lastTransitionTime: T0_TEXT,
    });
  });
});

describe('effectiveTaints', () => {
  const cases: { name: string; node: Partial<NodeRecord>; want: Taint[] }[] = [
    { name: 'a ready, schedulable node without taints has none', node: {}, want: [] },
    {
      name: 'admin and agent taints are united, sorted by key then effect',
      node: {
        taints: {
          admin: [{ key: 'zone', value: 'b', effect: 'NoExecute' }],
          agent: [
            { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
            { key: 'zone', value: 'b', effect: 'NoSchedule' },
          ],
        },
      },
      want: [
        { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
        { key: 'zone', value: 'b', effect: 'NoExecute' },
        { key: 'zone', value: 'b', effect: 'NoSchedule' },
      ],
    },
    {
      name: 'the same key and effect from both sources: the admin taint wins',
      node: {
        taints: { admin: [{ key: 'gpu', value: 'admin', effect: 'NoSchedule' }], agent: [{ key: 'gpu', value: 'agent', effect: 'NoSchedule' }] },
      },
      want: [{ key: 'gpu', value: 'admin', effect: 'NoSchedule' }],
    },
    {
      name: 'Ready Unknown adds unreachable NoExecute and NoSchedule (node lifecycle)',
      node: { ready: 'Unknown', readyTransitionMs: T0 },
      want: [
        { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: T0_TEXT },
        { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: T0_TEXT },
      ],
    },
    {
      name: 'Ready False adds not-ready NoExecute and NoSchedule',
      node: { ready: 'False', readyTransitionMs: T0 },
      want: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: T0_TEXT },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule', timeAdded: T0_TEXT },
      ],
    },
    {
      name: 'unschedulable adds unschedulable NoSchedule',
      node: { unschedulable: true },
      want: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    },
    {
      name: 'a lifecycle taint the agent already set is not doubled',
      node: { ready: 'False', readyTransitionMs: T0, taints: { agent: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] } },
      want: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: T0_TEXT },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(effectiveTaints(makeNode('n', c.node)), c.want);
    });
  }
});

describe('listObject', () => {
  it('wraps items in a v1 List with an empty resourceVersion, as kubectl prints lists', () => {
    assert.deepEqual(listObject([1, 2]), { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [1, 2] });
  });
});
