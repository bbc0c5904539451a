// The log read in parts (each slot's `s.<slot>.…` and the global `g.…`, by separate consumers) and
// folded interleaved in any order with evolve(…, { inOrder: false }): the state is a function of
// how far each part is folded, and every decision about a slot's DaemonSet equals the one taken
// on the canonical state (that slot's and the global messages up to their positions, in log order).
// Also: releasing a slot frees its state, and part snapshots taken at different points compose.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { Envelope, LogEvent, PodCreate } from '../../libs/events/types.js';
import { eventFamily } from '../../libs/events/event-table.js';
import { isSlotFamily, subjectSlot } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { evolve, settleParts } from '../../libs/core/evolve.js';
import { reconcile, type Decision } from '../../libs/core/reconcile.js';
import { applyPartSnapshot, dropSlot, toPartSnapshot, toSnapshot, type PartSnapshot, type SnapshotPart } from '../../libs/core/snapshot.js';
import { decisionTimeMs, dsKey, initialState, podKey, type State } from '../../libs/core/state.js';
import { decodeValue, encodeValue } from '../../libs/codec/codec.js';
import {
  NS, SLOTS, START_MS, Scenario, addNodes, dsApplied, dsDeleted, nodeDeregistered, nodeLabelsSet, nodeNotReady, nodeReady,
  nodeRegistered, podCreateFor, podDeleteFor, podDeleted, podFailed, podReady, podStarted, prng, replay, shardAcquired,
  simpleDaemonSetLabel2, simpleNodeLabel, taintsSet, unschedulableSet, type PodRef,
} from '../support/scenario.js';

const FOO_SLOT = dsSlot(NS, 'foo', SLOTS);
const BAR_SLOT = dsSlot(NS, 'bar', SLOTS);
const META = { slots: SLOTS, streamCreated: '2026-01-01T00:00:00Z' };
const SEEDS = 200;
const CHECKPOINTS = 10;
const opts = { slots: SLOTS, inOrder: false } as const;

// ---- the log with real subjects, and its parts -----------------------------------------------------

/** The Scenario's envelopes (`test.<Type>`) with the subjects of the log layout: `g.x` or `s.<slot>.x`. */
function withSubjects(log: readonly Envelope[]): Envelope[] {
  const podSlots = new Map<string, number>();
  return log.map((env) => {
    const e = env.event;
    if (!isSlotFamily(eventFamily(e))) return { ...env, subject: 'g.x' };
    return { ...env, subject: `s.${slotOfEvent(e, podSlots)}.x` };
  });
}

function slotOfEvent(e: LogEvent, podSlots: Map<string, number>): number {
  switch (e.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
    case 'DaemonSetStatusUpdated':
      return dsSlot(e.data.namespace, e.data.name, SLOTS);
    case 'PodCreate':
      podSlots.set(podKey(e.data.pod.namespace, e.data.pod.name), e.data.slot);
      return e.data.slot;
    case 'PodDelete':
    case 'CommandRejected':
    case 'ClockTicked':
    case 'ShardAcquired':
      return e.data.slot;
    case 'PodStarted':
    case 'PodReady':
    case 'PodNotReady':
    case 'PodFailed':
    case 'PodSucceeded':
    case 'PodDeleted':
    case 'PodDeleteRequested': {
      const slot = podSlots.get(podKey(e.data.namespace, e.data.podName));
      if (slot === undefined) throw new Error(`${e.type} for ${e.data.podName}: no PodCreate earlier in the log`);
      return slot;
    }
    default:
      throw new Error(`${e.type} is not a slot event`);
  }
}

function partOfEnv(env: Envelope): SnapshotPart {
  return subjectSlot(env.subject) ?? 'global';
}

function splitParts(log: readonly Envelope[]): Map<SnapshotPart, Envelope[]> {
  const parts = new Map<SnapshotPart, Envelope[]>();
  for (const env of log) {
    const p = partOfEnv(env);
    parts.set(p, [...(parts.get(p) ?? []), env]);
  }
  return parts;
}

/** A random merge of the parts, each in its own order; sometimes a part runs ahead for a while. */
function interleave(parts: Iterable<readonly Envelope[]>, rand: () => number): Envelope[] {
  const queues = [...parts].map((q) => ({ q, i: 0 })).filter((x) => x.q.length > 0);
  const out: Envelope[] = [];
  while (queues.length > 0) {
    const k = Math.floor(rand() * queues.length);
    const x = queues[k]!;
    const burst = rand() < 0.3 ? 1 + Math.floor(rand() * 12) : 1;
    for (let b = 0; b < burst && x.i < x.q.length; b++) out.push(x.q[x.i++]!);
    if (x.i === x.q.length) queues.splice(k, 1);
  }
  return out;
}

/** The slot's messages up to `slotSeq` and the global ones up to `globalSeq`, folded in log order. */
function canonical(log: readonly Envelope[], slot: number, slotSeq: number, globalSeq: number): State {
  const state = initialState();
  for (const env of log) {
    const p = partOfEnv(env);
    if ((p === 'global' && env.seq <= globalSeq) || (p === slot && env.seq <= slotSeq)) evolve(state, env, opts);
  }
  return state;
}

// ---- comparisons -------------------------------------------------------------------------------------

function content(state: State): Record<string, unknown> {
  const { daemonSets, nodes, pods, podsByOwner, namespaces, shards } = state;
  return { daemonSets, nodes, pods, podsByOwner, namespaces, shards };
}

/** One part of the state, without firstTimeMs (the time of the first event of ANY part folded). */
function partView(state: State, part: SnapshotPart): Omit<PartSnapshot, 'firstTimeMs'> {
  const { firstTimeMs: _ignored, ...rest } = toPartSnapshot(state, part, META);
  return rest;
}

/**
 * A decision, without each command's causeSeq: that is `state.seq`, the last message folded of any
 * part (other slots included), a log position, not something decided. slotSeq/globalSeq stay.
 */
function decide(state: State, key: string, slot: number): Decision {
  const d = reconcile(state, key, { nowMs: decisionTimeMs(state, slot), epoch: 1 });
  return { ...d, commands: d.commands.map((c) => ({ ...c, data: { ...c.data, causeSeq: -1 } }) as typeof c) };
}

/** Every DaemonSet key the log names, by slot. */
function dsKeysBySlot(log: readonly Envelope[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const { event: e } of log) {
    if (e.type !== 'DaemonSetApplied') continue;
    const slot = dsSlot(e.data.namespace, e.data.name, SLOTS);
    out.set(slot, (out.get(slot) ?? new Set()).add(dsKey(e.data.namespace, e.data.name)));
  }
  return out;
}

/** The interleaved state agrees with the canonical one for every slot it has a position for. */
function checkAgainstCanonical(log: readonly Envelope[], state: State, keys: Map<number, Set<string>>, where: string): void {
  for (const [slot, pos] of state.slotParts) {
    const canon = canonical(log, slot, pos.seq, state.global.seq);
    const at = `${where}, slot ${slot} at ${pos.seq}, global at ${state.global.seq}`;
    assert.deepStrictEqual(partView(state, slot), partView(canon, slot), `slot part differs (${at})`);
    assert.deepStrictEqual(partView(state, 'global'), partView(canon, 'global'), `global part differs (${at})`);
    for (const key of keys.get(slot) ?? []) {
      assert.deepStrictEqual(decide(state, key, slot), decide(canon, key, slot), `decision for ${key} differs (${at})`);
    }
  }
}

// ---- the logs ------------------------------------------------------------------------------------------

const clockTicked = (slot: number): LogEvent => ({ type: 'ClockTicked', v: 1, data: { slot, reason: 'test' } });
const podDeleteRequested = (p: PodRef): LogEvent => ({
  type: 'PodDeleteRequested', v: 1, data: { node: p.node, namespace: p.namespace, podName: p.name, podUid: p.uid },
});
const NS_UID = 'uid-ns-team';

/** (a) Two DaemonSets in two slots on 6 nodes: converge, roll foo, node churn, an evicting taint, a pod failure. */
function fleetLog(): Envelope[] {
  const s = new Scenario();
  const both = (): void => {
    s.converge('foo');
    s.converge('bar');
    s.advance(1_000);
  };
  s.given(shardAcquired(FOO_SLOT, 1), shardAcquired(BAR_SLOT, 1), addNodes(0, 6, simpleNodeLabel));
  s.given({ type: 'NamespaceCreated', v: 1, data: { name: 'team', uid: NS_UID, labels: {}, annotations: {} } });
  s.advance(1_000).given(dsApplied('foo'), dsApplied('bar', { templateLabels: simpleDaemonSetLabel2 }));
  both();
  s.update('foo', { image: 'foo/v2' });
  s.converge('foo');
  s.advance(1_000).given(clockTicked(FOO_SLOT), podDeleteRequested(s.podsOn('node-3', 'bar')[0]!));
  both();
  // Node churn: one leaves, one comes back as a new incarnation, one is new.
  s.given(nodeDeregistered('node-5'), nodeRegistered('node-4', simpleNodeLabel, 'inc-2'), nodeRegistered('node-6', simpleNodeLabel));
  s.given(nodeLabelsSet('node-0', { zone: 'a' }, 'admin'), unschedulableSet('node-0', true), nodeNotReady('node-2'), nodeReady('node-2'));
  both();
  s.given(taintsSet('node-1', [{ key: 'evict', value: 'now', effect: 'NoExecute' }]));
  both();
  s.given(podFailed(s.podsOn('node-2', 'bar')[0]!));
  both();
  s.advance(5_000);
  both();
  s.given({ type: 'NamespaceDeleted', v: 1, data: { name: 'team', uid: NS_UID } });
  return withSubjects(s.log);
}

/** Envelopes of these events, seq 1…n, `stepMs` apart. */
function envelopes(events: readonly LogEvent[], stepMs = 1000): Envelope[] {
  return withSubjects(events.map((event, i) => ({ seq: i + 1, subject: `test.${event.type}`, timeMs: START_MS + i * stepMs, event })));
}

const dsFoo = new Scenario().given(dsApplied('foo')).ds('foo');
const dsBar = new Scenario().given(dsApplied('bar')).ds('bar');
const create = (ds = dsFoo, node: string, name: string): PodCreate => podCreateFor(ds, node, name);
const refOf = (c: PodCreate): PodRef => ({ namespace: c.data.pod.namespace, name: c.data.pod.name, uid: c.data.pod.uid, node: c.data.node });

/** (b1) A create for X stored after X left (a stale decision), X back as a new incarnation, a new create on X. */
function staleCreateLog(): Envelope[] {
  const a = create(dsFoo, 'X', 'foo-a'), stale = create(dsFoo, 'X', 'foo-stale'), c = create(dsFoo, 'X', 'foo-c');
  const b = create(dsBar, 'X', 'bar-b'), y = create(dsBar, 'Y', 'bar-y');
  return envelopes([
    nodeRegistered('X'), nodeRegistered('Y'), dsApplied('foo'), dsApplied('bar'),
    a, podStarted(refOf(a)), b, y, podReady(refOf(y)),
    nodeDeregistered('X'),
    stale, podStarted(refOf(stale)), // made before its controller knew X left
    nodeRegistered('X', {}, 'inc-2'),
    c, podStarted(refOf(c)), podReady(refOf(c)), create(dsBar, 'X', 'bar-b2'),
    nodeReady('Y'),
  ]);
}

/** (b2) Creates stored before a registration of a new incarnation of their node, or before any registration. */
function earlierIncarnationLog(): Envelope[] {
  const a = create(dsFoo, 'X', 'foo-a'), early = create(dsFoo, 'W', 'foo-w-early'), ghost = create(dsBar, 'Z', 'bar-ghost');
  return envelopes([
    nodeRegistered('X'), dsApplied('foo'), dsApplied('bar'),
    a, early, ghost, podStarted(refOf(a)),
    nodeRegistered('X', {}, 'inc-2'), // foo-a belonged to inc-1: gone
    nodeRegistered('W'), // foo-w-early was made before W existed: never happened
    create(dsFoo, 'X', 'foo-b'), create(dsFoo, 'W', 'foo-w'), create(dsBar, 'X', 'bar-x'),
    nodeLabelsSet('W', { late: 'yes' }),
  ]);
}

/** (c) foo deleted in the foreground; its last pod is on a node that leaves: foo disappears then. */
function foregroundDeleteLog(): Envelope[] {
  const x = create(dsFoo, 'X', 'foo-x'), y = create(dsFoo, 'Y', 'foo-y'), bar = create(dsBar, 'Y', 'bar-y');
  return envelopes([
    nodeRegistered('X'), nodeRegistered('Y'), dsApplied('foo'), dsApplied('bar'),
    x, y, bar, podReady(refOf(x)), podReady(refOf(y)),
    dsDeleted('foo', 'foreground'),
    podDeleteFor(refOf(y), 'DaemonSetDeleted', { slot: FOO_SLOT }), podDeleted(refOf(y)),
    nodeNotReady('X'),
    nodeDeregistered('X'),
    nodeReady('Y'),
  ]);
}

/**
 * (d) A pod fails and is deleted (FailedDaemonPod: back-off on X), then X comes back as a new
 * incarnation and the next pod fails too, all at one stream time. Read in order, the back-off is
 * recorded; with the global facts ahead, the re-registration drops the pod first and the delete
 * finds none: the back-off comes from the delete's own `ds` (found by this test: before, no
 * back-off was recorded, and the decision on bar-b differed).
 */
function failedPodNodeReturnsLog(): Envelope[] {
  const a = create(dsBar, 'X', 'bar-a'), b = create(dsBar, 'X', 'bar-b');
  return envelopes([
    nodeRegistered('X'), dsApplied('bar'),
    a, podStarted(refOf(a)), podFailed(refOf(a)), podDeleteFor(refOf(a), 'FailedDaemonPod', { slot: BAR_SLOT, ds: { namespace: 'default', name: 'bar', uid: 'uid-bar' } }),
    nodeRegistered('X', {}, 'inc-2'),
    b, podStarted(refOf(b)), podFailed(refOf(b)),
    nodeReady('X'),
  ], 0);
}


// Each log ends with a global fact: globalThrough moves only with global messages, so a create
// after the last one, on a node then unknown, would stay tentative (invisible) until the next.
const LOGS: readonly { name: string; log: Envelope[]; todo?: string }[] = [
  { name: '(a) fleet: rollout, node churn, eviction, failure', log: fleetLog() },
  { name: '(b1) stale create after the node left, then a new incarnation', log: staleCreateLog() },
  { name: '(b2) creates before a new incarnation / before any registration', log: earlierIncarnationLog() },
  { name: '(c) foreground delete finished by the node of its last pod leaving', log: foregroundDeleteLog() },
  { name: '(d) a failed pod deleted, then its node back as a new incarnation', log: failedPodNodeReturnsLog() },
];

// ---- the properties -------------------------------------------------------------------------------------

describe('the logs under test', () => {
  it('put slot facts under their slot and global facts under g.', () => {
    assert.notEqual(FOO_SLOT, BAR_SLOT);
    for (const { name, log } of LOGS) {
      const parts = new Set(splitParts(log).keys());
      const expected = name.startsWith('(d)') ? ['global', BAR_SLOT] : ['global', FOO_SLOT, BAR_SLOT];
      assert.deepStrictEqual(parts, new Set(expected), name);
    }
    const fleet = replay(LOGS[0]!.log);
    assert.ok(fleet.pods.size >= 8 && fleet.nodes.has('node-6') && !fleet.nodes.has('node-5'), 'the fleet converged after churn');
  });

  it('hold the cases: the stale, early and ghost creates never exist; foo is deleted', () => {
    const b1 = replay(LOGS[1]!.log), b2 = replay(LOGS[2]!.log), c = replay(LOGS[3]!.log);
    assert.deepStrictEqual([...b1.pods.keys()].sort(), ['default/bar-b2', 'default/bar-y', 'default/foo-c']);
    assert.deepStrictEqual([...b2.pods.keys()].sort(), ['default/bar-x', 'default/foo-b', 'default/foo-w']);
    assert.ok(!c.daemonSets.has('default/foo') && c.daemonSets.has('default/bar'));
    const d = replay(LOGS[4]!.log);
    assert.deepStrictEqual([...d.daemonSets.get('default/bar')!.failedBackoff.keys()], ['X'], 'read in order, the back-off on X is kept');
  });
});

describe('an interleaved fold of the parts', () => {
  for (const { name, log, todo } of LOGS) {
    it(`ends in the in-order state and decides as the canonical state at every point: ${name}`, { todo }, () => {
      const expected = content(replay(log));
      const parts = splitParts(log);
      const keys = dsKeysBySlot(log);
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rand = prng(seed);
        const order = interleave(parts.values(), rand);
        const checkpoints = new Set(Array.from({ length: CHECKPOINTS }, () => Math.floor(rand() * order.length)));
        const state = initialState();
        order.forEach((env, i) => {
          evolve(state, env, opts);
          if (checkpoints.has(i)) checkAgainstCanonical(log, state, keys, `seed ${seed}, after ${i + 1} envelopes`);
        });
        assert.deepStrictEqual(content(state), expected, `end state differs, seed ${seed}`);
        assert.equal(state.tentative.size, 0, `tentative pods left, seed ${seed}`);
      }
    });
  }
});

/** A part snapshot through a MessagePack round trip, as the snapshot store keeps it. */
function stored(state: State, part: SnapshotPart): PartSnapshot {
  const r = decodeValue(encodeValue(toPartSnapshot(state, part, META)));
  assert.ok(r.ok);
  return r.value as PartSnapshot;
}

describe('releasing a slot', () => {
  it('frees its state, and its snapshot loaded again gives the state back', () => {
    const log = LOGS[0]!.log;
    const before = replay(log);
    const state = replay(log);
    const barBefore = partView(state, BAR_SLOT);
    const snapshot = stored(before, FOO_SLOT);
    assert.ok((snapshot.daemonSets?.length ?? 0) > 0 && (snapshot.pods?.length ?? 0) > 0);

    dropSlot(state, FOO_SLOT);
    assert.ok(![...state.daemonSets.values()].some((ds) => ds.slot === FOO_SLOT), 'a DaemonSet of the slot remains');
    assert.ok(![...state.pods.values()].some((p) => p.slot === FOO_SLOT), 'a pod of the slot remains');
    assert.ok(!state.podsByOwner.has(before.daemonSets.get(dsKey(NS, 'foo'))!.uid), 'podsByOwner keeps foo');
    assert.ok(!state.shards.has(FOO_SLOT) && !state.slotParts.has(FOO_SLOT), 'the shard or position remains');
    assert.deepStrictEqual(partView(state, BAR_SLOT), barBefore, "bar's slot changed");
    assert.deepStrictEqual(partView(state, 'global'), partView(before, 'global'), 'the global part changed');

    settleParts(applyPartSnapshot(state, snapshot));
    assert.deepStrictEqual(state, before);
  });
});

describe('part snapshots taken at different points', () => {
  for (const { name, log, todo } of LOGS) {
    it(`compose, ignore envelopes they already hold, and fold on to the in-order state: ${name}`, { todo }, () => {
      const expected = content(replay(log));
      const parts = splitParts(log);
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rand = prng(10_000 + seed);
        // Each part is snapshotted from its own interleaved fold, stopped at its own random point.
        const snapshots = [...parts.keys()].map((part) => {
          const order = interleave(parts.values(), rand);
          const state = initialState();
          for (const env of order.slice(0, Math.floor(rand() * (order.length + 1)))) evolve(state, env, opts);
          return stored(state, part);
        });
        const state = initialState();
        for (const snap of snapshots) applyPartSnapshot(state, snap);
        settleParts(state);

        const position = new Map(snapshots.map((s) => [s.part, s.seq]));
        const remaining = [...parts].map(([part, envs]) => envs.filter((e) => e.seq > position.get(part)!));
        const held = log.filter((e) => e.seq <= position.get(partOfEnv(e))!);
        const order = interleave(remaining, rand);
        for (const env of order) {
          if (held.length > 0 && rand() < 0.3) {
            const again = held[Math.floor(rand() * held.length)]!;
            const was = toSnapshot(state, META);
            evolve(state, again, opts);
            assert.deepStrictEqual(toSnapshot(state, META), was, `seq ${again.seq} folded again changed the state, seed ${seed}`);
          }
          evolve(state, env, opts);
          held.push(env);
        }
        assert.deepStrictEqual(content(state), expected, `end state differs, seed ${seed}`);
        assert.equal(state.tentative.size, 0, `tentative pods left, seed ${seed}`);
      }
    });
  }
});
