// computeStatus: Kubernetes' updateDaemonSetStatus as the reference (§9) states it, over
// hand-built read models. Every field is asserted, not only the one a case is about.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { computeStatus, isPodAvailable, isPodReady } from '../../libs/core/status.js';
import type { DsStatus, NodeRecord, PodRecord } from '../../libs/core/state.js';
import { T0, dsSpec, makeDs, makeNode, makePod, makeState, template } from '../support/state-builders.js';

const status = (over: Partial<DsStatus>): DsStatus => ({
  desiredNumberScheduled: 0,
  currentNumberScheduled: 0,
  numberReady: 0,
  numberAvailable: 0,
  numberUnavailable: 0,
  updatedNumberScheduled: 0,
  numberMisscheduled: 0,
  observedGeneration: 1,
  ...over,
});

/** A DaemonSet that runs only on nodes labelled role=worker. */
function workerDs(over: Parameters<typeof makeDs>[1] = {}) {
  const tpl = template();
  const spec = { ...dsSpec({ ...tpl, spec: { ...tpl.spec, nodeSelector: { role: 'worker' } } }), ...(over.spec ?? {}) };
  return makeDs('fluentd', { currentHash: 'h2', templateGeneration: 2, ...over, spec });
}

const worker = (name: string, over: Partial<Omit<NodeRecord, 'name'>> = {}): NodeRecord =>
  makeNode(name, { labels: { role: 'worker' }, ...over });

describe('computeStatus (reference §9)', () => {
  it('every field over a mixed fleet', () => {
    const ds = workerDs();
    const nodes = [worker('n0'), worker('n1'), worker('n2'), makeNode('n3')];
    const pods: PodRecord[] = [
      makePod(ds, 'p0', 'n0'), // ready, updated
      makePod(ds, 'p2', 'n2', { hash: 'h1', templateGeneration: 1, ready: false }), // old, not ready
      makePod(ds, 'p3', 'n3'), // on a node that should not run it
    ];
    const r = computeStatus(makeState({ daemonSets: [ds], nodes, pods }), ds, undefined, T0 + 1, 7);
    assert.deepEqual(
      r.status,
      status({
        desiredNumberScheduled: 3,
        currentNumberScheduled: 2,
        numberReady: 1,
        numberAvailable: 1,
        numberUnavailable: 2,
        updatedNumberScheduled: 1,
        numberMisscheduled: 1,
        observedGeneration: 7,
      }),
    );
    assert.equal(r.wakeAtMs, undefined);
  });

  it('pod0 is the oldest pod: with an old ready pod and a young new one, the node counts old and ready', () => {
    const ds = workerDs();
    const pods = [
      makePod(ds, 'young-new', 'n0', { createdMs: T0 + 5000, ready: false, phase: 'Pending' }),
      makePod(ds, 'old', 'n0', { hash: 'h1', templateGeneration: 1, createdMs: T0 }),
    ];
    const r = computeStatus(makeState({ daemonSets: [ds], nodes: [worker('n0')], pods }), ds, undefined, T0 + 10_000, 1);
    assert.deepEqual(r.status, status({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 0 }));
  });

  it('a pod whose template generation matches counts as updated even with another hash (IsPodUpdated)', () => {
    const ds = workerDs();
    const pods = [makePod(ds, 'p', 'n0', { hash: 'other', templateGeneration: 2 })];
    const r = computeStatus(makeState({ daemonSets: [ds], nodes: [worker('n0')], pods }), ds, undefined, T0 + 1, 1);
    assert.equal(r.status.updatedNumberScheduled, 1);
  });

  it('terminating pods count as scheduled; terminating Failed/Succeeded pods are invisible', () => {
    const ds = workerDs();
    const nodes = [worker('n0'), worker('n1'), worker('n2'), worker('n3')];
    const pods = [
      makePod(ds, 'terminating', 'n0', { deletionMs: T0 }),
      makePod(ds, 'failed-terminating', 'n1', { phase: 'Failed', ready: false, deletionMs: T0 }),
      makePod(ds, 'succeeded-terminating', 'n2', { phase: 'Succeeded', ready: false, deletionMs: T0 }),
      makePod(ds, 'failed', 'n3', { phase: 'Failed', ready: false }),
    ];
    const r = computeStatus(makeState({ daemonSets: [ds], nodes, pods }), ds, undefined, T0 + 1, 1);
    assert.deepEqual(
      r.status,
      status({
        desiredNumberScheduled: 4,
        currentNumberScheduled: 2, // n0 (terminating, still Running) and n3 (failed, not yet deleted)
        numberReady: 1,
        numberAvailable: 1,
        numberUnavailable: 3,
        updatedNumberScheduled: 2,
      }),
    );
  });

  it('a NoSchedule taint: the kept pod is misscheduled, the node is not desired', () => {
    const ds = workerDs();
    const nodes = [worker('n0', { taints: { admin: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } })];
    const r = computeStatus(makeState({ daemonSets: [ds], nodes, pods: [makePod(ds, 'p', 'n0')] }), ds, undefined, T0 + 1, 1);
    assert.deepEqual(r.status, status({ numberMisscheduled: 1 }));
  });

  it('a cordoned node is still desired (automatic unschedulable toleration)', () => {
    const ds = workerDs();
    const r = computeStatus(makeState({ daemonSets: [ds], nodes: [worker('n0', { unschedulable: true })] }), ds, undefined, T0, 1);
    assert.equal(r.status.desiredNumberScheduled, 1);
    assert.equal(r.status.numberUnavailable, 1);
  });

  it('pods of other DaemonSets and pods on nodes that do not exist are invisible', () => {
    const ds = workerDs();
    const other = makeDs('other', { uid: 'uid-other' });
    const pods = [makePod(other, 'x', 'n0'), makePod(ds, 'ghost', 'gone')];
    const r = computeStatus(makeState({ daemonSets: [ds, other], nodes: [worker('n0')], pods }), ds, undefined, T0, 1);
    assert.deepEqual(r.status, status({ desiredNumberScheduled: 1, numberUnavailable: 1 }));
  });

  it('given verdicts are used instead of recomputing them', () => {
    const ds = workerDs();
    const verdicts = new Map([['n0', { shouldRun: false, shouldContinueRunning: true, reason: 'test' }]]);
    const r = computeStatus(makeState({ daemonSets: [ds], nodes: [worker('n0')], pods: [makePod(ds, 'p', 'n0')] }), ds, verdicts, T0, 1);
    assert.deepEqual(r.status, status({ numberMisscheduled: 1 }));
  });
});

describe('minReadySeconds boundary: available only when strictly past', () => {
  const ds = workerDs({ spec: { ...dsSpec(), minReadySeconds: 10 } });
  const state = makeState({ daemonSets: [ds], nodes: [worker('n0')], pods: [makePod(ds, 'p', 'n0', { readyTransitionMs: T0 })] });
  const cases = [
    { at: T0, available: 0, wake: T0 + 10_001 },
    { at: T0 + 9_999, available: 0, wake: T0 + 10_001 },
    { at: T0 + 10_000, available: 0, wake: T0 + 10_001 },
    { at: T0 + 10_001, available: 1, wake: undefined },
  ];
  for (const c of cases) {
    it(`now = ready + ${c.at - T0} ms`, () => {
      const r = computeStatus(state, ds, undefined, c.at, 1);
      assert.equal(r.status.numberReady, 1);
      assert.equal(r.status.numberAvailable, c.available);
      assert.equal(r.status.numberUnavailable, 1 - c.available);
      assert.equal(r.wakeAtMs, c.wake);
    });
  }

  it('the earliest wake-up wins across nodes', () => {
    const nodes = [worker('a'), worker('b')];
    const pods = [makePod(ds, 'pa', 'a', { readyTransitionMs: T0 + 3000 }), makePod(ds, 'pb', 'b', { readyTransitionMs: T0 + 1000 })];
    assert.equal(computeStatus(makeState({ daemonSets: [ds], nodes, pods }), ds, undefined, T0 + 2000, 1).wakeAtMs, T0 + 11_001);
  });
});

describe('isPodReady / isPodAvailable', () => {
  const ds = makeDs('fluentd');
  const table: { name: string; pod: Partial<PodRecord>; min: number; now: number; ready: boolean; available: boolean }[] = [
    { name: 'running and ready', pod: {}, min: 0, now: T0, ready: true, available: true },
    { name: 'running, not ready', pod: { ready: false }, min: 0, now: T0, ready: false, available: false },
    { name: 'pending', pod: { phase: 'Pending', ready: false }, min: 0, now: T0, ready: false, available: false },
    { name: 'failed', pod: { phase: 'Failed', ready: false }, min: 0, now: T0, ready: false, available: false },
    { name: 'ready inside minReadySeconds', pod: {}, min: 5, now: T0 + 5000, ready: true, available: false },
    { name: 'ready past minReadySeconds', pod: {}, min: 5, now: T0 + 5001, ready: true, available: true },
  ];
  for (const c of table) {
    it(c.name, () => {
      const pod = makePod(ds, 'p', 'n', c.pod);
      assert.equal(isPodReady(pod), c.ready);
      assert.equal(isPodAvailable(pod, c.min, c.now), c.available);
    });
  }
});
