// evolve(state, envelope): each event type's effect on the read model (table-driven), the
// idempotence of folds a retry could duplicate, revisions as Kubernetes' constructHistory numbers
// them, and status folding.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { LogEvent } from '../../libs/events/types.js';
import { CHANGE_CAUSE_ANNOTATION } from '../../libs/core/evolve.js';
import { templateHash } from '../../libs/core/template-hash.js';
import { dsSlot } from '../../libs/topology/slot.js';
import type { State } from '../../libs/core/state.js';
import {
  SLOTS,
  START_MS,
  Scenario,
  addNodes,
  commandRejected,
  dsApplied,
  dsDeleted,
  dsTemplate,
  nodeDeregistered,
  nodeLabelsSet,
  nodeNotReady,
  nodeReady,
  nodeRegistered,
  podCreateFor,
  podDeleteFor,
  podDeleted,
  podFailed,
  podNotReady,
  podReady,
  podStarted,
  podSucceeded,
  replay,
  shardAcquired,
  statusUpdated,
  taintsSet,
  unschedulableSet,
} from '../support/scenario.js';

/** One DaemonSet `foo` on node-0/node-1 with one pod `p0` on node-0, created at START_MS. */
function base(): Scenario {
  const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
  s.given(podCreateFor(s.ds(), 'node-0', 'p0'));
  return s;
}

const P0 = { namespace: 'default', name: 'p0', uid: 'uid-p0', node: 'node-0' };

interface Row {
  readonly name: string;
  /** Events folded (1 s after base()) — the last is the one under test. */
  readonly when: (s: Scenario) => LogEvent[];
  readonly then: (state: State, s: Scenario) => void;
}

const T1 = START_MS + 1000;

const rows: Row[] = [
  {
    name: 'DaemonSetApplied (new) records the DaemonSet with revision 1',
    when: () => [dsApplied('bar', { generation: 1, labels: { team: 'a' }, annotations: { [CHANGE_CAUSE_ANNOTATION]: 'initial' } })],
    then: (st) => {
      const ds = st.daemonSets.get('default/bar')!;
      const hash = templateHash(dsTemplate());
      assert.equal(ds.uid, 'uid-bar');
      assert.equal(ds.slot, dsSlot('default', 'bar', SLOTS));
      assert.equal(ds.generation, 1);
      assert.equal(ds.templateGeneration, 1);
      assert.equal(ds.currentHash, hash);
      assert.deepEqual(ds.labels, { team: 'a' });
      assert.equal(ds.createdMs, T1);
      assert.deepEqual(ds.revisions, [{ revision: 1, hash, template: dsTemplate(), changeCause: 'initial', appliedMs: T1, seq: st.seq }]);
      assert.equal(ds.lastSpecSeq, st.seq);
      assert.deepEqual([...ds.createsByNode], []);
    },
  },
  {
    name: 'DaemonSetDeleted background marks the DaemonSet; its pods stay until deleted',
    when: () => [dsDeleted('foo', 'background')],
    then: (st) => {
      assert.deepEqual(st.daemonSets.get('default/foo')!.deletion, { propagation: 'background', requestedMs: T1 });
      assert.ok(st.pods.has('default/p0'));
    },
  },
  {
    name: 'DaemonSetDeleted orphan removes the DaemonSet and clears the owners',
    when: () => [dsDeleted('foo', 'orphan')],
    then: (st) => {
      assert.equal(st.daemonSets.size, 0);
      assert.equal(st.pods.get('default/p0')!.owner, undefined);
      assert.equal(st.podsByOwner.size, 0);
    },
  },
  {
    name: 'NodeRegistered (new node) is Ready with the agent labels',
    when: () => [nodeRegistered('node-9', { zone: 'a' }, 'inc-9')],
    then: (st) => {
      const n = st.nodes.get('node-9')!;
      assert.equal(n.incarnation, 'inc-9');
      assert.deepEqual(n.labels, { zone: 'a' });
      assert.equal(n.ready, 'True');
      assert.equal(n.registeredMs, T1);
      assert.equal(n.readyTransitionMs, T1);
      assert.deepEqual(n.capacity, { pods: '110' });
    },
  },
  {
    name: 'NodeRegistered (same incarnation) keeps pods and registration time',
    when: () => [nodeRegistered('node-0', { zone: 'b' })],
    then: (st) => {
      assert.ok(st.pods.has('default/p0'));
      assert.equal(st.nodes.get('node-0')!.registeredMs, START_MS);
      assert.deepEqual(st.nodes.get('node-0')!.labels, { zone: 'b' });
    },
  },
  {
    name: 'NodeRegistered (new incarnation) drops the pods of the earlier one',
    when: () => [nodeRegistered('node-0', {}, 'inc-new')],
    then: (st) => {
      assert.equal(st.pods.size, 0);
      assert.equal(st.podsByOwner.size, 0);
      assert.equal(st.nodes.get('node-0')!.incarnation, 'inc-new');
    },
  },
  {
    name: 'NodeLabelsSet: admin labels overlay the agent labels',
    when: () => [nodeLabelsSet('node-0', { zone: 'x', role: 'edge' }, 'admin')],
    then: (st) => assert.deepEqual(st.nodes.get('node-0')!.labels, { zone: 'x', role: 'edge' }),
  },
  {
    name: 'NodeTaintsSet: each source owns its taints; the other source is kept',
    when: () => [
      taintsSet('node-0', [{ key: 'a', effect: 'NoSchedule' }], 'agent'),
      taintsSet('node-0', [{ key: 'b', effect: 'NoSchedule' }], 'admin'),
    ],
    then: (st) =>
      assert.deepEqual(st.nodes.get('node-0')!.taints, {
        agent: [{ key: 'a', effect: 'NoSchedule' }],
        admin: [{ key: 'b', effect: 'NoSchedule' }],
      }),
  },
  {
    name: 'NodeUnschedulableSet',
    when: () => [unschedulableSet('node-1', true)],
    then: (st) => assert.equal(st.nodes.get('node-1')!.unschedulable, true),
  },
  {
    name: 'NodeDeregistered drops the node and its pods',
    when: () => [nodeDeregistered('node-0')],
    then: (st) => {
      assert.equal(st.nodes.has('node-0'), false);
      assert.equal(st.pods.size, 0);
      assert.equal(st.podsByOwner.size, 0);
    },
  },
  {
    name: 'NodeNotReady sets the condition and its transition time',
    when: () => [nodeNotReady('node-0', 'Unknown', 'NodeStatusUnknown')],
    then: (st) => {
      const n = st.nodes.get('node-0')!;
      assert.equal(n.ready, 'Unknown');
      assert.equal(n.readyReason, 'NodeStatusUnknown');
      assert.equal(n.readyTransitionMs, T1);
    },
  },
  {
    name: 'NodeReady after NotReady',
    when: () => [nodeNotReady('node-0'), nodeReady('node-0')],
    then: (st) => {
      assert.equal(st.nodes.get('node-0')!.ready, 'True');
      assert.equal(st.nodes.get('node-0')!.readyReason, 'HeartbeatsResumed');
    },
  },
  {
    name: 'PodCreate adds a Pending pod owned by the DaemonSet and counts the attempt',
    when: (s) => [podCreateFor(s.ds(), 'node-1', 'p1')],
    then: (st) => {
      const p = st.pods.get('default/p1')!;
      assert.equal(p.phase, 'Pending');
      assert.equal(p.ready, false);
      assert.equal(p.node, 'node-1');
      assert.deepEqual(p.owner, { name: 'foo', uid: 'uid-foo' });
      assert.equal(p.createdMs, T1);
      assert.equal(p.createSeq, st.seq);
      assert.deepEqual([...st.podsByOwner.get('uid-foo')!.get('node-1')!], ['default/p1']);
      assert.deepEqual([...st.daemonSets.get('default/foo')!.createsByNode], [['node-0', 1], ['node-1', 1]]);
    },
  },
  {
    name: 'PodCreate for an unknown node makes no pod',
    when: (s) => [podCreateFor(s.ds(), 'node-404', 'p404')],
    then: (st) => assert.equal(st.pods.has('default/p404'), false),
  },
  {
    name: 'PodDelete marks the pod terminating',
    when: () => [podDeleteFor(P0, 'RollingUpdate')],
    then: (st) => {
      assert.equal(st.pods.get('default/p0')!.deletionMs, T1);
      assert.equal(st.pods.get('default/p0')!.lastReason, 'RollingUpdate');
    },
  },
  {
    name: 'PodDelete for another uid is ignored',
    when: () => [podDeleteFor({ ...P0, uid: 'other' }, 'x')],
    then: (st) => assert.equal(st.pods.get('default/p0')!.deletionMs, undefined),
  },
  {
    name: 'PodStarted makes the pod Running',
    when: () => [podStarted(P0, 2)],
    then: (st) => {
      const p = st.pods.get('default/p0')!;
      assert.equal(p.phase, 'Running');
      assert.equal(p.startedMs, T1);
      assert.equal(p.restartCount, 2);
    },
  },
  {
    name: 'PodReady sets ready and its transition time',
    when: () => [podStarted(P0), podReady(P0)],
    then: (st) => {
      const p = st.pods.get('default/p0')!;
      assert.equal(p.ready, true);
      assert.equal(p.readyTransitionMs, T1);
    },
  },
  {
    name: 'PodNotReady clears ready',
    when: () => [podStarted(P0), podReady(P0), podNotReady(P0, 'probe')],
    then: (st) => {
      const p = st.pods.get('default/p0')!;
      assert.equal(p.ready, false);
      assert.equal(p.lastReason, 'probe');
      assert.equal(p.phase, 'Running');
    },
  },
  {
    name: 'PodFailed: phase Failed, not ready',
    when: () => [podStarted(P0), podReady(P0), podFailed(P0, 'OOMKilled')],
    then: (st) => {
      const p = st.pods.get('default/p0')!;
      assert.equal(p.phase, 'Failed');
      assert.equal(p.ready, false);
      assert.equal(p.lastReason, 'OOMKilled');
    },
  },
  {
    name: 'PodStarted after PodFailed keeps Failed (terminal)',
    when: () => [podFailed(P0), podStarted(P0)],
    then: (st) => assert.equal(st.pods.get('default/p0')!.phase, 'Failed'),
  },
  {
    name: 'PodSucceeded',
    when: () => [podStarted(P0), podSucceeded(P0)],
    then: (st) => assert.equal(st.pods.get('default/p0')!.phase, 'Succeeded'),
  },
  {
    name: 'a report from another node is ignored',
    when: () => [podStarted({ ...P0, node: 'node-1' })],
    then: (st) => assert.equal(st.pods.get('default/p0')!.phase, 'Pending'),
  },
  {
    name: 'PodDeleted removes the pod and its index entry',
    when: () => [podDeleted(P0)],
    then: (st) => {
      assert.equal(st.pods.size, 0);
      assert.equal(st.podsByOwner.has('uid-foo'), false);
    },
  },
  {
    name: 'PodDeleted for another uid is ignored',
    when: () => [podDeleted({ ...P0, uid: 'other' })],
    then: (st) => assert.ok(st.pods.has('default/p0')),
  },
  {
    name: 'CommandRejected (create) removes the pod',
    when: (s) => [commandRejected(podCreateFor(s.ds(), 'node-0', 'p0'), 'StaleEpoch')],
    then: (st) => assert.equal(st.pods.size, 0),
  },
  {
    name: 'DaemonSetStatusUpdated records the status',
    when: (s) =>
      [statusUpdated(s.ds(), {
        desiredNumberScheduled: 2,
        currentNumberScheduled: 1,
        numberReady: 0,
        numberAvailable: 0,
        numberUnavailable: 2,
        updatedNumberScheduled: 1,
        numberMisscheduled: 0,
        observedGeneration: 1,
      })],
    then: (st) => assert.equal(st.daemonSets.get('default/foo')!.status?.currentNumberScheduled, 1),
  },
  {
    name: 'DaemonSetStatusUpdated for another uid is ignored',
    when: (s) => [{ ...statusUpdated(s.ds(), { desiredNumberScheduled: 9, currentNumberScheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 9, updatedNumberScheduled: 0, numberMisscheduled: 0, observedGeneration: 1 }), data: { ...statusUpdated(s.ds(), { desiredNumberScheduled: 9, currentNumberScheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 9, updatedNumberScheduled: 0, numberMisscheduled: 0, observedGeneration: 1 }).data, uid: 'other' } }],
    then: (st) => assert.equal(st.daemonSets.get('default/foo')!.status, undefined),
  },
  {
    name: 'ShardAcquired records owner and epoch',
    when: () => [shardAcquired(7, 4, 'ctl-b')],
    then: (st) => assert.deepEqual(st.shards.get(7), { slot: 7, owner: 'ctl-b', epoch: 4, sinceMs: T1 }),
  },
];

describe('evolve: each event type', () => {
  for (const r of rows) {
    it(r.name, () => {
      const s = base();
      s.advance(1000);
      s.given(r.when(s));
      r.then(s.state, s);
      assert.equal(s.state.seq, s.log.length, 'seq is the last envelope folded');
      assert.equal(s.state.lastTimeMs, T1);
    });
  }
});

describe('evolve: idempotence', () => {
  /** The state without its stream position: what a duplicate must not change. */
  /** The state without its positions in the log (a duplicate is a new position, with nothing new in it). */
  function content(st: State): Omit<State, 'seq' | 'lastTimeMs' | 'global' | 'slotParts' | 'globalThrough'> {
    const { seq: _seq, lastTimeMs: _t, global: _g, slotParts: _p, globalThrough: _k, ...rest } = st;
    return rest;
  }

  it('re-folding a duplicate PodCreate changes nothing (pods, index, attempt counts)', () => {
    const once = base();
    const twice = base();
    twice.given(podCreateFor(twice.ds(), 'node-0', 'p0'));
    assert.deepStrictEqual(content(twice.state), content(once.state));
  });

  it('duplicate reports (PodStarted, PodReady, PodDelete, PodDeleted) fold to the same state', () => {
    const a = base();
    const b = base();
    const del = podDeleteFor(P0, 'x');
    a.given(podStarted(P0), podReady(P0)).advance(1000).given(del);
    b.given(podStarted(P0), podReady(P0), podStarted(P0)).advance(500).given(podReady(P0)).advance(500).given(del, del);
    assert.deepStrictEqual(content(b.state), content(a.state));
    a.given(podDeleted(P0));
    b.given(podDeleted(P0), podDeleted(P0));
    assert.deepStrictEqual(content(b.state), content(a.state));
  });

  it('folding the same log twice gives deep-equal states', () => {
    const s = base();
    s.given(podStarted(P0), podReady(P0), taintsSet('node-1', [{ key: 'k', effect: 'NoExecute' }]), shardAcquired(1, 2));
    s.update('foo', { image: 'v2' });
    assert.deepStrictEqual(replay(s.log), replay(s.log));
    assert.deepStrictEqual(replay(s.log), s.state);
  });
});

describe('evolve: revisions (constructHistory)', () => {
  it('a new template is revision max+1 and templateGeneration+1; generation comes from the event', () => {
    const s = new Scenario().given(dsApplied('foo', { generation: 1 }));
    const v1 = s.ds().currentHash;
    s.advance(1000).given(dsApplied('foo', { generation: 2, image: 'v2', annotations: { [CHANGE_CAUSE_ANNOTATION]: 'set image v2' } }));
    const ds = s.ds();
    assert.equal(ds.generation, 2);
    assert.equal(ds.templateGeneration, 2);
    assert.equal(ds.currentHash, templateHash(dsTemplate({ image: 'v2' })));
    assert.notEqual(ds.currentHash, v1);
    assert.deepEqual(
      ds.revisions.map((r) => [r.revision, r.hash, r.changeCause, r.appliedMs]),
      [
        [1, v1, undefined, START_MS],
        [2, ds.currentHash, 'set image v2', START_MS + 1000],
      ],
    );
  });

  it('re-applying an older template reuses its hash and renumbers it to max+1, keeping its change-cause', () => {
    const s = new Scenario().given(dsApplied('foo', { generation: 1, annotations: { [CHANGE_CAUSE_ANNOTATION]: 'first' } }));
    const v1 = s.ds().currentHash;
    s.advance(1000).given(dsApplied('foo', { generation: 2, image: 'v2' }));
    const v2 = s.ds().currentHash;
    s.advance(1000).given(dsApplied('foo', { generation: 3, annotations: { [CHANGE_CAUSE_ANNOTATION]: 'undo' } }));
    const ds = s.ds();
    assert.equal(ds.currentHash, v1);
    assert.equal(ds.templateGeneration, 3);
    assert.equal(ds.generation, 3);
    assert.deepEqual(
      ds.revisions.map((r) => [r.revision, r.hash, r.changeCause ?? null]),
      [
        [2, v2, null],
        // A ControllerRevision's annotations are the DaemonSet's at the revision's creation;
        // renumbering it (rollout undo) changes only its number.
        [3, v1, 'first'],
      ],
    );
    assert.equal(ds.revisions[1]!.appliedMs, START_MS + 2000);
  });

  it('a metadata-only change keeps the template generation and revisions, takes the event generation', () => {
    const s = new Scenario().given(dsApplied('foo', { generation: 1 }));
    const before = s.ds().revisions;
    s.advance(1000).given(dsApplied('foo', { generation: 1, labels: { team: 'b' }, annotations: { note: 'x' } }));
    const ds = s.ds();
    assert.equal(ds.generation, 1);
    assert.equal(ds.templateGeneration, 1);
    assert.deepEqual(ds.labels, { team: 'b' });
    assert.deepEqual(ds.annotations, { note: 'x' });
    assert.deepEqual(ds.revisions, before);
  });

  it('a spec change outside the template: generation from the event, same revision', () => {
    const s = new Scenario().given(dsApplied('foo', { generation: 1 }));
    s.given(dsApplied('foo', { generation: 2, minReadySeconds: 30 }));
    const ds = s.ds();
    assert.equal(ds.generation, 2);
    assert.equal(ds.templateGeneration, 1);
    assert.equal(ds.spec.minReadySeconds, 30);
    assert.equal(ds.revisions.length, 1);
  });

  it('a DaemonSet re-created under the same name with a new uid starts over', () => {
    const s = new Scenario().given(dsApplied('foo', { generation: 1 }), dsApplied('foo', { generation: 2, image: 'v2' }));
    s.given(dsApplied('foo', { uid: 'uid-2', generation: 1, image: 'v3' }));
    const ds = s.ds();
    assert.equal(ds.uid, 'uid-2');
    assert.equal(ds.templateGeneration, 1);
    assert.deepEqual(ds.revisions.map((r) => r.revision), [1]);
  });
});
