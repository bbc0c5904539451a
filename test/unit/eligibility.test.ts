// Ports the eligibility cases of Kubernetes' pkg/controller/daemon/daemon_controller_test.go.
// Upstream asserts the number of pods created/deleted by a sync; the pure predicate here is
// asserted through the verdicts that drive those counts: a create needs shouldRun, a kept pod
// needs shouldContinueRunning.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { REASON_NODE_AFFINITY, REASON_NODE_NAME, nodeShouldRunDaemonPod } from '../../libs/core/eligibility.js';
import type { NodeFacts } from '../../libs/core/eligibility.js';
import type { Labels, NodeSelectorTerm, PodSpec, Taint, Toleration } from '../../libs/model/types.js';

// The fixtures of daemon_controller_test.go.
const simpleDaemonSetLabel: Labels = { name: 'simple-daemon', type: 'production' };
const simpleDaemonSetLabel2: Labels = { name: 'simple-daemon', type: 'test' };
const simpleNodeLabel: Labels = { color: 'blue', speed: 'fast' };
const simpleNodeLabel2: Labels = { color: 'red', speed: 'fast' };
const noScheduleTolerations: Toleration[] = [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }];
const noScheduleTaints: Taint[] = [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }];
const noExecuteTaints: Taint[] = [{ key: 'dedicated', value: 'user1', effect: 'NoExecute' }];
const nodeNotReady: Taint[] = [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' }];
const nodeUnreachable: Taint[] = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' }];

/** newDaemonSet(...).Spec.Template.Spec */
function podSpec(extra: Partial<PodSpec> = {}): PodSpec {
  return { containers: [{ name: 'foo', image: 'foo/bar' }], ...extra };
}

/** resourcePodSpec(nodeName, memory, cpu) */
function resourcePodSpec(nodeName: string, memory: string, cpu: string): PodSpec {
  return podSpec({
    ...(nodeName ? { nodeName } : {}),
    containers: [{ name: 'foo', image: 'foo/bar', resources: { requests: { memory, cpu } } }],
  });
}

function newNode(name: string, labels: Labels = {}, taints: readonly Taint[] = []): NodeFacts {
  return { name, labels, taints };
}

/** addNodes(store, start, count, labels) */
function addNodes(start: number, count: number, labels: Labels = {}): NodeFacts[] {
  return Array.from({ length: count }, (_, i) => newNode(`node-${start + i}`, labels));
}

function affinity(...terms: NodeSelectorTerm[]): Partial<PodSpec> {
  return { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } };
}

const untolerated = (t: Taint) => `node had untolerated taint {${t.key}: ${t.value ?? ''}}`;

interface Case {
  readonly name: string;
  readonly spec: PodSpec;
  readonly node: NodeFacts;
  readonly shouldRun: boolean;
  readonly shouldContinueRunning: boolean;
  readonly reason?: string;
}

const testNode = (taints: readonly Taint[] = []) => newNode('test-node', simpleDaemonSetLabel, taints);

const cases: readonly Case[] = [
  // TestNodeShouldRunDaemonPod
  { name: 'TestNodeShouldRunDaemonPod/ShouldRunDaemonPod', spec: resourcePodSpec('', '50M', '0.5'), node: testNode(), shouldRun: true, shouldContinueRunning: true },
  { name: 'TestNodeShouldRunDaemonPod/InsufficientResourceError (resources are the scheduler\'s business)', spec: resourcePodSpec('', '200M', '0.5'), node: testNode(), shouldRun: true, shouldContinueRunning: true },
  { name: 'TestNodeShouldRunDaemonPod/ErrPodNotMatchHostName', spec: resourcePodSpec('other-node', '50M', '0.5'), node: testNode(), shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_NAME },
  {
    name: 'TestNodeShouldRunDaemonPod/ErrPodNotFitsHostPorts (host ports are ignored)',
    spec: podSpec({ containers: [{ name: 'foo', image: 'foo/bar', ports: [{ containerPort: 666, hostPort: 666 }] }] }),
    node: testNode(), shouldRun: true, shouldContinueRunning: true,
  },
  { name: 'TestNodeShouldRunDaemonPod/ErrNodeSelectorNotMatch', spec: podSpec({ nodeSelector: simpleDaemonSetLabel2 }), node: testNode(), shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_AFFINITY },
  { name: 'TestNodeShouldRunDaemonPod/ShouldRunDaemonPod (nodeSelector matches)', spec: podSpec({ nodeSelector: simpleDaemonSetLabel }), node: testNode(), shouldRun: true, shouldContinueRunning: true },
  {
    name: 'TestNodeShouldRunDaemonPod/ErrPodAffinityNotMatch',
    spec: podSpec(affinity({ matchExpressions: [{ key: 'type', operator: 'In', values: ['test'] }] })),
    node: testNode(), shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_AFFINITY,
  },
  {
    name: 'TestNodeShouldRunDaemonPod/ShouldRunDaemonPod (affinity matches)',
    spec: podSpec(affinity({ matchExpressions: [{ key: 'type', operator: 'In', values: ['production'] }] })),
    node: testNode(), shouldRun: true, shouldContinueRunning: true,
  },
  {
    name: 'TestNodeShouldRunDaemonPod/ShouldRunDaemonPodOnUnschedulableNode (cordon taint is tolerated)',
    spec: resourcePodSpec('', '50M', '0.5'),
    node: testNode([{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), shouldRun: true, shouldContinueRunning: true,
  },

  // Taints and tolerations
  { name: 'TestTaintedNodeDaemonDoesNotLaunchIntolerantPod', spec: podSpec(), node: newNode('tainted', {}, noScheduleTaints), shouldRun: false, shouldContinueRunning: true, reason: untolerated(noScheduleTaints[0]!) },
  { name: 'TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod', spec: podSpec(), node: newNode('tainted', {}, noScheduleTaints), shouldRun: false, shouldContinueRunning: true, reason: 'node had untolerated taint {dedicated: user1}' },
  { name: 'TestNoExecuteTaintedDoesEvicitRunningIntolerantPod', spec: podSpec(), node: newNode('tainted', {}, noExecuteTaints), shouldRun: false, shouldContinueRunning: false, reason: 'node had untolerated taint {dedicated: user1}' },
  { name: 'TestTaintedNodeDaemonLaunchesToleratePod', spec: podSpec({ tolerations: noScheduleTolerations }), node: newNode('tainted', {}, noScheduleTaints), shouldRun: true, shouldContinueRunning: true },
  { name: 'TestNotReadyNodeDaemonLaunchesPod', spec: podSpec(), node: newNode('tainted', {}, nodeNotReady), shouldRun: true, shouldContinueRunning: true },
  { name: 'TestUnreachableNodeDaemonLaunchesPod', spec: podSpec(), node: newNode('tainted', {}, nodeUnreachable), shouldRun: true, shouldContinueRunning: true },
  { name: 'TestNodeDaemonLaunchesToleratePod', spec: podSpec({ tolerations: noScheduleTolerations }), node: newNode('node-0'), shouldRun: true, shouldContinueRunning: true },
  {
    name: 'TestTaintPressureNodeDaemonLaunchesPod',
    spec: podSpec({ priorityClassName: 'system-node-critical' }),
    node: newNode('resources-pressure', {}, [
      { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' },
    ]),
    shouldRun: true, shouldContinueRunning: true,
  },
  {
    name: 'TestNoExecuteTaintedDoesEvicitRunningIntolerantPod (a NoSchedule toleration does not cover NoExecute)',
    spec: podSpec({ tolerations: noScheduleTolerations }), node: newNode('tainted', {}, noExecuteTaints),
    shouldRun: false, shouldContinueRunning: false, reason: 'node had untolerated taint {dedicated: user1}',
  },

  // Reference §2, beyond the upstream tests
  { name: '§2 PreferNoSchedule taints are ignored', spec: podSpec(), node: newNode('n', {}, [{ key: 'soft', effect: 'PreferNoSchedule' }]), shouldRun: true, shouldContinueRunning: true },
  {
    name: '§2 NoSchedule and NoExecute both untolerated: the NoExecute one decides and is named',
    spec: podSpec(), node: newNode('n', {}, [...noScheduleTaints, { key: 'evict', value: 'now', effect: 'NoExecute' }]),
    shouldRun: false, shouldContinueRunning: false, reason: 'node had untolerated taint {evict: now}',
  },
  {
    name: '§2 network-unavailable is tolerated only with hostNetwork (hostNetwork)',
    spec: podSpec({ hostNetwork: true }), node: newNode('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]),
    shouldRun: true, shouldContinueRunning: true,
  },
  {
    name: '§2 network-unavailable is tolerated only with hostNetwork (pod network)',
    spec: podSpec(), node: newNode('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]),
    shouldRun: false, shouldContinueRunning: true, reason: 'node had untolerated taint {node.kubernetes.io/network-unavailable: }',
  },
  {
    name: '§2 a toleration of everything tolerates every taint',
    spec: podSpec({ tolerations: [{ operator: 'Exists' }] }), node: newNode('n', {}, [...noExecuteTaints, ...noScheduleTaints]),
    shouldRun: true, shouldContinueRunning: true,
  },
  {
    name: '§2 nodeSelector and affinity must both hold',
    spec: podSpec({ nodeSelector: { speed: 'fast' }, ...affinity({ matchExpressions: [{ key: 'color', operator: 'In', values: ['red'] }] }) }),
    node: newNode('n', simpleNodeLabel), shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_AFFINITY,
  },
  {
    name: '§2 affinity does not match: taints are not even looked at',
    spec: podSpec({ nodeSelector: { color: 'red' } }), node: newNode('n', simpleNodeLabel, noScheduleTaints),
    shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_AFFINITY,
  },
];

describe('nodeShouldRunDaemonPod', () => {
  for (const c of cases) {
    it(c.name, () => {
      const verdict = nodeShouldRunDaemonPod(c.spec, c.node);
      assert.equal(verdict.shouldRun, c.shouldRun, 'shouldRun');
      assert.equal(verdict.shouldContinueRunning, c.shouldContinueRunning, 'shouldContinueRunning');
      assert.equal(verdict.reason, c.reason);
    });
  }
});

interface FleetCase {
  readonly name: string;
  readonly spec: PodSpec;
  readonly nodes: readonly NodeFacts[];
  readonly want: readonly string[];
}

const fleetCases: readonly FleetCase[] = [
  { name: 'TestSimpleDaemonSetLaunchesPods', spec: podSpec(), nodes: addNodes(0, 5), want: ['node-0', 'node-1', 'node-2', 'node-3', 'node-4'] },
  { name: 'TestSelectorDaemonSetLaunchesPods', spec: podSpec({ nodeSelector: simpleNodeLabel }), nodes: [...addNodes(0, 4), ...addNodes(4, 3, simpleNodeLabel)], want: ['node-4', 'node-5', 'node-6'] },
  { name: 'TestBadSelectorDaemonDoesNothing', spec: podSpec({ nodeSelector: simpleNodeLabel2 }), nodes: [...addNodes(0, 4), ...addNodes(4, 3, simpleNodeLabel)], want: [] },
  { name: 'TestNameDaemonSetLaunchesPods', spec: podSpec({ nodeName: 'node-0' }), nodes: addNodes(0, 5), want: ['node-0'] },
  { name: 'TestBadNameDaemonSetDoesNothing', spec: podSpec({ nodeName: 'node-10' }), nodes: addNodes(0, 5), want: [] },
  { name: 'TestNameAndSelectorDaemonSetLaunchesPods', spec: podSpec({ nodeSelector: simpleNodeLabel, nodeName: 'node-6' }), nodes: [...addNodes(0, 4), ...addNodes(4, 3, simpleNodeLabel)], want: ['node-6'] },
  { name: 'TestInconsistentNameSelectorDaemonSetDoesNothing', spec: podSpec({ nodeSelector: simpleNodeLabel, nodeName: 'node-0' }), nodes: [...addNodes(0, 4), ...addNodes(4, 3, simpleNodeLabel)], want: [] },
  {
    name: 'TestNodeAffinityDaemonLaunchesPods',
    spec: podSpec(affinity({ matchExpressions: [{ key: 'color', operator: 'In', values: ['blue'] }] })),
    nodes: [...addNodes(0, 4), ...addNodes(4, 3, simpleNodeLabel)], want: ['node-4', 'node-5', 'node-6'],
  },
  {
    name: 'TestDeleteUnscheduledPodForNotExistingNode (matchFields metadata.name pins one node)',
    spec: podSpec(affinity({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] })),
    nodes: addNodes(0, 4), want: ['node-2'],
  },
  {
    name: 'node affinity: terms are ORed',
    spec: podSpec(affinity(
      { matchExpressions: [{ key: 'color', operator: 'In', values: ['red'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-0'] }] },
    )),
    nodes: [...addNodes(0, 2), ...addNodes(2, 1, simpleNodeLabel2)], want: ['node-0', 'node-2'],
  },
  {
    name: 'node affinity: requirements in a term are ANDed (labels and fields)',
    spec: podSpec(affinity({
      matchExpressions: [{ key: 'speed', operator: 'Exists' }, { key: 'color', operator: 'NotIn', values: ['red'] }],
      matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-4'] }],
    })),
    nodes: [...addNodes(0, 2), ...addNodes(2, 1, simpleNodeLabel2), ...addNodes(3, 2, simpleNodeLabel)], want: ['node-3'],
  },
  {
    name: 'node affinity: DoesNotExist',
    spec: podSpec(affinity({ matchExpressions: [{ key: 'color', operator: 'DoesNotExist' }] })),
    nodes: [...addNodes(0, 1), ...addNodes(1, 1, simpleNodeLabel)], want: ['node-0'],
  },
  {
    name: 'node affinity: Gt and Lt compare integers',
    spec: podSpec(affinity({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }, { key: 'cores', operator: 'Lt', values: ['64'] }] })),
    nodes: [newNode('n4', { cores: '4' }), newNode('n8', { cores: '8' }), newNode('n64', { cores: '64' }), newNode('nx', { cores: 'many' }), newNode('none')],
    want: ['n8'],
  },
  {
    name: 'node affinity: a term that does not parse matches nothing, the others still count',
    spec: podSpec(affinity(
      { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['four'] }] },
      { matchExpressions: [{ key: 'color', operator: 'In', values: [] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }] },
      { matchExpressions: [{ key: 'color', operator: 'In', values: ['blue'] }] },
    )),
    nodes: [newNode('n1', { cores: '8' }), newNode('n2', { color: 'red' }), newNode('n3', simpleNodeLabel)], want: ['n3'],
  },
  {
    name: 'node affinity: an empty term matches nothing',
    spec: podSpec(affinity({})), nodes: addNodes(0, 2), want: [],
  },
  {
    name: 'node affinity: a matchFields key other than metadata.name matches nothing with In',
    spec: podSpec(affinity({ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['node-0'] }] })),
    nodes: addNodes(0, 2), want: [],
  },
];

describe('nodeShouldRunDaemonPod over a fleet (upstream sync tests: which nodes get a pod)', () => {
  for (const c of fleetCases) {
    it(c.name, () => {
      const chosen = c.nodes.filter((n) => nodeShouldRunDaemonPod(c.spec, n).shouldRun).map((n) => n.name);
      assert.deepEqual(chosen, c.want);
      for (const n of c.nodes) {
        const v = nodeShouldRunDaemonPod(c.spec, n);
        // Without taints, a node either runs the pod or is no place for it at all.
        assert.equal(v.shouldContinueRunning, v.shouldRun, n.name);
      }
    });
  }
});
