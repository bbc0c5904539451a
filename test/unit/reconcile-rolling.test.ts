// Ports of Kubernetes' pkg/controller/daemon/update_test.go (rollingUpdate), plus invariants of
// whole simulated rollouts, over the real evolve + reconcile.
//
// One upstream "sync" runs manage and then, because the fake pod control reports every create
// and delete back at once, rollingUpdate in the same call. Here a pass whose commands come from
// manage ends there (as Kubernetes does in production, see reference §0); `upstreamSync` folds that
// pass, lets the agents act, and reconciles once more when manage acted, so the totals per
// upstream sync compare one to one.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { Decision } from '../../libs/core/reconcile.js';
import { reconcile, rollingBudget, scaledValue } from '../../libs/core/reconcile.js';
import type { IntOrString } from '../../libs/model/types.js';
import type { PodRecord, State } from '../../libs/core/state.js';
import { verdictFor } from '../../libs/core/daemon-view.js';
import { fromSnapshot, toSnapshot } from '../../libs/core/snapshot.js';
import {
  Scenario,
  START_MS,
  addNodes,
  createdNodes,
  createsOf,
  deletedPods,
  deletesOf,
  dsApplied,
  expectedDeleteId,
  nodeDeregistered,
  nodeNotReady,
  nodeReady,
  nodeRegistered,
  podCreateFor,
  podDeleted,
  podNotReady,
  podReady,
  podRefOf,
  podStarted,
  prng,
  replay,
} from '../support/scenario.js';

const sec = (n: number): number => START_MS + n * 1000;

interface SyncResult {
  readonly creates: string[];
  readonly deletes: string[];
  readonly decisions: Decision[];
}

/**
 * One upstream sync at `nowMs`: reconcile, fold, agents act (deletes confirmed, creates started but
 * not Ready: the fake pod control's pods are not ready), and a second pass if the first was manage's.
 */
function upstreamSync(s: Scenario, nowMs = s.nowMs): SyncResult {
  s.at(nowMs);
  const decisions: Decision[] = [];
  let d = s.sync();
  decisions.push(d);
  s.runAgents(d.commands, { ready: false });
  if (d.phase === 'manage') {
    d = s.sync();
    assert.notEqual(d.phase, 'manage', 'manage is settled after its own commands are seen');
    decisions.push(d);
    s.runAgents(d.commands, { ready: false });
  }
  return {
    creates: decisions.flatMap(createdNodes).sort(),
    deletes: decisions.flatMap(deletedPods).sort(),
    decisions,
  };
}

function expectSync(s: Scenario, creates: number, deletes: number, nowMs = s.nowMs): SyncResult {
  const r = upstreamSync(s, nowMs);
  assert.equal(r.creates.length, creates, `creates: ${r.creates.join(',')}`);
  assert.equal(r.deletes.length, deletes, `deletes: ${r.deletes.join(',')}`);
  return r;
}

/** Pod names of `nodes`' pods (any hash), sorted: what a delete of those nodes' old pods names. */
function podNamesOn(s: Scenario, ...nodes: string[]): string[] {
  return nodes.flatMap((n) => s.podsOn(n).map((p) => p.name)).sort();
}

function newFoo(n = 5, o: Parameters<typeof dsApplied>[1] = {}): Scenario {
  const s = new Scenario().given(addNodes(0, n), dsApplied('foo', o));
  return s;
}

describe('rollingUpdate (update_test.go)', () => {
  it('TestDaemonSetUpdatesPods: maxUnavailable 2 over 5 nodes, in node-name order', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.markPodsReady();
    s.update('foo', { image: 'foo2/bar2', maxUnavailable: 2 });

    const waves = [['node-0', 'node-1'], ['node-2', 'node-3'], ['node-4']];
    for (const wave of waves) {
      const olds = podNamesOn(s, ...wave);
      const del = expectSync(s, 0, wave.length);
      assert.deepEqual(del.deletes, olds);
      assert.equal(del.decisions[0]!.phase, 'rollingUpdate');
      for (const c of deletesOf(del.decisions[0]!)) {
        assert.equal(c.data.reason, 'RollingUpdate');
        assert.equal(c.data.id, expectedDeleteId({ uid: c.data.podUid }));
      }
      const add = expectSync(s, wave.length, 0);
      assert.deepEqual(add.creates, wave);
      for (const c of createsOf(add.decisions[0]!)) assert.equal(c.data.pod.hash, s.ds().currentHash);
      s.markPodsReady();
    }
    expectSync(s, 0, 0);
    for (const p of s.podsOf()) assert.equal(p.hash, s.ds().currentHash);
  });

  it('TestDaemonSetUpdatesPodsWithMaxSurge', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.markPodsReady();
    const maxSurge = 2;
    s.update('foo', { image: 'foo2/bar2', maxSurge });

    assert.deepEqual(expectSync(s, maxSurge, 0).creates, ['node-0', 'node-1']);
    expectSync(s, 0, 0);
    s.markPodsReady();

    const oldOn01 = s.podsOf().filter((p) => ['node-0', 'node-1'].includes(p.node) && p.hash !== s.ds().currentHash).map((p) => p.name);
    const r = expectSync(s, maxSurge, maxSurge);
    assert.deepEqual(r.deletes, oldOn01.sort());
    assert.deepEqual(r.creates, ['node-2', 'node-3']);
    assert.equal(deletesOf(r.decisions[0]!)[0]!.data.reason, 'SurgeReplaced');
    expectSync(s, 0, 0);
    s.markPodsReady();

    assert.deepEqual(expectSync(s, 5 % maxSurge, maxSurge).creates, ['node-4']);
    expectSync(s, 0, 0);
    s.markPodsReady();

    expectSync(s, 0, 5 % maxSurge);
    expectSync(s, 0, 0);
    assert.deepEqual(s.podCounts(), { 'node-0': 1, 'node-1': 1, 'node-2': 1, 'node-3': 1, 'node-4': 1 });
  });

  it('TestDaemonSetUpdatesWhenNewPosIsNotReady', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.markPodsReady();
    s.update('foo', { image: 'foo2/bar2', maxUnavailable: 3 });
    expectSync(s, 0, 3);
    assert.deepEqual(expectSync(s, 3, 0).creates, ['node-0', 'node-1', 'node-2']);
    // new pods are not ready: numUnavailable == maxUnavailable
    expectSync(s, 0, 0);
  });

  it('TestDaemonSetUpdatesAllOldPodsNotReady: unavailable old pods are replaced outside the budget', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.update('foo', { image: 'foo2/bar2', maxUnavailable: 3 });
    expectSync(s, 0, 5);
    expectSync(s, 5, 0);
    expectSync(s, 0, 0);
  });

  it('TestDaemonSetUpdatesAllOldPodsNotReadyMaxSurge', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.update('foo', { image: 'foo2/bar2', maxSurge: 3 });

    // all old pods are unavailable so should be surged
    expectSync(s, 5, 0, sec(100));
    // waiting for pods to go ready, old pods are deleted
    expectSync(s, 0, 5, sec(200));

    s.markPodsReady(); // at 200
    s.update('foo', { image: 'foo3/bar3', maxSurge: 3, minReadySeconds: 15 });
    const surged = expectSync(s, 3, 0, sec(300));
    assert.deepEqual(surged.creates, ['node-0', 'node-1', 'node-2']);

    const hash = s.ds().currentHash;
    // mark two updated pods as ready at time 300
    s.markPodsReady('foo', (p) => p.hash === hash && ['node-0', 'node-1'].includes(p.node));
    // mark one of the old pods on a node without an updated pod as unready
    const oldOn3 = s.podsOn('node-3')[0]!;
    s.given(podNotReady(oldOn3));

    // the new pods still wait for minReadySeconds: only node-3's unready old pod gets a replacement
    assert.deepEqual(expectSync(s, 1, 0, sec(310)).creates, ['node-3']);

    // the new pods on node-0/1 are available: their old pods go; node-3's unready old pod goes
    const oldOn = (n: string): string[] => s.podsOn(n).filter((p) => p.hash !== hash).map((p) => p.name);
    const goners = [...oldOn('node-0'), ...oldOn('node-1'), oldOn3.name].sort();
    const r = expectSync(s, 1, 3, sec(320));
    assert.deepEqual(r.creates, ['node-4']);
    assert.deepEqual(r.deletes, goners);

    s.markPodsReady('foo', (p) => p.hash === hash); // at 320
    expectSync(s, 0, 2, sec(340));
    expectSync(s, 0, 0, sec(350));
    for (const p of s.podsOf()) assert.equal(p.hash, hash);
  });

  it('TestDaemonSetUpdatesNoTemplateChanged', () => {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.update('foo', { maxUnavailable: 3 });
    assert.equal(s.ds().templateGeneration, 1);
    expectSync(s, 0, 0);
  });
});

describe('the budget counts the nodes the rollout took down, whatever their readiness (issue 19)', () => {
  // After a bus outage every node can be judged NotReady at once. A NotReady node gets the
  // unreachable NoSchedule taint, so a node whose old pod the rollout deleted has no pod and may not
  // get a new one: Kubernetes' rollingUpdate no longer lists it, and would take down the next node.
  function rolledOffAndNotReady(): Scenario {
    const s = newFoo();
    expectSync(s, 5, 0);
    s.markPodsReady();
    s.update('foo', { image: 'foo2/bar2', maxUnavailable: 1 });
    const old0 = podNamesOn(s, 'node-0');
    assert.deepEqual(expectSync(s, 0, 1).deletes, old0);
    assert.deepEqual([...s.ds().rolledOff.keys()], ['node-0']);
    for (const n of ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']) s.given(nodeNotReady(n, 'Unknown'));
    return s;
  }

  it('no second old pod is deleted while the node it emptied is NotReady', () => {
    const s = rolledOffAndNotReady();
    for (let i = 0; i < 3; i++) {
      const r = upstreamSync(s, s.nowMs + 1000 * (i + 1));
      assert.deepEqual(r.deletes, [], `pass ${i}: ${r.deletes.join(',')}`);
      assert.deepEqual(r.creates, []);
    }
  });

  it('the node counts again once it is Ready: it gets its new pod, then the rollout moves on', () => {
    const s = rolledOffAndNotReady();
    for (const n of ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']) s.given(nodeReady(n));
    assert.deepEqual(expectSync(s, 1, 0).creates, ['node-0']);
    assert.deepEqual([...s.ds().rolledOff.keys()], [], 'the create settles what the rollout owed node-0');
    expectSync(s, 0, 0); // the new pod is not available yet
    s.markPodsReady();
    const old1 = podNamesOn(s, 'node-1');
    assert.deepEqual(expectSync(s, 0, 1).deletes, old1);
  });

  it('a node that leaves owes the rollout nothing', () => {
    const s = rolledOffAndNotReady();
    s.given(nodeDeregistered('node-0'));
    assert.deepEqual([...s.ds().rolledOff.keys()], []);
    const old1 = podNamesOn(s, 'node-1');
    assert.deepEqual(expectSync(s, 0, 1).deletes, old1);
  });

  it('is folded the same from the log (replay) and kept in snapshots', () => {
    const s = rolledOffAndNotReady();
    assert.deepStrictEqual(replay(s.log), s.state);
    const loaded = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(s.state, { slots: 64, streamCreated: 'x' }))));
    assert.ok(loaded.ok);
    assert.deepEqual([...loaded.state.daemonSets.get('default/foo')!.rolledOff], [...s.ds().rolledOff]);
  });
});

describe('TestGetUnavailableNumbers: maxSurge / maxUnavailable scaled to desired', () => {
  const cases: { name: string; mu: IntOrString; ms: IntOrString; desired: number; maxSurge: number; maxUnavailable: number }[] = [
    { name: 'No nodes', mu: 0, ms: 0, desired: 0, maxSurge: 0, maxUnavailable: 0 },
    { name: 'Two nodes with ready pods', mu: 1, ms: 0, desired: 2, maxSurge: 0, maxUnavailable: 1 },
    { name: 'Two nodes, one node without pods', mu: 0, ms: 0, desired: 2, maxSurge: 0, maxUnavailable: 1 },
    { name: 'Two nodes, one node without pods, surge', mu: 0, ms: 0, desired: 2, maxSurge: 0, maxUnavailable: 1 },
    { name: 'Two nodes with pods, MaxUnavailable in percents', mu: '50%', ms: 0, desired: 2, maxSurge: 0, maxUnavailable: 1 },
    { name: 'Two nodes with pods, MaxUnavailable in percents, surge', mu: 0, ms: '50%', desired: 2, maxSurge: 1, maxUnavailable: 0 },
    { name: 'Two nodes with pods, MaxUnavailable is 100%, surge', mu: 0, ms: '100%', desired: 2, maxSurge: 2, maxUnavailable: 0 },
    { name: 'Two nodes with pods, MaxUnavailable in percents, pod terminating', mu: '50%', ms: 0, desired: 3, maxSurge: 0, maxUnavailable: 2 },
    { name: '30% of 10', mu: '30%', ms: 0, desired: 10, maxSurge: 0, maxUnavailable: 3 },
    { name: '33% of 10 rounds up', mu: '33%', ms: 0, desired: 10, maxSurge: 0, maxUnavailable: 4 },
    { name: '1% of 10 rounds up to 1', mu: '1%', ms: 0, desired: 10, maxSurge: 0, maxUnavailable: 1 },
    { name: 'surge 20% of 10', mu: 0, ms: '20%', desired: 10, maxSurge: 2, maxUnavailable: 0 },
    { name: 'surge 1% of 250 rounds up', mu: 0, ms: '1%', desired: 250, maxSurge: 3, maxUnavailable: 0 },
    { name: 'int larger than desired stays', mu: 7, ms: 0, desired: 3, maxSurge: 0, maxUnavailable: 7 },
    { name: '0% of 5 with no surge becomes 1', mu: '0%', ms: '0%', desired: 5, maxSurge: 0, maxUnavailable: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(rollingBudget({ maxUnavailable: c.mu, maxSurge: c.ms }, c.desired), {
        maxSurge: c.maxSurge,
        maxUnavailable: c.maxUnavailable,
      });
    });
  }

  it('scaledValue: ints as they are, "p%" is ceil(desired·p/100), missing is 0', () => {
    const table: [IntOrString | undefined, number, number][] = [
      [undefined, 10, 0],
      [0, 10, 0],
      [3, 10, 3],
      ['0%', 10, 0],
      ['10%', 10, 1],
      ['15%', 10, 2],
      ['50%', 3, 2],
      ['100%', 7, 7],
      ['25%', 0, 0],
      ['3', 10, 3],
    ];
    for (const [value, desired, want] of table) assert.equal(scaledValue(value, desired), want, `${String(value)} of ${desired}`);
  });
});

describe('minReadySeconds', () => {
  it('a new pod counts as available only strictly after minReadySeconds; wakeAtMs says when', () => {
    const s = newFoo(2, { minReadySeconds: 10 });
    expectSync(s, 2, 0);
    s.markPodsReady();
    s.advance(60_000);
    s.update('foo', { image: 'v2', minReadySeconds: 10 });
    const onNode0 = podNamesOn(s, 'node-0');
    assert.deepEqual(expectSync(s, 0, 1).deletes, onNode0);
    expectSync(s, 1, 0);
    s.advance(1000);
    s.markPodsReady();
    const readyAt = s.nowMs;

    const waiting = s.whenReconcile('foo', { nowMs: readyAt + 1 });
    assert.deepEqual(waiting.commands, []);
    assert.equal(waiting.wakeAtMs, readyAt + 10_000 + 1);
    assert.deepEqual(s.whenReconcile('foo', { nowMs: readyAt + 10_000 }).commands, [], 'exactly minReadySeconds: not yet');
    const onNode1 = podNamesOn(s, 'node-1');
    const moving = s.whenReconcile('foo', { nowMs: readyAt + 10_001 });
    assert.deepEqual(deletedPods(moving), onNode1);
    assert.equal(moving.wakeAtMs, undefined);
  });

  it('with surge, the wake-up covers a new pod that is not the oldest on its node', () => {
    const s = newFoo(1, { maxSurge: 1, minReadySeconds: 10 });
    expectSync(s, 1, 0);
    s.markPodsReady();
    s.advance(60_000);
    s.update('foo', { image: 'v2', maxSurge: 1, minReadySeconds: 10 });
    expectSync(s, 1, 0);
    s.advance(1000);
    s.markPodsReady();
    const readyAt = s.nowMs;
    const waiting = s.whenReconcile('foo', { nowMs: readyAt + 1 });
    assert.deepEqual(waiting.commands, []);
    assert.equal(waiting.wakeAtMs, readyAt + 10_001, 'Kubernetes requeues minReadySeconds after any pod goes Ready');
    const old = s.podsOn('node-0')[0]!;
    assert.deepEqual(deletedPods(s.whenReconcile('foo', { nowMs: readyAt + 10_001 })), [old.name]);
  });

  it('status: ready but not available until minReadySeconds have passed', () => {
    const s = newFoo(1, { minReadySeconds: 5 });
    expectSync(s, 1, 0);
    s.markPodsReady();
    const t = s.nowMs;
    const st = s.whenReconcile('foo', { nowMs: t + 5000 }).status!;
    assert.equal(st.numberReady, 1);
    assert.equal(st.numberAvailable, 0);
    assert.equal(st.numberUnavailable, 1);
    assert.equal(s.whenReconcile('foo', { nowMs: t + 5001 }).status!.numberAvailable, 1);
  });
});

describe('OnDelete', () => {
  it('never replaces pods; a pod that is deleted comes back with the new template', () => {
    const s = newFoo(3, { onDelete: true });
    expectSync(s, 3, 0);
    s.markPodsReady();
    const oldHash = s.ds().currentHash;
    s.update('foo', { image: 'v2', onDelete: true });
    const d = s.whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.status?.updatedNumberScheduled, 0);
    const victim = s.podsOn('node-1')[0]!;
    s.given(podDeleted(victim));
    const again = s.whenReconcile('foo');
    assert.deepEqual(createdNodes(again), ['node-1']);
    assert.equal(createsOf(again)[0]!.data.pod.hash, s.ds().currentHash);
    assert.notEqual(s.ds().currentHash, oldHash);
    s.apply(again);
    s.runAgents(again.commands);
    assert.equal(s.whenReconcile('foo').status?.updatedNumberScheduled, 1);
  });

  it('an unready old pod is not replaced either', () => {
    const s = newFoo(2, { onDelete: true });
    expectSync(s, 2, 0);
    s.update('foo', { image: 'v2', onDelete: true });
    assert.deepEqual(s.whenReconcile('foo').commands, []);
  });
});

describe('rollback reuses a revision', () => {
  it('pods still on the template applied again are not restarted', () => {
    const s = newFoo(3);
    s.converge();
    const v1 = s.ds().currentHash;
    s.update('foo', { image: 'v2', maxUnavailable: 1 });
    // one node moves to v2, then the user rolls back to v1
    s.step();
    s.step();
    s.update('foo', { image: 'foo/bar', maxUnavailable: 1 });
    assert.equal(s.ds().currentHash, v1);
    assert.deepEqual(s.ds().revisions.map((r) => r.revision), [2, 3]);
    const onV1 = s.podsOf().filter((p) => p.hash === v1).map((p) => p.name);
    assert.equal(onV1.length, 2);
    const passes = s.converge();
    const deleted = passes.flatMap(deletedPods);
    assert.deepEqual(deleted.filter((n) => onV1.includes(n)), [], 'v1 pods kept');
    assert.equal(deleted.length, 1, 'only the v2 pod is replaced');
    for (const p of s.podsOf()) assert.equal(p.hash, v1);
  });
});

// ---- invariants by simulation --------------------------------------------------------------------

interface SimOptions {
  readonly nodes: number;
  readonly maxUnavailable?: IntOrString;
  readonly maxSurge?: IntOrString;
  readonly minReadySeconds?: number;
  readonly seed: number;
  /** Chance that an agent finishes a pending action in a given step. */
  readonly speed: number;
  /** Apply another template in the middle of the rollout. */
  readonly secondUpdateAtStep?: number;
  /** Changes to the fleet at the start of a step (nodes joining, leaving, going NotReady). */
  readonly churn?: (step: number, s: Scenario) => void;
}

interface SimReport {
  readonly steps: number;
  readonly maxUnavailableSeen: number;
  readonly maxPodsOnANode: number;
  readonly maxSurgingSeen: number;
}

/**
 * A rollout with slow agents: each step the controller reconciles (its commands are folded back),
 * then each agent finishes each pending action with probability `speed` (start, then ready, or
 * confirm a delete), then a second passes. Invariants are checked after every fold, over the
 * nodes that should run the DaemonSet at that moment. With churn, the fleet itself can make
 * nodes unavailable (a node joins with no pod yet), so the bound is that the controller never
 * takes unavailability above max(budget, what it was before its pass).
 */
function simulateRollout(o: SimOptions): { s: Scenario; report: SimReport } {
  const rnd = prng(o.seed);
  const strategy = { maxUnavailable: o.maxUnavailable, maxSurge: o.maxSurge, minReadySeconds: o.minReadySeconds };
  const s = new Scenario().given(addNodes(0, o.nodes), dsApplied('foo', strategy));
  s.converge();
  s.advance(60_000);
  s.update('foo', { image: 'v2', ...strategy });
  const ds = (): ReturnType<Scenario['ds']> => s.ds();
  const desiredNodes = (): string[] => [...s.state.nodes.values()].filter((n) => verdictFor(ds(), n).shouldRun).map((n) => n.name);
  const budget = (): { maxUnavailable: number; maxSurge: number } => {
    const us = ds().spec.updateStrategy;
    assert.equal(us.type, 'RollingUpdate');
    return rollingBudget(us.type === 'RollingUpdate' ? us.rollingUpdate : {}, desiredNodes().length);
  };
  let maxUnavailableSeen = 0;
  let maxPodsOnANode = 0;
  let maxSurgingSeen = 0;
  const live = (n: string): PodRecord[] => s.podsOn(n).filter((p) => p.deletionMs === undefined);

  const measure = (): { unavailable: number; surging: number } => {
    let unavailable = 0;
    let surging = 0;
    for (const node of desiredNodes()) {
      if (!live(node).some((p) => s.isAvailable(p))) unavailable++;
      const fresh = live(node).filter((p) => p.hash === ds().currentHash);
      const stale = live(node).filter((p) => p.hash !== ds().currentHash);
      if (fresh.length && stale.length && !fresh.some((p) => s.isAvailable(p))) surging++;
    }
    return { unavailable, surging };
  };

  let baseline = { unavailable: 0, surging: 0 };
  const check = (where: string): void => {
    const { maxUnavailable, maxSurge } = budget();
    for (const node of s.state.nodes.keys()) {
      // Terminating pods are ignored by rollingUpdate: with surge, a node may briefly hold a
      // terminating pod beside two live ones (a second template replaces an unfinished surge).
      const all = maxSurge > 0 ? live(node) : s.podsOn(node);
      maxPodsOnANode = Math.max(maxPodsOnANode, all.length);
      assert.ok(all.length <= (maxSurge > 0 ? 2 : 1), `${where}: ${node} has ${all.length} pods`);
    }
    const { unavailable, surging } = measure();
    maxUnavailableSeen = Math.max(maxUnavailableSeen, unavailable);
    maxSurgingSeen = Math.max(maxSurgingSeen, surging);
    const slack = o.churn ? baseline : { unavailable: 0, surging: 0 };
    if (maxSurge === 0) {
      const limit = Math.max(maxUnavailable, slack.unavailable);
      assert.ok(unavailable <= limit, `${where}: ${unavailable} unavailable > ${limit}`);
    } else {
      assert.ok(unavailable <= slack.unavailable, `${where}: surge never takes a node down (${unavailable} unavailable)`);
      assert.ok(surging <= Math.max(maxSurge, slack.surging), `${where}: ${surging} surging > ${maxSurge}`);
    }
  };

  type Pending = { kind: 'start' | 'ready' | 'delete'; ref: { namespace: string; name: string; uid: string; node: string } };
  let pending: Pending[] = [];
  let step = 0;
  for (; step < 2000; step++) {
    if (o.secondUpdateAtStep === step) s.update('foo', { image: 'v3', ...strategy });
    o.churn?.(step, s);
    baseline = measure();
    const d = s.sync();
    check(`step ${step} after sync`);
    for (const c of d.commands) {
      if (c.type === 'PodCreate') pending.push({ kind: 'start', ref: podRefOf(c) });
      else pending.push({ kind: 'delete', ref: { namespace: c.data.namespace, name: c.data.podName, uid: c.data.podUid, node: c.data.node } });
    }
    const next: Pending[] = [];
    for (const p of pending) {
      if (rnd() >= o.speed) {
        next.push(p);
        continue;
      }
      if (!s.hasPod(p.ref)) continue;
      if (p.kind === 'start') {
        s.given(podStarted(p.ref));
        next.push({ kind: 'ready', ref: p.ref });
      } else if (p.kind === 'ready') s.given(podReady(p.ref));
      else s.given(podDeleted(p.ref));
      check(`step ${step} after ${p.kind} of ${p.ref.name}`);
    }
    pending = next;
    s.advance(1000);
    const done =
      !pending.length &&
      !d.commands.length &&
      s.podsOf().length === desiredNodes().length &&
      s.podsOf().every((p) => p.hash === ds().currentHash && s.isAvailable(p));
    if (done) break;
  }
  return { s, report: { steps: step, maxUnavailableSeen, maxPodsOnANode, maxSurgingSeen } };
}

describe('rollout invariants (simulated, 10 nodes, slow agents)', () => {
  const runs: (Omit<SimOptions, 'seed' | 'speed' | 'nodes'> & { label: string })[] = [
    { label: 'maxUnavailable 1', maxUnavailable: 1 },
    { label: 'maxUnavailable 3', maxUnavailable: 3 },
    { label: 'maxUnavailable 30%', maxUnavailable: '30%' },
    { label: 'maxUnavailable 3, minReadySeconds 5', maxUnavailable: 3, minReadySeconds: 5 },
    { label: 'maxUnavailable 2, a second template mid-rollout', maxUnavailable: 2, secondUpdateAtStep: 6 },
    { label: 'maxSurge 1', maxSurge: 1 },
    { label: 'maxSurge 20%', maxSurge: '20%' },
    { label: 'maxSurge 2, minReadySeconds 3', maxSurge: 2, minReadySeconds: 3 },
    { label: 'maxSurge 20%, a second template mid-rollout', maxSurge: '20%', secondUpdateAtStep: 5 },
  ];
  for (const r of runs) {
    for (const seed of [1, 2, 3]) {
      it(`${r.label} (seed ${seed})`, () => {
        const { s, report } = simulateRollout({ ...r, nodes: 10, seed, speed: 0.5 });
        const ds = s.ds();
        // Converged: every node on the new template, one pod each.
        assert.deepEqual(
          s.podsOf().map((p) => [p.node, p.hash]),
          [...s.state.nodes.keys()].sort().map((n) => [n, ds.currentHash]),
        );
        // The budget was used, not just respected.
        const budget = rollingBudget(ds.spec.updateStrategy.type === 'RollingUpdate' ? ds.spec.updateStrategy.rollingUpdate : {}, 10);
        if (budget.maxSurge === 0) assert.equal(report.maxUnavailableSeen, budget.maxUnavailable);
        else assert.equal(report.maxPodsOnANode, 2);
        // Idempotence: reconciling a converged DaemonSet again issues nothing and writes nothing new.
        s.sync();
        const again = s.whenReconcile('foo');
        assert.deepEqual(again.commands, []);
        assert.equal(again.status, undefined);
        assert.equal(again.phase, 'idle');
        // Replaying the log gives the same state, twice over.
        const a = replay(s.log);
        const b = replay(s.log);
        assert.deepStrictEqual(a, b);
        assert.deepStrictEqual(a, s.state);
        // ... and the same decision.
        assert.deepStrictEqual(reconcileOn(a, s.nowMs), again);
      });
    }
  }
});

describe('rollout invariants with fleet churn (nodes join, leave, go NotReady)', () => {
  const churn = (step: number, s: Scenario): void => {
    if (step === 2) s.given(nodeRegistered('node-12'));
    if (step === 4) s.given(nodeDeregistered('node-4'));
    if (step === 5) s.given(nodeNotReady('node-6', 'Unknown'));
    if (step === 9) s.given(nodeRegistered('node-13'), nodeRegistered('node-14'));
    if (step === 14) s.given(nodeReady('node-6'));
    if (step === 16) s.given(nodeRegistered('node-2', {}, 'inc-2b')); // node-2 comes back empty
  };
  const runs = [
    { label: 'maxUnavailable 2', maxUnavailable: 2 },
    { label: 'maxUnavailable 25%', maxUnavailable: '25%' },
    { label: 'maxSurge 2', maxSurge: 2 },
  ];
  for (const r of runs) {
    for (const seed of [7, 8]) {
      it(`${r.label} (seed ${seed})`, () => {
        const { s } = simulateRollout({ ...r, nodes: 12, seed, speed: 0.4, churn });
        const nodes = [...s.state.nodes.keys()].sort();
        assert.deepEqual(nodes.includes('node-4'), false);
        assert.deepEqual(
          s.podsOf().map((p) => [p.node, p.hash]),
          nodes.map((n) => [n, s.ds().currentHash]),
        );
        s.sync();
        assert.deepEqual(s.whenReconcile('foo').commands, []);
        assert.deepStrictEqual(replay(s.log), s.state);
      });
    }
  }
});

function reconcileOn(state: State, nowMs: number): Decision {
  return reconcile(state, 'default/foo', { nowMs, epoch: 1 });
}

describe('manage before rollingUpdate', () => {
  it('an excess pod is pruned by manage; rollingUpdate waits for the next pass', () => {
    const s = newFoo(3);
    s.converge();
    s.advance(1000).given(podCreateFor(s.ds(), 'node-0', 'extra'));
    const d = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(d), ['extra']);
    assert.equal(d.phase, 'manage');
  });
});
