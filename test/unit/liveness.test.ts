// judgeLiveness: the node lifecycle controller reduced to the Ready condition. A node silent for
// longer than the grace period becomes Ready=Unknown; it is Ready again once a heartbeat newer
// than that verdict arrives. Verdicts are events, so the function only proposes them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { REASON_STATUS_UNKNOWN, judgeLiveness, type LivenessInput } from '../../libs/core/liveness.js';
import type { NodeRecord } from '../../libs/core/state.js';
import { T0, makeNode, makeState } from '../support/state-builders.js';

const GRACE = 40_000;

function input(over: Partial<LivenessInput> = {}): LivenessInput {
  return { lastSeenMs: new Map(), nowMs: T0, graceMs: GRACE, judges: () => true, pending: new Set(), ...over };
}

function judge(nodes: NodeRecord[], over: Partial<LivenessInput>) {
  return judgeLiveness(makeState({ nodes }), input(over));
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
