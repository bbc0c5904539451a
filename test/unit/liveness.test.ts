// judgeLiveness: the node lifecycle controller reduced to the Ready condition. A node silent for
// longer than the grace period becomes Ready=Unknown; it is Ready again once a heartbeat newer
// than that verdict arrives. Verdicts are events, so the function only proposes them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_UNHEALTHY_THRESHOLD, REASON_STATUS_UNKNOWN, judgeLiveness, type LivenessInput } from '../../libs/core/liveness.js';
import type { NodeRecord } from '../../libs/core/state.js';
import { T0, makeNode, makeState } from '../support/state-builders.js';

const GRACE = 40_000;

function input(over: Partial<LivenessInput> = {}): LivenessInput {
  return { lastSeenMs: new Map(), nowMs: T0, graceMs: GRACE, sightSinceMs: Number.NEGATIVE_INFINITY, judges: () => true, pending: new Set(), ...over };
}

function judge(nodes: NodeRecord[], over: Partial<LivenessInput>) {
  const d = judgeLiveness(makeState({ nodes }), input(over));
  assert.equal(d.held, undefined, 'no verdict held back');
  return d.verdicts;
}

describe('judgeLiveness', () => {
  const notReady = (node: string, lastHeartbeatMs: number) => ({
    type: 'NodeNotReady',
    v: 1,
    data: { node, status: 'Unknown', reason: REASON_STATUS_UNKNOWN, lastHeartbeatMs },
  });

  const cases: { name: string; node: Partial<NodeRecord>; seen?: number; now: number; want: unknown[] }[] = [
    { name: 'Ready, heartbeat within grace: nothing', node: {}, seen: T0 + 10_000, now: T0 + 30_000, want: [] },
    { name: 'Ready, heartbeat exactly grace old: still fresh', node: {}, seen: T0, now: T0 + GRACE, want: [] },
    { name: 'Ready, heartbeat grace+1 old: Unknown', node: {}, seen: T0, now: T0 + GRACE + 1, want: [notReady('n', T0)] },
    {
      name: 'Ready, never heard from: counted from the Ready transition, lastHeartbeatMs 0',
      node: { readyTransitionMs: T0 },
      now: T0 + GRACE + 1,
      want: [notReady('n', 0)],
    },
    { name: 'Ready, never heard from, within grace of registration: nothing', node: { readyTransitionMs: T0 }, now: T0 + GRACE, want: [] },
    {
      name: 'Ready again (re-registered) with only a pre-outage heartbeat: a full grace from the transition',
      node: { readyTransitionMs: T0 + 100_000 },
      seen: T0,
      now: T0 + 100_000 + GRACE,
      want: [],
    },
    {
      name: 'Ready again, still no new heartbeat after a full grace: Unknown, reporting the old heartbeat',
      node: { readyTransitionMs: T0 + 100_000 },
      seen: T0,
      now: T0 + 100_000 + GRACE + 1,
      want: [notReady('n', T0)],
    },
    {
      name: 'Unknown, a heartbeat newer than the verdict and fresh: Ready',
      node: { ready: 'Unknown', readyTransitionMs: T0 + 50_000 },
      seen: T0 + 60_000,
      now: T0 + 61_000,
      want: [{ type: 'NodeReady', v: 1, data: { node: 'n' } }],
    },
    {
      name: 'Unknown, the last heartbeat predates the verdict: stays Unknown',
      node: { ready: 'Unknown', readyTransitionMs: T0 + 50_000 },
      seen: T0 + 10_000,
      now: T0 + 51_000,
      want: [],
    },
    {
      name: 'Unknown, newer heartbeat but stale by now: stays Unknown',
      node: { ready: 'Unknown', readyTransitionMs: T0 },
      seen: T0 + 1000,
      now: T0 + 1000 + GRACE + 1,
      want: [],
    },
    {
      name: 'False (the agent said so) is not judged by heartbeats',
      node: { ready: 'False', readyTransitionMs: T0 },
      seen: T0 + 1000,
      now: T0 + 2000,
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const lastSeenMs = new Map(c.seen === undefined ? [] : [['n', c.seen]]);
      assert.deepEqual(judge([makeNode('n', c.node)], { lastSeenMs, nowMs: c.now }), c.want);
    });
  }

  it('only nodes this controller judges, and none with a verdict in flight', () => {
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')];
    const out = judge(nodes, { nowMs: T0 + GRACE + 1, judges: (n) => n !== 'b', pending: new Set(['c']) });
    assert.deepEqual(out.map((e) => e.data.node), ['a']);
  });

  it('verdicts for several nodes, in node order', () => {
    const nodes = [makeNode('a'), makeNode('b'), makeNode('c')];
    const lastSeenMs = new Map([['b', T0 + 30_000]]);
    const out = judge(nodes, { lastSeenMs, nowMs: T0 + GRACE + 1 });
    assert.deepEqual(out.map((e) => [e.type, e.data.node]), [['NodeNotReady', 'a'], ['NodeNotReady', 'c']]);
  });
});

describe('judgeLiveness knows its own blindness (issue 19)', () => {
  const fleet = (n: number, over: Partial<NodeRecord> = {}): NodeRecord[] => Array.from({ length: n }, (_, i) => makeNode(`n${i}`, over));
  const seenAll = (nodes: NodeRecord[], ms: number) => new Map(nodes.map((n) => [n.name, ms]));
  const notReadyNodes = (d: ReturnType<typeof judgeLiveness>) => d.verdicts.filter((v) => v.type === 'NodeNotReady').map((v) => v.data.node);

  it('blind right now (sightSinceMs undefined): no NotReady verdict, and it says why', () => {
    const nodes = fleet(1);
    const d = judgeLiveness(makeState({ nodes }), input({ nowMs: T0 + GRACE + 1, sightSinceMs: undefined }));
    assert.deepEqual(d.verdicts, []);
    assert.deepEqual(d.held, { reason: 'blind', silent: 1, judged: 1 });
  });

  it('blind, yet a node whose heartbeats resumed is still judged Ready again', () => {
    const nodes = [makeNode('n', { ready: 'Unknown', readyTransitionMs: T0 })];
    const d = judgeLiveness(makeState({ nodes }), input({ lastSeenMs: new Map([['n', T0 + 1000]]), nowMs: T0 + 2000, sightSinceMs: undefined }));
    assert.deepEqual(d.verdicts, [{ type: 'NodeReady', v: 1, data: { node: 'n' } }]);
  });

  const sightCases: { name: string; sight: number; now: number; want: string[] }[] = [
    { name: 'sight restored less than a grace ago: the stale node waits', sight: T0 + 30_000, now: T0 + 30_000 + GRACE, want: [] },
    { name: 'sight restored exactly a grace ago: still waits', sight: T0 + 1000, now: T0 + 1000 + GRACE, want: [] },
    { name: 'a full grace since sight came back and still silent: NotReady', sight: T0 + 1000, now: T0 + 1000 + GRACE + 1, want: ['n'] },
    { name: 'sight older than the heartbeat: judged on the heartbeat alone', sight: T0 - 5000, now: T0 + GRACE + 1, want: ['n'] },
  ];
  for (const c of sightCases) {
    it(c.name, () => {
      const d = judgeLiveness(makeState({ nodes: [makeNode('n')] }), input({ lastSeenMs: new Map([['n', T0]]), nowMs: c.now, sightSinceMs: c.sight }));
      assert.deepEqual(notReadyNodes(d), c.want);
    });
  }

  // PartialDisruption as monitorNodeHealth computes it: more than 2 silent, and at least the threshold share.
  const disruption: { name: string; total: number; silent: number; threshold?: number; held: boolean }[] = [
    { name: '1 of 1 silent (a one-node fleet loses its node): judged', total: 1, silent: 1, held: false },
    { name: '2 of 2 silent: judged (not more than 2)', total: 2, silent: 2, held: false },
    { name: '2 of 3 silent: judged', total: 3, silent: 2, held: false },
    { name: '3 of 3 silent: held', total: 3, silent: 3, held: true },
    { name: '5 of 5 silent: held', total: 5, silent: 5, held: true },
    { name: '3 of 10 silent (30%): judged', total: 10, silent: 3, held: false },
    { name: '6 of 10 silent (60% ≥ 55%): held', total: 10, silent: 6, held: true },
    { name: '5 of 10 silent (50% < 55%): judged', total: 10, silent: 5, held: false },
    { name: '6 of 10 silent with threshold 1.01 (disabled): judged', total: 10, silent: 6, threshold: 1.01, held: false },
  ];
  for (const c of disruption) {
    it(c.name, () => {
      const nodes = fleet(c.total);
      const lastSeenMs = seenAll(nodes, T0 + GRACE); // fresh at T0 + GRACE + 1 ...
      for (const n of nodes.slice(0, c.silent)) lastSeenMs.set(n.name, T0); // ... except the silent ones
      const d = judgeLiveness(makeState({ nodes }), input({ lastSeenMs, nowMs: T0 + GRACE + 1, ...(c.threshold ? { unhealthyThreshold: c.threshold } : {}) }));
      if (c.held) {
        assert.deepEqual(d.verdicts, []);
        assert.deepEqual(d.held, { reason: 'disruption', silent: c.silent, judged: c.total });
      } else {
        assert.equal(d.held, undefined);
        assert.deepEqual(notReadyNodes(d), nodes.slice(0, c.silent).map((n) => n.name));
      }
    });
  }

  it('nodes already Unknown count as silent: the fourth of five is held once three are down', () => {
    const nodes = [...fleet(3, { ready: 'Unknown', readyTransitionMs: T0 }), makeNode('n3'), makeNode('n4')];
    const lastSeenMs = new Map([['n3', T0], ['n4', T0 + GRACE]]);
    const d = judgeLiveness(makeState({ nodes }), input({ lastSeenMs, nowMs: T0 + GRACE + 1 }));
    assert.deepEqual(d.held, { reason: 'disruption', silent: 4, judged: 5 });
  });

  it('only the nodes this controller judges count toward the share', () => {
    const nodes = fleet(10);
    const lastSeenMs = seenAll(nodes, T0 + GRACE);
    for (const n of ['n0', 'n1', 'n2']) lastSeenMs.set(n, T0);
    // Judging n0..n4 only: 3 of 5 silent is 60%.
    const d = judgeLiveness(makeState({ nodes }), input({ lastSeenMs, nowMs: T0 + GRACE + 1, judges: (n) => Number(n.slice(1)) < 5 }));
    assert.equal(d.held?.reason, 'disruption');
    assert.equal(DEFAULT_UNHEALTHY_THRESHOLD, 0.55);
  });
});
