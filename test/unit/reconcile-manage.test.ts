// Ports of Kubernetes' pkg/controller/daemon/daemon_controller_test.go (the `manage` half of
// syncDaemonSet: podsShouldBeOnNode), run over the real evolve + reconcile through the scenario
// harness. Upstream asserts counts of creates/deletes per sync; these assert the exact nodes,
// pod names and command ids. Tests about API errors (TestSimpleDaemonSetPodCreateErrors,
// TestDaemonSetPodCreateExpectationsError, ...) have nothing to port: commands here are values.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { PodCreate } from '../../libs/events/types.js';
import type { Taint, Toleration } from '../../libs/model/types.js';
import { REASON_NODE_AFFINITY } from '../../libs/core/eligibility.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from '../../libs/core/node-taints.js';
import {
  Scenario,
  addNodes,
  commandRejected,
  createdNodes,
  createsOf,
  deletedPods,
  deletesOf,
  dsApplied,
  dsDeleted,
  expectedCreate,
  expectedDeleteId,
  nodeDeregistered,
  nodeLabelsSet,
  nodeNotReady,
  nodeReady,
  nodeRegistered,
  podCreateFor,
  podDeleteFor,
  podDeleted,
  podFailed,
  podReady,
  podStarted,
  podSucceeded,
  simpleDaemonSetLabel,
  simpleDaemonSetLabel2,
  simpleNodeLabel,
  simpleNodeLabel2,
  taintsSet,
  unschedulableSet,
} from '../support/scenario.js';

const noScheduleTolerations: Toleration[] = [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }];
const noScheduleTaints: Taint[] = [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }];
const noExecuteTaints: Taint[] = [{ key: 'dedicated', value: 'user1', effect: 'NoExecute' }];

const nodes = (...idx: number[]): string[] => idx.map((i) => `node-${i}`).sort();

/** addPods(store, node, labels, ds, n): `n` pods of DaemonSet `owner` on `node`, one second apart. */
function addPods(s: Scenario, node: string, n: number, owner = 'foo', prefix = `${node}-`): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}${owner}-${i}`;
    s.given(podCreateFor(s.ds(owner), node, name));
    s.advance(1000);
    names.push(name);
  }
  return names;
}

/** Every create of `cmds` carries the deterministic identity of a first attempt on its node. */
function assertFirstAttempts(s: Scenario, creates: readonly PodCreate[], name = 'foo'): void {
  const ds = s.ds(name);
  for (const c of creates) {
    const want = expectedCreate(ds, c.data.node, ds.createsByNode.get(c.data.node) ?? 0);
    assert.equal(c.data.id, want.id, `command id on ${c.data.node}`);
    assert.equal(c.data.pod.uid, want.uid, `pod uid on ${c.data.node}`);
    assert.equal(c.data.pod.name, want.name, `pod name on ${c.data.node}`);
  }
}

describe('manage: launching pods', () => {
  it('TestSimpleDaemonSetLaunchesPods: one pod per node, deterministic ids and names', () => {
    const s = new Scenario().given(addNodes(0, 5), dsApplied('foo'));
    const d = s.whenReconcile('foo');
    assert.equal(d.phase, 'manage');
    assert.deepEqual(createdNodes(d), nodes(0, 1, 2, 3, 4));
    assert.equal(deletesOf(d).length, 0);
    assertFirstAttempts(s, createsOf(d));
    const ds = s.ds();
    for (const c of createsOf(d)) {
      assert.match(c.data.pod.name, /^foo-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.deepEqual(c.data.ds, { namespace: 'default', name: 'foo', uid: 'uid-foo' });
      assert.equal(c.data.epoch, 1);
      assert.equal(c.data.slot, ds.slot);
      assert.equal(c.data.pod.hash, ds.currentHash);
      assert.equal(c.data.pod.templateGeneration, 1);
      assert.deepEqual(c.data.pod.labels, {
        ...simpleDaemonSetLabel,
        'controller-revision-hash': ds.currentHash,
        'pod-template-generation': '1',
      });
    }
    assert.equal(new Set(createsOf(d).map((c) => c.data.pod.name)).size, 5, 'pod names are unique');
    assert.deepEqual(d.status, {
      desiredNumberScheduled: 5,
      currentNumberScheduled: 0,
      numberReady: 0,
      numberAvailable: 0,
      numberUnavailable: 5,
      updatedNumberScheduled: 0,
      numberMisscheduled: 0,
      observedGeneration: 1,
    });
  });

  it('the same view decides the same commands (replay decides alike)', () => {
    const a = new Scenario().given(addNodes(0, 3), dsApplied('foo')).whenReconcile('foo');
    const b = new Scenario().given(addNodes(0, 3), dsApplied('foo')).whenReconcile('foo');
    assert.deepEqual(a, b);
  });

  it('TestSimpleDaemonSetScheduleDaemonSetPodsLaunchesPods: pods carry no nodeName, a metadata.name affinity pins them', () => {
    const s = new Scenario().given(addNodes(0, 5), dsApplied('foo'));
    for (const c of createsOf(s.whenReconcile('foo'))) {
      assert.equal(c.data.pod.spec.nodeName, undefined);
      assert.deepEqual(c.data.pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [c.data.node] }] }],
      });
      assert.ok(
        c.data.pod.spec.tolerations?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'),
        'daemon tolerations are added',
      );
    }
  });

  it('TestNoNodesDoesNothing', () => {
    const d = new Scenario().given(dsApplied('foo')).whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.phase, 'idle');
    assert.equal(d.status?.desiredNumberScheduled, 0);
  });

  it('TestOneNodeDaemonLaunchesPod', () => {
    const s = new Scenario().given(nodeRegistered('only-node'), dsApplied('foo'));
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['only-node']);
  });

  it('a reconcile of an unknown DaemonSet does nothing', () => {
    const d = new Scenario().given(addNodes(0, 2)).whenReconcile('nope');
    assert.deepEqual(d, { commands: [], phase: 'idle' });
  });

  it('TestNotReadyNodeDaemonDoesLaunchPod: the NotReady condition alone does not block (only taints count)', () => {
    // Upstream sets only the Ready=False condition. Here the condition comes with the taints the
    // node lifecycle controller adds (see the next test), so the pure condition is modelled by an
    // agent NotReady report being absent: the node is Ready, carrying the NoExecute taint only.
    const s = new Scenario().given(
      nodeRegistered('not-ready'),
      taintsSet('not-ready', [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }]),
      dsApplied('foo'),
    );
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['not-ready']);
  });

  it('TestNotReadyNodeDaemonLaunchesPod / TestUnreachableNodeDaemonLaunchesPod: not-ready and unreachable NoExecute are tolerated', () => {
    for (const key of [TAINT_NOT_READY, TAINT_UNREACHABLE]) {
      const s = new Scenario().given(
        nodeRegistered('tainted'),
        taintsSet('tainted', [{ key, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }]),
        dsApplied('foo'),
      );
      assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['tainted'], key);
    }
  });

  it('a node judged NotReady/Unknown gets no new pod (TaintNodesByCondition adds a NoSchedule taint) but keeps its pod', () => {
    for (const status of ['False', 'Unknown'] as const) {
      const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
      s.step();
      s.given(nodeNotReady('node-0', status));
      s.given(nodeRegistered('node-2'), nodeNotReady('node-2', status));
      const d = s.whenReconcile('foo');
      assert.deepEqual(d.commands, [], `${status}: no create on node-2, no delete on node-0`);
      assert.equal(d.status?.desiredNumberScheduled, 1, status);
      assert.equal(d.status?.numberMisscheduled, 1, `${status}: node-0's pod is kept but misscheduled`);
      s.given(nodeReady('node-0'), nodeReady('node-2'));
      assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['node-2'], `${status}: Ready again → create`);
    }
  });

  it('TestUnschedulableNodeDaemonDoesLaunchPod: a cordoned node still gets its daemon pod', () => {
    const s = new Scenario().given(nodeRegistered('tainted'), unschedulableSet('tainted', true), nodeRegistered('other'), dsApplied('foo'));
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['other', 'tainted']);
  });

  it('TestTaintedNodeDaemonDoesNotLaunchIntolerantPod', () => {
    const s = new Scenario().given(nodeRegistered('tainted'), taintsSet('tainted', noScheduleTaints), dsApplied('foo'));
    const d = s.whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.desiredNumberScheduled, 0);
  });

  it('TestTaintedNodeDaemonLaunchesToleratePod', () => {
    const s = new Scenario().given(
      nodeRegistered('tainted'),
      taintsSet('tainted', noScheduleTaints),
      dsApplied('foo', { podSpec: { tolerations: noScheduleTolerations } }),
    );
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['tainted']);
  });

  it('TestNodeDaemonLaunchesToleratePod: a tolerated NoSchedule taint among untainted nodes', () => {
    const s = new Scenario().given(
      nodeRegistered('tainted'),
      taintsSet('tainted', noScheduleTaints),
      addNodes(1, 1),
      dsApplied('foo', { podSpec: { tolerations: noScheduleTolerations } }),
    );
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['node-1', 'tainted']);
  });

  it('TestTaintPressureNodeDaemonLaunchesPod: pressure and (host network) network-unavailable taints are tolerated', () => {
    const s = new Scenario().given(
      nodeRegistered('resources-pressure'),
      taintsSet(
        'resources-pressure',
        [
          { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' },
        ],
        'agent',
      ),
      dsApplied('foo', { podSpec: { hostNetwork: true } }),
    );
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['resources-pressure']);
  });

  it('TestNetworkUnavailableNodeDaemonLaunchesPod: network-unavailable blocks a pod without host network', () => {
    const s = new Scenario().given(
      nodeRegistered('network-unavailable'),
      taintsSet('network-unavailable', [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }], 'agent'),
      dsApplied('foo'),
    );
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });
});

describe('manage: node selection', () => {
  it('TestSelectorDaemonLaunchesPods (TestNodeSelectorDaemonLaunchesPods): only labelled nodes', () => {
    const s = new Scenario().given(addNodes(0, 4), addNodes(4, 3, simpleNodeLabel), dsApplied('foo', { podSpec: { nodeSelector: simpleNodeLabel } }));
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), nodes(4, 5, 6));
  });

  it('TestBadSelectorDaemonDoesNothing', () => {
    const s = new Scenario().given(addNodes(0, 4), addNodes(4, 3, simpleNodeLabel), dsApplied('foo', { podSpec: { nodeSelector: simpleNodeLabel2 } }));
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });

  it('TestNameDaemonSetLaunchesPods / TestBadNameDaemonSetDoesNothing', () => {
    const s = new Scenario().given(addNodes(0, 5), dsApplied('foo', { podSpec: { nodeName: 'node-0' } }));
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['node-0']);
    const bad = new Scenario().given(addNodes(0, 5), dsApplied('foo', { podSpec: { nodeName: 'node-10' } }));
    assert.deepEqual(bad.whenReconcile('foo').commands, []);
  });

  it('TestNameAndSelectorDaemonSetLaunchesPods / TestInconsistentNameSelectorDaemonSetDoesNothing', () => {
    const s = new Scenario().given(addNodes(0, 4), addNodes(4, 3, simpleNodeLabel), dsApplied('foo', { podSpec: { nodeName: 'node-6', nodeSelector: simpleNodeLabel } }));
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['node-6']);
    const bad = new Scenario().given(addNodes(0, 4), addNodes(4, 3, simpleNodeLabel), dsApplied('foo', { podSpec: { nodeName: 'node-0', nodeSelector: simpleNodeLabel } }));
    assert.deepEqual(bad.whenReconcile('foo').commands, []);
  });

  it('TestNodeAffinityDaemonLaunchesPods', () => {
    const s = new Scenario().given(
      addNodes(0, 4),
      addNodes(4, 3, simpleNodeLabel),
      dsApplied('foo', {
        podSpec: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'color', operator: 'In', values: ['blue'] }] }],
              },
            },
          },
        },
      }),
    );
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), nodes(4, 5, 6));
  });
});

describe('manage: existing pods', () => {
  it('TestDealsWithExistingPods: creates where missing, keeps the oldest of excess pods', () => {
    const s = new Scenario().given(
      addNodes(0, 5),
      dsApplied('foo'),
      dsApplied('bar', { templateLabels: simpleDaemonSetLabel2, podSpec: { nodeName: 'elsewhere' } }),
    );
    addPods(s, 'node-1', 1);
    // Named so that name order and age order disagree: age decides.
    const n2 = addPods(s, 'node-2', 2, 'foo', 'z-node-2-');
    const n3 = addPods(s, 'node-3', 5, 'foo', 'z-node-3-');
    addPods(s, 'node-4', 2, 'bar'); // simpleDaemonSetLabel2: not this DaemonSet's pods
    const before = new Map(s.ds().createsByNode);
    const d = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(d), nodes(0, 4));
    assert.deepEqual(deletedPods(d), [...n2.slice(1), ...n3.slice(1)].sort());
    for (const del of deletesOf(d)) {
      assert.equal(del.data.reason, 'ExcessDaemonPod');
      assert.equal(del.data.id, expectedDeleteId({ uid: del.data.podUid }));
      assert.equal(del.data.podUid, `uid-${del.data.podName}`);
    }
    assert.equal(before.get('node-4'), undefined);
    assertFirstAttempts(s, createsOf(d));
  });

  it('excess pods created at the same time: the tie is broken by name (podByCreationTimestampAndPhase)', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.given(podCreateFor(s.ds(), 'node-0', 'foo-c'), podCreateFor(s.ds(), 'node-0', 'foo-a'), podCreateFor(s.ds(), 'node-0', 'foo-b'));
    assert.deepEqual(deletedPods(s.whenReconcile('foo')), ['foo-b', 'foo-c']);
  });

  it('TestSelectorDaemonDeletesUnselectedPods', () => {
    const s = new Scenario().given(
      addNodes(0, 5),
      addNodes(5, 5, simpleNodeLabel),
      dsApplied('foo', { podSpec: { nodeSelector: simpleNodeLabel } }),
      dsApplied('bar', { templateLabels: simpleDaemonSetLabel2, podSpec: { nodeName: 'elsewhere' } }),
    );
    addPods(s, 'node-0', 2, 'bar');
    const n1 = addPods(s, 'node-1', 3);
    addPods(s, 'node-1', 1, 'bar');
    const n4 = addPods(s, 'node-4', 1);
    const d = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(d), nodes(5, 6, 7, 8, 9));
    assert.deepEqual(deletedPods(d), [...n1, ...n4].sort());
    for (const del of deletesOf(d)) assert.equal(del.data.reason, REASON_NODE_AFFINITY);
  });

  it('TestSelectorDaemonDealsWithExistingPods', () => {
    const s = new Scenario().given(
      addNodes(0, 5),
      addNodes(5, 5, simpleNodeLabel),
      dsApplied('foo', { podSpec: { nodeSelector: simpleNodeLabel } }),
      dsApplied('bar', { templateLabels: simpleDaemonSetLabel2, podSpec: { nodeName: 'elsewhere' } }),
    );
    const n0 = addPods(s, 'node-0', 1);
    const n1 = addPods(s, 'node-1', 3);
    addPods(s, 'node-1', 2, 'bar');
    const n2 = addPods(s, 'node-2', 4);
    const n6 = addPods(s, 'node-6', 13);
    addPods(s, 'node-7', 4, 'bar');
    addPods(s, 'node-9', 1);
    addPods(s, 'node-9', 1, 'bar');
    const d = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(d), nodes(5, 7, 8));
    assert.deepEqual(deletedPods(d), [...n0, ...n1, ...n2, ...n6.slice(1)].sort());
    assert.equal(deletesOf(d).length, 20);
  });

  it('TestDaemonSetRespectsTermination: a terminating pod blocks a new one (no surge) and is not deleted again', () => {
    const s = new Scenario().given(addNodes(0, 1, simpleNodeLabel), dsApplied('foo'));
    s.step();
    const [pod] = s.podsOf();
    s.given(podDeleteFor(pod!));
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });
});

describe('manage: failed and succeeded pods', () => {
  // TestDaemonKillFailedPods: failed pods are deleted in one sync and replaced in the next.
  const cases = [
    { test: 'normal (do nothing)', failed: 0, normal: 1, creates: 0, deletes: 0 },
    { test: 'no pods (create 1)', failed: 0, normal: 0, creates: 1, deletes: 0 },
    { test: '1 failed pod (kill 1), 0 normal pod (create 0; will create in the next sync)', failed: 1, normal: 0, creates: 0, deletes: 1 },
    { test: '1 failed pod (kill 1), 3 normal pods (kill 2)', failed: 1, normal: 3, creates: 0, deletes: 3 },
  ];
  for (const c of cases) {
    it(`TestDaemonKillFailedPods: ${c.test}`, () => {
      const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
      const failed = addPods(s, 'node-0', c.failed, 'foo', 'failed-');
      for (const name of failed) s.given(podStarted(s.pod(name)), podFailed(s.pod(name)));
      const normal = addPods(s, 'node-0', c.normal, 'foo', 'normal-');
      const d = s.whenReconcile('foo');
      assert.equal(createsOf(d).length, c.creates);
      assert.deepEqual(deletedPods(d), [...failed, ...normal.slice(1)].sort());
      for (const del of deletesOf(d)) {
        assert.equal(del.data.reason, failed.includes(del.data.podName) ? 'FailedDaemonPod' : 'ExcessDaemonPod');
      }
    });
  }

  it('TestDaemonKillFailedPods: the replacement comes once the failed pod is deleted', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    const [first] = s.podsOf();
    s.given(podFailed(first!));
    const kill = s.step();
    assert.deepEqual(deletedPods(kill), [first!.name]);
    assert.equal(s.podsOf().length, 0, 'the agent deleted it');
    const d = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(d), ['node-0']);
    const c = createsOf(d)[0]!;
    assert.equal(c.data.id, expectedCreate(s.ds(), 'node-0', 1).id, 'second attempt on node-0');
    assert.notEqual(c.data.pod.name, first!.name);
  });

  it('a failed pod being deleted is invisible: the node gets a replacement at once', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    const [first] = s.podsOf();
    s.given(podFailed(first!));
    s.sync(); // PodDelete folded, the agent has not confirmed yet
    assert.ok(s.pod(first!.name).deletionMs !== undefined);
    assert.deepEqual(createdNodes(s.whenReconcile('foo')), ['node-0']);
  });

  it('a succeeded pod is deleted (SucceededDaemonPod)', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    const [first] = s.podsOf();
    s.given(podSucceeded(first!));
    const d = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(d), [first!.name]);
    assert.equal(deletesOf(d)[0]!.data.reason, 'SucceededDaemonPod');
  });
});

describe('manage: status', () => {
  it('TestNumberReadyStatus', () => {
    const s = new Scenario().given(addNodes(0, 2, simpleNodeLabel), dsApplied('foo'));
    addPods(s, 'node-0', 1);
    addPods(s, 'node-1', 1);
    let d = s.sync();
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.numberReady, 0);
    assert.equal(d.status?.currentNumberScheduled, 2);
    s.markPodsReady();
    d = s.sync();
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.numberReady, 2);
    assert.equal(d.status?.numberAvailable, 2);
    assert.equal(s.ds().status?.numberReady, 2, 'the status written is folded');
    assert.equal(s.sync().status, undefined, 'an unchanged status is not written again');
  });

  it('TestObservedGeneration', () => {
    const s = new Scenario().given(addNodes(0, 1, simpleNodeLabel), dsApplied('foo', { generation: 1 }));
    addPods(s, 'node-0', 1);
    assert.equal(s.sync().status?.observedGeneration, 1);
    s.update('foo', { minReadySeconds: 5 });
    assert.equal(s.ds().generation, 2);
    assert.equal(s.sync().status?.observedGeneration, 2);
  });
});

describe('manage: node changes (TestUpdateNode-style)', () => {
  it('label added → create; label removed → delete', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo', { podSpec: { nodeSelector: simpleNodeLabel } }));
    assert.deepEqual(s.whenReconcile('foo').commands, []);
    s.given(nodeLabelsSet('node-1', simpleNodeLabel));
    const add = s.step();
    assert.deepEqual(createdNodes(add), ['node-1']);
    const [pod] = s.podsOf();
    s.given(nodeLabelsSet('node-1', { color: 'green' }));
    const rm = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(rm), [pod!.name]);
    assert.equal(deletesOf(rm)[0]!.data.reason, REASON_NODE_AFFINITY);
    assert.equal(deletesOf(rm)[0]!.data.id, expectedDeleteId(pod!));
  });

  it('TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod: NoSchedule added → pod kept, counted misscheduled', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.step();
    s.given(taintsSet('node-1', noScheduleTaints));
    const d = s.whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.desiredNumberScheduled, 1);
    assert.equal(d.status?.currentNumberScheduled, 1);
    assert.equal(d.status?.numberMisscheduled, 1);
  });

  it('TestNoExecuteTaintedDoesEvicitRunningIntolerantPod: NoExecute added → pod deleted', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.step();
    const [, onNode1] = s.podsOf();
    s.given(taintsSet('node-1', noExecuteTaints));
    const d = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(d), [onNode1!.name]);
    assert.equal(deletesOf(d)[0]!.data.reason, 'node had untolerated taint {dedicated: user1}');
  });

  it('a NoExecute taint tolerated by the template keeps the pod', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo', { podSpec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } }));
    s.step();
    s.given(taintsSet('node-0', noExecuteTaints));
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });

  it('TestDeleteNoDaemonPod / TestDeletePodForNotExistingNode: node removed → its pods are dropped, nothing to delete', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.step();
    s.given(nodeDeregistered('node-1'));
    assert.deepEqual(s.podsOf().map((p) => p.node), ['node-0']);
    assert.equal(s.state.nodes.has('node-1'), false);
    const d = s.whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.desiredNumberScheduled, 1);
  });

  it('NodeDeregistered of an older incarnation is ignored', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    s.given(nodeDeregistered('node-0', 'inc-stale'));
    assert.equal(s.podsOf().length, 1);
  });

  it('NodeRegistered with a new incarnation drops the old pods; the new pod is a new attempt', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.step();
    const old = s.podsOn('node-0')[0]!;
    s.given(nodeRegistered('node-0', {}, 'inc-2'));
    assert.deepEqual(s.podsOn('node-0'), []);
    assert.equal(s.podsOn('node-1').length, 1, 'other nodes untouched');
    const d = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(d), ['node-0']);
    const c = createsOf(d)[0]!;
    const want = expectedCreate(s.ds(), 'node-0', 1);
    assert.equal(c.data.id, want.id);
    assert.equal(c.data.pod.name, want.name);
    assert.notEqual(c.data.pod.uid, old.uid);
  });

  it('NodeRegistered again with the same incarnation keeps the pods', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    s.given(nodeRegistered('node-0', { zone: 'a' }));
    assert.equal(s.podsOn('node-0').length, 1);
  });
});

describe('manage: commands refused by agents', () => {
  it('CommandRejected for a create removes the pod; the next create is a new attempt with a new id', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    const first = s.sync();
    const c0 = createsOf(first)[0]!;
    assert.equal(s.podsOf().length, 1);
    s.given(commandRejected(c0, 'DriverError'));
    assert.deepEqual(s.podsOf(), []);
    const second = s.whenReconcile('foo');
    const c1 = createsOf(second)[0]!;
    assert.equal(c1.data.node, 'node-0');
    assert.notEqual(c1.data.id, c0.data.id);
    assert.notEqual(c1.data.pod.uid, c0.data.pod.uid);
    assert.equal(c1.data.id, expectedCreate(s.ds(), 'node-0', 1).id);
  });

  it('CommandRejected for a delete: the pod is no longer terminating and is deleted again', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    const [pod] = s.podsOf();
    s.given(podFailed(pod!));
    const del = s.sync();
    assert.ok(s.pod(pod!.name).deletionMs !== undefined);
    s.given(commandRejected(deletesOf(del)[0]!, 'StaleEpoch'));
    assert.equal(s.pod(pod!.name).deletionMs, undefined);
    s.epoch = 2; // the slot's new owner
    // The refused delete still started the node's failed-pod back-off (Kubernetes calls
    // backoff.Next before deleting): nothing until 1 s has passed, and a wake-up for then.
    const waiting = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(waiting), []);
    assert.equal(waiting.wakeAtMs, s.pod(pod!.name).readyTransitionMs + 1000);
    s.advance(1000);
    const again = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(again), [pod!.name]);
    assert.equal(deletesOf(again)[0]!.data.epoch, 2);
    assert.equal(deletesOf(again)[0]!.data.id, expectedDeleteId(pod!, 2));
  });

  it('a create echo for a node that is gone makes no pod', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    const d = s.whenReconcile('foo');
    s.given(nodeDeregistered('node-0'));
    s.apply(d);
    assert.equal(s.state.pods.size, 0);
  });
});

describe('DaemonSet deletion', () => {
  for (const propagation of ['background', 'foreground'] as const) {
    it(`${propagation}: every pod is deleted, then the DaemonSet disappears`, () => {
      const s = new Scenario().given(addNodes(0, 3), dsApplied('foo'));
      s.step();
      const pods = s.podsOf().map((p) => p.name).sort();
      s.given(dsDeleted('foo', propagation));
      assert.ok(s.ds().deletion);
      const d = s.whenReconcile('foo');
      assert.equal(d.phase, 'delete');
      assert.equal(d.status, undefined, 'no status while being deleted');
      assert.deepEqual(deletedPods(d), pods);
      for (const del of deletesOf(d)) assert.equal(del.data.reason, 'DaemonSetDeleted');
      s.apply(d);
      assert.deepEqual(s.whenReconcile('foo').commands, [], 'terminating pods are not deleted twice');
      s.runAgents(d.commands.slice(0, 2));
      assert.ok(s.state.daemonSets.has('default/foo'), 'still there while a pod remains');
      s.runAgents(d.commands.slice(2));
      assert.equal(s.state.daemonSets.has('default/foo'), false);
      assert.equal(s.state.podsByOwner.has('uid-foo'), false);
    });
  }

  it('a create echo folded after its DaemonSet was deleted is garbage-collected (owner gone → pod deleted)', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    const d = s.whenReconcile('foo'); // decided and published...
    s.given(dsDeleted('foo', 'background')); // ...the delete lands before the echo
    assert.equal(s.state.daemonSets.size, 0);
    s.apply(d);
    const [leaked] = [...s.state.pods.values()];
    assert.ok(leaked, 'the echo made a pod (the agent runs it)');
    assert.equal(leaked.owner?.uid, 'uid-foo', 'it keeps its dangling owner');
    // Reconciling the (gone) DaemonSet's key collects it, like Kubernetes' garbage collector.
    const gc = s.whenReconcile('foo');
    assert.deepEqual(gc.commands.map((c) => [c.type, c.type === 'PodDelete' ? c.data.reason : '', c.data.node]), [['PodDelete', 'GarbageCollected', 'node-0']]);
    s.apply(gc);
    s.runAgents(gc.commands);
    assert.equal(s.state.pods.size, 0);
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });

  it('garbage of a DaemonSet re-created under the same name is collected; its successor\'s pods are not', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    const d = s.whenReconcile('foo');
    s.given(dsDeleted('foo', 'background'), dsApplied('foo', { uid: 'uid-foo-2' }));
    s.apply(d); // two pods of the dead uid-foo
    const garbage = [...s.state.pods.values()].filter((p) => p.owner?.uid === 'uid-foo').map((p) => p.name).sort();
    assert.equal(garbage.length, 2);
    const next = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(next).sort(), garbage);
    assert.ok(deletesOf(next).every((c) => c.data.reason === 'GarbageCollected'));
    assert.deepEqual(createdNodes(next).sort(), ['node-0', 'node-1'], 'the successor gets its own pods');
    assert.ok(createsOf(next).every((c) => c.data.ds.uid === 'uid-foo-2'));
  });

  it('a delete with no pods removes the DaemonSet at once', () => {
    const s = new Scenario().given(dsApplied('foo'), dsDeleted('foo', 'background'));
    assert.equal(s.state.daemonSets.size, 0);
  });

  it('a delete naming another uid is ignored', () => {
    const s = new Scenario().given(dsApplied('foo'), dsDeleted('foo', 'background', { uid: 'other' }));
    assert.equal(s.state.daemonSets.size, 1);
  });

  // A controller holds only its own slots, so a DaemonSet adopts the orphans of its own slot: those
  // a DaemonSet of the same name left (the usual `--cascade=orphan` then re-apply), and those of any
  // other name that hashes to the same slot (foo22 does, for foo; foo2 does not).
  it('orphan: pods keep running with no owner; a new DaemonSet of the same slot with a matching selector adopts them without restarts', () => {
    const s = new Scenario().given(addNodes(0, 3), dsApplied('foo'));
    s.converge();
    const before = s.podsOf().map((p) => ({ name: p.name, uid: p.uid, hash: p.hash }));
    s.given(dsDeleted('foo', 'orphan'));
    assert.equal(s.state.daemonSets.size, 0);
    assert.equal(s.state.podsByOwner.size, 0);
    for (const p of s.state.pods.values()) assert.equal(p.owner, undefined);
    assert.equal(s.state.pods.size, 3);

    s.given(dsApplied('foo22', { uid: 'uid-foo22' }));
    assert.deepEqual(
      s.podsOf('foo22').map((p) => ({ name: p.name, uid: p.uid, hash: p.hash })),
      before,
    );
    for (const p of s.podsOf('foo22')) assert.deepEqual(p.owner, { name: 'foo22', uid: 'uid-foo22' });
    const d = s.whenReconcile('foo22');
    assert.deepEqual(d.commands, [], 'hash matches: nothing restarted');
    assert.equal(d.status?.updatedNumberScheduled, 3);
  });

  it('orphan: adopted pods whose template differs are rolled', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.converge();
    s.update('foo', { image: 'foo/v2' });
    s.converge();
    assert.equal(s.ds().templateGeneration, 2);
    s.given(dsDeleted('foo', 'orphan'));
    s.given(dsApplied('foo22', { uid: 'uid-foo22', image: 'foo/v3' }));
    assert.equal(s.podsOf('foo22').length, 2);
    const d = s.whenReconcile('foo22');
    assert.equal(d.phase, 'rollingUpdate');
    assert.equal(deletesOf(d).length, 1);
  });

  it('orphan: a DaemonSet of another slot does not adopt them (its controller does not hold them)', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.converge();
    s.given(dsDeleted('foo', 'orphan'));
    s.given(dsApplied('foo2', { uid: 'uid-foo2' }));
    for (const p of s.state.pods.values()) assert.equal(p.owner, undefined);
    assert.equal(s.state.pods.size, 2);
  });

  it('orphan: pods in another namespace or not matching the selector are not adopted', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    s.given(dsDeleted('foo', 'orphan'));
    s.given(dsApplied('other-ns', { namespace: 'kube-system', uid: 'u1' }));
    s.given(dsApplied('other-sel', { uid: 'u2', templateLabels: simpleDaemonSetLabel2 }));
    for (const p of s.state.pods.values()) assert.equal(p.owner, undefined);
  });
});

describe('manage with surge (daemon_controller_test.go TestSurge*)', () => {
  /** One node, pods of different ages and hashes on it, surge 1. */
  function surgeNode(minReadySeconds = 0): Scenario {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo', { maxSurge: 1, minReadySeconds }));
    return s;
  }
  const oldHash = 'old-hash';

  it('TestSurgeDealsWithExistingPods: excess new and old pods beyond the oldest of each are deleted', () => {
    const s = surgeNode();
    s.given(podCreateFor(s.ds(), 'node-0', 'old-1', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'old-2', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new-1'));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new-2'));
    s.markPodsReady('foo', (p) => p.name.startsWith('old'));
    const d = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(d), ['new-2', 'old-2']);
    assert.deepEqual(createsOf(d), []);
  });

  it('TestSurgePreservesReadyOldPods: a ready old pod stays while the new one is not ready', () => {
    const s = surgeNode();
    s.given(podCreateFor(s.ds(), 'node-0', 'old', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new'));
    s.markPodsReady('foo', (p) => p.name === 'old');
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });

  it('TestSurgeDeletesUnreadyOldPods: an unready old pod goes while the new one is not ready', () => {
    const s = surgeNode();
    s.given(podCreateFor(s.ds(), 'node-0', 'old', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new'));
    assert.deepEqual(deletedPods(s.whenReconcile('foo')), ['old']);
  });

  it('TestSurgePreservesOldReadyWithUnsatisfiedMinReady / TestSurgeDeletesOldReadyWithUnsatisfiedMinReady', () => {
    const s = surgeNode(15);
    s.given(podCreateFor(s.ds(), 'node-0', 'old', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'old-excess', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new'));
    s.markPodsReady();
    const readyAt = s.nowMs;
    // 10 s after the new pod went ready: not available yet (minReadySeconds 15).
    const early = s.whenReconcile('foo', { nowMs: readyAt + 10_000 });
    assert.deepEqual(deletedPods(early), ['old-excess']);
    // 20 s after: available, the old pod goes too.
    const late = s.whenReconcile('foo', { nowMs: readyAt + 20_000 });
    assert.deepEqual(deletedPods(late), ['old', 'old-excess']);
  });

  it('the old pod is kept while Ready even if it is not yet available (podsShouldBeOnNode checks IsPodReady on it)', () => {
    const s = surgeNode(30);
    s.given(podCreateFor(s.ds(), 'node-0', 'old', { hash: oldHash, templateGeneration: 0 }));
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'new'));
    s.markPodsReady('foo', (p) => p.name === 'old'); // ready just now: not available for 30 s
    assert.deepEqual(s.whenReconcile('foo', { nowMs: s.nowMs + 1000 }).commands, []);
  });

  it('surge: a failed pod is deleted and replaced in the same sync', () => {
    const s = surgeNode();
    s.step();
    const [pod] = s.podsOf();
    s.given(podFailed(pod!));
    const d = s.sync();
    assert.deepEqual(deletedPods(d), [pod!.name]);
    assert.deepEqual(createdNodes(d), ['node-0']);
    assert.deepEqual(s.whenReconcile('foo').commands, [], 'the terminating failed pod is invisible, the new one counts');
  });

  it('surge: a node whose only pod is terminating gets a new pod at once (no surge: it waits)', () => {
    for (const surge of [true, false]) {
      const s = surge ? surgeNode() : new Scenario().given(addNodes(0, 1), dsApplied('foo'));
      s.step();
      const [p] = s.podsOf();
      s.given(podDeleteFor(p!));
      assert.deepEqual(createdNodes(s.whenReconcile('foo')), surge ? ['node-0'] : [], `surge ${surge}`);
    }
  });

  it('no surge: pods that reach Running after a PodReady are Ready (PodReady before PodStarted)', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    const d = s.sync();
    const c = createsOf(d)[0]!;
    s.given(podReady({ namespace: 'default', name: c.data.pod.name, uid: c.data.pod.uid, node: 'node-0' }));
    assert.equal(s.pod(c.data.pod.name).phase, 'Running');
    assert.equal(s.sync().status?.numberReady, 1);
    s.given(podDeleted(s.pod(c.data.pod.name)));
  });
});
