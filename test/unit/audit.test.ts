// The audit (libs/core/audit/): for each break kind a log that has it, asserting kind,
// DaemonSet, node and the exact sequences, next to a near-identical clean log that has none;
// whole simulated rollouts (maxUnavailable, maxSurge, minReadySeconds) that must audit clean;
// and what --since and --for change. Logs are built with the real evolve and reconcile
// (test/support/scenario.ts), so a clean rollout here is the controller's own.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { ClockTicked, Envelope, LogEvent, PodCommand, PodCreate, PodDelete } from '../../libs/events/types.js';
import type { IntOrString } from '../../libs/model/types.js';
import type { PodRecord } from '../../libs/core/state.js';
import { BREAK_KINDS, breakMeaning, auditLog, createAudit, type AuditBreak, type AuditOptions, type AuditReport } from '../../libs/core/audit/mod.js';
import {
  SLOTS,
  START_MS,
  Scenario,
  addNodes,
  commandRejected,
  dsApplied,
  nodeNotReady,
  nodeRegistered,
  podCreateFor,
  podDeleteFor,
  podDeleted,
  podNotReady,
  podReady,
  podRefOf,
  podStarted,
  prng,
  replay,
  shardAcquired,
  type DsOptions,
} from '../support/scenario.js';

const audit = (log: readonly Envelope[], o: Partial<AuditOptions> = {}): AuditReport => auditLog(log, { slots: SLOTS, ...o });
const breaksOf = (s: Scenario, o: Partial<AuditOptions> = {}): readonly AuditBreak[] => audit(s.log, o).breaks;

/** kind, ds, node and seqs of each break (the message is for people, checked apart). */
function summary(breaks: readonly AuditBreak[]): { kind: string; ds?: string; node?: string; seqs: readonly number[] }[] {
  return breaks.map((b) => ({ kind: b.kind, ...(b.ds !== undefined ? { ds: b.ds } : {}), ...(b.node !== undefined ? { node: b.node } : {}), seqs: b.seqs }));
}

function assertClean(s: Scenario | readonly Envelope[], o: Partial<AuditOptions> = {}): void {
  const log = s instanceof Scenario ? s.log : s;
  const r = audit(log, o);
  assert.deepEqual(r.breaks, [], r.breaks.map((b) => `${b.kind}: ${b.message}`).join('\n'));
}

function clockTicked(slot: number): ClockTicked {
  return { type: 'ClockTicked', v: 1, data: { slot, reason: 'test' } };
}

function withEpoch<C extends PodCommand>(cmd: C, epoch: number): C {
  return { ...cmd, data: { ...cmd.data, epoch } };
}

function withCause(cmd: PodDelete, causeSeq: number): PodDelete {
  return { ...cmd, data: { ...cmd.data, causeSeq } };
}

function createEnvOf(s: Scenario, pod: PodRecord): Envelope<PodCreate> {
  const env = s.log.find((e) => e.event.type === 'PodCreate' && e.event.data.pod.uid === pod.uid);
  if (!env) throw new Error(`no PodCreate for ${pod.name}`);
  return env as Envelope<PodCreate>;
}

function seqOf(s: Scenario, pred: (e: LogEvent) => boolean): number {
  const env = [...s.log].reverse().find((x) => pred(x.event));
  if (!env) throw new Error('no such event');
  return env.seq;
}

/** `count` nodes running DaemonSet foo (all pods up and ready), before any rollout. */
function running(count: number, o: DsOptions = {}): Scenario {
  const s = new Scenario().given(addNodes(0, count), dsApplied('foo', o));
  s.converge();
  return s;
}

/** A rolling delete as the controller's rollingUpdate issues it. */
function rollingDelete(s: Scenario, pod: PodRecord, causeSeq = s.state.seq, reason = 'RollingUpdate'): PodDelete {
  return withCause(podDeleteFor(pod, reason, { slot: s.ds().slot, id: `delete-${pod.name}` }), causeSeq);
}

describe('audit: break kinds are a closed set', () => {
  it('every kind has a meaning', () => {
    for (const kind of BREAK_KINDS) assert.ok(breakMeaning(kind).length > 20, kind);
    assert.equal(new Set(BREAK_KINDS).size, 6);
  });
});

// ---- TwoLivePods -----------------------------------------------------------------------------------

describe('audit: TwoLivePods', () => {
  it('a second pod of a DaemonSet starts on a node that runs one (maxSurge 0)', () => {
    const s = running(2);
    const [p0] = s.podsOn('node-0');
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    const created = s.fold(extra);
    const started = s.fold(podStarted(podRefOf(extra)));
    s.fold(podReady(podRefOf(extra)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [p0!.createSeq, created.seq, started.seq] }]);
    assert.match(breaks[0]!.message, /2 running pods of default\/foo on node-0: .*foo-extra.*maxSurge is 0/);
  });

  it('clean: the same second pod starts only after the first is gone', () => {
    const s = running(2);
    const [p0] = s.podsOn('node-0');
    s.given(podDeleteFor(p0!, 'test'), podDeleted(p0!));
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    s.given(extra, podStarted(podRefOf(extra)), podReady(podRefOf(extra)));
    assertClean(s);
  });

  it('a terminating pod still runs: a replacement started before PodDeleted is a break without surge', () => {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    s.fold(podDeleteFor(p0!, 'test'));
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    const created = s.fold(extra);
    const started = s.fold(podStarted(podRefOf(extra)));
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [p0!.createSeq, created.seq, started.seq] }]);
  });

  it('clean: a second pod that is created but refused by the agent never runs', () => {
    const s = running(2);
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    s.given(extra, commandRejected(extra, 'StaleEpoch'));
    assertClean(s);
  });

  it('clean: a failed pod does not run; its replacement may start while it terminates', () => {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    s.given({ type: 'PodFailed', v: 1, data: { ...podRefToReport(p0!), reason: 'Error' } });
    assert.deepEqual(s.sync().commands.map((c) => c.type), ['PodDelete']);
    const d = s.sync();
    assert.deepEqual(d.commands.map((c) => c.type), ['PodCreate']);
    s.runAgents(d.commands);
    assert.equal(s.podsOn('node-0').length, 2);
    assertClean(s);
  });

  it('clean: an old and an updated pod side by side under maxSurge 1', () => {
    const s = running(2, { maxSurge: 1 });
    s.update('foo', { image: 'foo/v2', maxSurge: 1 });
    s.step(); // surge: the new pod on node-0 starts beside the old one
    assert.equal(s.podsOn('node-0').length, 2);
    assertClean(s);
  });

  it('a third pod under maxSurge 1', () => {
    const s = running(2, { maxSurge: 1 });
    s.update('foo', { image: 'foo/v2', maxSurge: 1 });
    s.step();
    const [oldPod, newPod] = s.podsOn('node-0');
    const third = podCreateFor(s.ds(), 'node-0', 'foo-third');
    const created = s.fold(third);
    const started = s.fold(podStarted(podRefOf(third)));
    assert.deepEqual(summary(breaksOf(s)), [
      { kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [oldPod!.createSeq, newPod!.createSeq, created.seq, started.seq] },
    ]);
  });

  it('two pods of the same revision under maxSurge 1', () => {
    const s = running(1, { maxSurge: 1 });
    const [p0] = s.podsOn('node-0');
    const twin = podCreateFor(s.ds(), 'node-0', 'foo-twin');
    const created = s.fold(twin);
    const ready = s.fold(podReady(podRefOf(twin)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [p0!.createSeq, created.seq, ready.seq] }]);
    assert.match(breaks[0]!.message, /an old one and its replacement/);
  });

  it('an overlap is reported once, not at every report of its pods', () => {
    const s = running(1);
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    s.given(extra, podStarted(podRefOf(extra)), podNotReady(podRefOf(extra)), podReady(podRefOf(extra)), podStarted(podRefOf(extra), 1));
    assert.equal(breaksOf(s).length, 1);
  });

  it('clean: maxSurge turned off while a surge pod is on its way; it starts afterwards', () => {
    const s = running(2, { maxSurge: 1 });
    s.update('foo', { image: 'foo/v2', maxSurge: 1 });
    const d = s.sync();
    s.update('foo', { image: 'foo/v2', maxSurge: 0, maxUnavailable: 1 });
    s.runAgents(d.commands);
    const [, newPod] = s.podsOn('node-0');
    s.given(podNotReady(newPod!), podReady(newPod!));
    assert.equal(s.podsOn('node-0').length, 2);
    assertClean(s);
  });
});

// ---- BudgetExceeded ----------------------------------------------------------------------------------

describe('audit: BudgetExceeded', () => {
  it('a second available pod taken down while the first node is still down (maxUnavailable 1)', () => {
    const s = running(3);
    s.update('foo', { image: 'foo/v2' });
    const [p0] = s.podsOn('node-0');
    const [p1] = s.podsOn('node-1');
    const d0 = s.fold(rollingDelete(s, p0!));
    const d1 = s.fold(rollingDelete(s, p1!));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'BudgetExceeded', ds: 'default/foo', node: 'node-1', seqs: [d0.seq, d1.seq] }]);
    assert.match(breaks[0]!.message, /deleted available pod foo-\w+ on node-1 .*1 node was already unavailable \(node-0: pod foo-\w+ terminating \(seq \d+\)\) and maxUnavailable is 1/);
  });

  it('clean: the same delete once the first node runs its updated pod', () => {
    const s = running(3);
    s.update('foo', { image: 'foo/v2' });
    const [p0] = s.podsOn('node-0');
    const [p1] = s.podsOn('node-1');
    s.given(rollingDelete(s, p0!), podDeleted(p0!));
    s.step(); // manage creates the updated pod on node-0; its agent starts it, ready
    s.fold(rollingDelete(s, p1!));
    assertClean(s);
  });

  it('clean: deleting an old pod that is already unavailable is allowed whatever the budget', () => {
    const s = running(3);
    s.update('foo', { image: 'foo/v2' });
    const [p0] = s.podsOn('node-0');
    const [p1] = s.podsOn('node-1');
    s.given(rollingDelete(s, p0!), podNotReady(p1!), rollingDelete(s, p1!));
    assertClean(s);
  });

  it('two at once within maxUnavailable 2 is clean; a third is a break', () => {
    const s = running(4, { maxUnavailable: 2 });
    s.update('foo', { image: 'foo/v2', maxUnavailable: 2 });
    const d = s.sync();
    assert.deepEqual(d.commands.map((c) => c.type), ['PodDelete', 'PodDelete']);
    assertClean(s);
    const [p2] = s.podsOn('node-2');
    const third = s.fold(rollingDelete(s, p2!));
    const first = d.commands.map((c) => seqOf(s, (e) => e.type === 'PodDelete' && e.data.id === c.data.id));
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'BudgetExceeded', ds: 'default/foo', node: 'node-2', seqs: [...first, third.seq] }]);
  });

  it('a pod that went unready after the decision is not held against it; one unready before it is', () => {
    const build = (unreadyBeforeDecision: boolean): { s: Scenario; seqs: number[] } => {
      const s = running(4, { maxUnavailable: 2 });
      s.update('foo', { image: 'foo/v2', maxUnavailable: 2 });
      const [p0] = s.podsOn('node-0');
      const [p1] = s.podsOn('node-1');
      const [p3] = s.podsOn('node-3');
      const d0 = s.fold(rollingDelete(s, p0!));
      let cause = s.state.seq;
      const unready = s.fold(podNotReady(p3!));
      if (unreadyBeforeDecision) cause = s.state.seq;
      const d1 = s.fold(rollingDelete(s, p1!, cause));
      return { s, seqs: [d0.seq, unready.seq, d1.seq] };
    };
    assertClean(build(false).s);
    const { s, seqs } = build(true);
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'BudgetExceeded', ds: 'default/foo', node: 'node-1', seqs }]);
  });

  it('availability is judged on the log clock: minReadySeconds not yet passed at the delete is a break', () => {
    const build = (waitSeconds: number): { s: Scenario; seqs: number[] } => {
      const s = running(3, { minReadySeconds: 10 });
      s.advance(60_000);
      s.update('foo', { image: 'foo/v2', minReadySeconds: 10 });
      const [p0] = s.podsOn('node-0');
      const [p1] = s.podsOn('node-1');
      s.given(rollingDelete(s, p0!), podDeleted(p0!));
      s.step(); // the updated pod on node-0 becomes ready now
      const [fresh] = s.podsOn('node-0');
      const ready = seqOf(s, (e) => e.type === 'PodReady' && e.data.podUid === fresh!.uid);
      s.advance(waitSeconds * 1000);
      const d1 = s.fold(rollingDelete(s, p1!));
      return { s, seqs: [ready, d1.seq] };
    };
    assertClean(build(11).s);
    const { s, seqs } = build(5);
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'BudgetExceeded', ds: 'default/foo', node: 'node-1', seqs }]);
  });

  it('with maxSurge 1 (maxUnavailable 0) an old pod may go only once its replacement is available', () => {
    const build = (replacementReady: boolean): { s: Scenario; seq: number } => {
      const s = running(2, { maxSurge: 1 });
      s.update('foo', { image: 'foo/v2', maxSurge: 1 });
      s.step('foo', { ready: replacementReady });
      const [oldPod] = s.podsOn('node-0');
      const d = s.fold(rollingDelete(s, oldPod!, s.state.seq, 'SurgeReplaced'));
      return { s, seq: d.seq };
    };
    assertClean(build(true).s);
    const { s, seq } = build(false);
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'BudgetExceeded', ds: 'default/foo', node: 'node-0', seqs: [seq] }]);
  });

  it('clean: deletes for other reasons are not the rolling update\'s', () => {
    const s = running(3);
    s.update('foo', { image: 'foo/v2' });
    const [p0] = s.podsOn('node-0');
    const [p1] = s.podsOn('node-1');
    s.given(rollingDelete(s, p0!), podDeleteFor(p1!, 'DeletedByUser'));
    assertClean(s);
  });
});

// ---- CommandAppliedTwice -----------------------------------------------------------------------------

describe('audit: CommandAppliedTwice', () => {
  /** One pod on node-0, run and then deleted; then its PodCreate arrives again. */
  function deletedThenDuplicated(): { s: Scenario; create: Envelope<PodCreate>; firstRun: number; dup: Envelope } {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    const create = createEnvOf(s, p0!);
    const firstRun = seqOf(s, (e) => e.type === 'PodStarted' && e.data.podUid === p0!.uid);
    s.given(podDeleteFor(p0!, 'test'), podDeleted(p0!));
    const dup = s.fold(create.event);
    return { s, create, firstRun, dup };
  }

  it('a duplicate create brings a deleted pod back', () => {
    const { s, create, firstRun, dup } = deletedThenDuplicated();
    const rerun = s.fold(podStarted(podRefOf(create.event)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'CommandAppliedTwice', ds: 'default/foo', node: 'node-0', seqs: [create.seq, firstRun, dup.seq, rerun.seq] }]);
    assert.match(breaks[0]!.message, new RegExp(`PodCreate ${create.event.data.id} ran pod ${create.event.data.pod.name} again`));
  });

  it('clean: the same duplicate that the agent ignores (no report follows)', () => {
    const { s } = deletedThenDuplicated();
    s.fold(clockTicked(0));
    assertClean(s);
  });

  it('clean: a duplicate of a running pod\'s create, then more reports of the same run', () => {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    const create = createEnvOf(s, p0!);
    s.given(create.event, podNotReady(p0!), podReady(p0!));
    assertClean(s);
  });

  it('clean: an agent restart reports PodStarted of the same pod again (restartCount 0)', () => {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    s.given(podStarted(p0!, 0), podReady(p0!));
    assertClean(s);
  });

  it('one command id made two pods, both run', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    const a = podCreateFor(s.ds(), 'node-0', 'foo-a');
    const b0 = podCreateFor(s.ds(), 'node-1', 'foo-b');
    const b: PodCreate = { ...b0, data: { ...b0.data, id: a.data.id } };
    const ca = s.fold(a);
    const ra = s.fold(podStarted(podRefOf(a)));
    const cb = s.fold(b);
    const rb = s.fold(podStarted(podRefOf(b)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'CommandAppliedTwice', ds: 'default/foo', node: 'node-1', seqs: [ca.seq, ra.seq, cb.seq, rb.seq] }]);
    assert.match(breaks[0]!.message, /made two pods: foo-a on node-0 .* and foo-b on node-1/);
  });

  it('clean: the second pod of that id refused', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    const a = podCreateFor(s.ds(), 'node-0', 'foo-a');
    const b0 = podCreateFor(s.ds(), 'node-1', 'foo-b');
    const b: PodCreate = { ...b0, data: { ...b0.data, id: a.data.id } };
    s.given(a, podStarted(podRefOf(a)), b, commandRejected(b, 'Invalid'));
    assertClean(s);
  });

  it('clean: a node that comes back as a new incarnation never sees older commands', () => {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    const create = createEnvOf(s, p0!);
    // Published while the old incarnation ran it, left unseen by the new one.
    s.given(create.event, nodeRegistered('node-0', {}, 'inc-2'));
    s.step();
    assertClean(s);
  });
});

// ---- StaleEpochApplied ---------------------------------------------------------------------------------

describe('audit: StaleEpochApplied', () => {
  /** foo runs on node-0 under epoch 1; node-1 joins; slot moves to epoch 2. */
  function handedOver(): { s: Scenario; slot: number; acquired: Envelope } {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    const slot = s.ds().slot;
    s.given(shardAcquired(slot, 1, 'controller-1'));
    s.converge();
    s.given(nodeRegistered('node-1'));
    const acquired = s.fold(shardAcquired(slot, 2, 'controller-2'));
    return { s, slot, acquired };
  }

  it('a create of the deposed epoch, published after the handover, run by the agent', () => {
    const { s, acquired } = handedOver();
    const late = withEpoch(podCreateFor(s.ds(), 'node-1', 'foo-late'), 1);
    const cmd = s.fold(late);
    const ran = s.fold(podStarted(podRefOf(late)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'StaleEpochApplied', ds: 'default/foo', node: 'node-1', seqs: [acquired.seq, cmd.seq, ran.seq] }]);
    assert.match(breaks[0]!.message, /epoch 1 .* slot \d+ had moved to epoch 2 at seq \d+ \(ShardAcquired by controller-2\)/);
  });

  it('clean: the same create answered with CommandRejected', () => {
    const { s } = handedOver();
    const late = withEpoch(podCreateFor(s.ds(), 'node-1', 'foo-late'), 1);
    s.given(late, commandRejected(late, 'StaleEpoch'));
    assertClean(s);
  });

  it('clean: a create published before the handover (in flight) runs after it', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    const slot = s.ds().slot;
    s.given(shardAcquired(slot, 1));
    const early = podCreateFor(s.ds(), 'node-1', 'foo-early');
    s.given(early, shardAcquired(slot, 2, 'controller-2'), podStarted(podRefOf(early)));
    assertClean(s);
  });

  it('a delete of the deposed epoch acted on (PodDeleted)', () => {
    const { s, slot, acquired } = handedOver();
    const [p0] = s.podsOn('node-0');
    const cmd = s.fold(podDeleteFor(p0!, 'test', { slot, epoch: 1 }));
    const done = s.fold(podDeleted(p0!));
    assert.deepEqual(summary(breaksOf(s)), [{ kind: 'StaleEpochApplied', ds: 'default/foo', node: 'node-0', seqs: [acquired.seq, cmd.seq, done.seq] }]);
  });

  it('clean: that delete refused, the pod deleted later by the new owner', () => {
    const { s, slot } = handedOver();
    const [p0] = s.podsOn('node-0');
    const stale = podDeleteFor(p0!, 'test', { slot, epoch: 1 });
    s.given(stale, commandRejected(stale, 'StaleEpoch'), podDeleteFor(p0!, 'test', { slot, epoch: 2, id: 'delete-new' }), podDeleted(p0!));
    assertClean(s);
  });

  it('below the highest epoch its node has seen (no ShardAcquired on the log)', () => {
    const s = running(1);
    const slot = s.ds().slot;
    const [p0] = s.podsOn('node-0');
    const newer = s.fold(podDeleteFor(p0!, 'test', { slot, epoch: 3 }));
    s.fold(podDeleted(p0!));
    const older = withEpoch(podCreateFor(s.ds(), 'node-0', 'foo-older'), 2);
    const cmd = s.fold(older);
    const ran = s.fold(podStarted(podRefOf(older)));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'StaleEpochApplied', ds: 'default/foo', node: 'node-0', seqs: [newer.seq, cmd.seq, ran.seq] }]);
    assert.match(breaks[0]!.message, /moved to epoch 3 .*PodDelete delete-\S+ \(epoch 3\) to node node-0/);
  });

  it('clean: a command of a lower epoch to ANOTHER node (its agent has not seen the higher one)', () => {
    const s = running(2);
    const slot = s.ds().slot;
    const [p0] = s.podsOn('node-0');
    s.given(podDeleteFor(p0!, 'test', { slot, epoch: 3 }), podDeleted(p0!));
    const [p1] = s.podsOn('node-1');
    s.given(podDeleteFor(p1!, 'test', { slot, epoch: 2 }), podDeleted(p1!));
    assertClean(s);
  });
});

// ---- RolloutStalled ------------------------------------------------------------------------------------

describe('audit: RolloutStalled', () => {
  interface StallCase {
    readonly idleMs?: number;
    readonly update?: DsOptions;
    /** Events folded right after the rollout stops moving (they are activity too, except node facts). */
    readonly then?: (s: Scenario) => LogEvent[];
  }

  /** 3 nodes; an update; node-0 updated; then nothing for the DaemonSet for `idleMs`, and one last unrelated event. */
  function stalledRollout(c: StallCase = {}): { s: Scenario; last: Envelope; lastActivity: number } {
    const s = running(3);
    s.update('foo', { image: 'foo/v2', ...(c.update ?? {}) });
    s.step();
    s.step();
    for (const e of c.then?.(s) ?? []) s.fold(e);
    const lastActivity = s.state.seq;
    s.advance(c.idleMs ?? 120_000);
    const last = s.fold(clockTicked(s.ds().slot));
    return { s, last, lastActivity };
  }

  it('incomplete, idle for 2 minutes of log time, no reason', () => {
    const { s, last, lastActivity } = stalledRollout();
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'RolloutStalled', ds: 'default/foo', seqs: [lastActivity, last.seq] }]);
    assert.match(breaks[0]!.message, /rollout of default\/foo is incomplete \(updated 1\/3, available 3\/3, observedGeneration 2\/2\) and nothing happened for it for 120s/);
  });

  const clean: [string, StallCase, Partial<AuditOptions>?][] = [
    ['idle for less than the threshold', { idleMs: 30_000 }],
    ['a longer --stall-after', {}, { stallAfterMs: 300_000 }],
    ['paused (daemonset-js.io/paused)', { update: { annotations: { 'daemonset-js.io/paused': 'true' } } }],
    ['OnDelete', { update: { onDelete: true } }],
    ['a crash-looping pod', { then: (s) => [podNotReady(s.podsOn('node-1')[0]!, 'CrashLoopBackOff')] }],
    ['a failed pod', { then: (s) => [{ type: 'PodFailed', v: 1, data: { ...podRefToReport(s.podsOn('node-2')[0]!), reason: 'Error' } }] }],
    ['a NotReady node that holds it', { then: () => [nodeNotReady('node-1')] }],
  ];
  for (const [name, c, o] of clean) {
    it(`clean: ${name}`, () => assertClean(stalledRollout(c).s, o ?? {}));
  }

  it('clean: a complete rollout idle for an hour', () => {
    const s = running(3);
    s.update('foo', { image: 'foo/v2' });
    s.converge();
    s.advance(3_600_000);
    s.fold(clockTicked(s.ds().slot));
    assertClean(s);
  });

  it('observedGeneration behind (no controller wrote status for the new generation)', () => {
    const s = running(2);
    const applied = s.fold(dsApplied('foo', { uid: s.ds().uid, generation: 2, image: 'foo/v2' }));
    s.advance(61_000);
    const last = s.fold(clockTicked(0));
    const breaks = breaksOf(s);
    assert.deepEqual(summary(breaks), [{ kind: 'RolloutStalled', ds: 'default/foo', seqs: [applied.seq, last.seq] }]);
    assert.match(breaks[0]!.message, /observedGeneration 1\/2/);
  });
});

function podRefToReport(p: PodRecord): { node: string; namespace: string; podName: string; podUid: string } {
  return { node: p.node, namespace: p.namespace, podName: p.name, podUid: p.uid };
}

// ---- SequenceGap -----------------------------------------------------------------------------------------

describe('audit: SequenceGap', () => {
  it('one message missing', () => {
    const s = running(2);
    const log = s.log.filter((e) => e.seq !== 5);
    const breaks = audit(log).breaks;
    assert.deepEqual(summary(breaks), [{ kind: 'SequenceGap', seqs: [5] }]);
    assert.match(breaks[0]!.message, /^1 message missing from the log: seq 5 \(between 4 and 6\)/);
  });

  it('a run of three missing', () => {
    const s = running(2);
    const r = audit(s.log.filter((e) => e.seq < 5 || e.seq > 7));
    assert.deepEqual(summary(r.breaks), [{ kind: 'SequenceGap', seqs: [5, 7] }]);
    assert.match(r.breaks[0]!.message, /^3 messages missing from the log: seq 5\.\.7/);
    assert.equal(r.events, s.log.length - 3);
  });

  it('clean: a message set aside (undecodable) is a position seen, not a gap', () => {
    const s = running(2);
    const a = createAudit({ slots: SLOTS });
    for (const env of s.log) {
      if (env.seq === 5) a.skip(5, env.timeMs);
      else a.observe(env);
    }
    const r = a.finish();
    assert.deepEqual(r.breaks, []);
    assert.deepEqual(r.range, { fromSeq: 1, toSeq: s.log.length });
    assert.equal(r.events, s.log.length);
  });

  it('messages deleted at the tail: the log\'s last sequence given to finish() shows them', () => {
    const s = running(2);
    const n = s.log.length;
    const a = createAudit({ slots: SLOTS });
    for (const env of s.log.slice(0, n - 2)) a.observe(env);
    const r = a.finish(n);
    assert.deepEqual(summary(r.breaks), [{ kind: 'SequenceGap', seqs: [n - 1, n] }]);
    assert.match(r.breaks[0]!.message, new RegExp(`^2 messages missing from the log: seq ${n - 1}\\.\\.${n} \\(after ${n - 2}, at the end of the log\\)`));
    assert.deepEqual(r.range, { fromSeq: 1, toSeq: n });
    assert.deepEqual(createAudit({ slots: SLOTS }).finish(0).breaks, []);
    const whole = createAudit({ slots: SLOTS });
    for (const env of s.log) whole.observe(env);
    assert.deepEqual(whole.finish(n).breaks, []);
    const since = createAudit({ slots: SLOTS, sinceSeq: n });
    for (const env of s.log.slice(0, n - 2)) since.observe(env);
    assert.deepEqual(summary(since.finish(n).breaks), [{ kind: 'SequenceGap', seqs: [n] }]);
  });

  it('clean: a log that does not start at 1 (retention) has no gap before its first message', () => {
    const s = running(2);
    assertClean(s.log.slice(3));
  });
});

// ---- --since and --for -------------------------------------------------------------------------------------

describe('audit: --since folds earlier events but does not judge them', () => {
  /** A TwoLivePods break completed at `started`, with its second pod created at `created`. */
  function overlap(): { s: Scenario; created: number; started: number; first: number } {
    const s = running(1);
    const [p0] = s.podsOn('node-0');
    const extra = podCreateFor(s.ds(), 'node-0', 'foo-extra');
    const created = s.fold(extra).seq;
    s.advance(10_000);
    const started = s.fold(podStarted(podRefOf(extra))).seq;
    s.fold(podReady(podRefOf(extra)));
    return { s, created, started, first: p0!.createSeq };
  }

  it('a break completed inside the range is reported, with the earlier sequences that show it', () => {
    const { s, created, started, first } = overlap();
    const r = audit(s.log, { sinceSeq: started });
    assert.deepEqual(summary(r.breaks), [{ kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [first, created, started] }]);
    assert.deepEqual(r.range, { fromSeq: started, toSeq: s.log.length });
    assert.equal(r.events, s.log.length - started + 1);
  });

  it('a break completed before the range is not reported, nor again by later reports of its pods', () => {
    const { s, started } = overlap();
    assertClean(s, { sinceSeq: started + 1 });
  });

  it('by time: --since an RFC 3339 time or a duration becomes the first message at or after it', () => {
    const { s, started } = overlap();
    const startedMs = s.log[started - 1]!.timeMs;
    const r = audit(s.log, { sinceMs: startedMs });
    assert.equal(r.range.fromSeq, started);
    assert.deepEqual(summary(r.breaks).map((b) => b.kind), ['TwoLivePods']);
    assertClean(s, { sinceMs: startedMs + 1 });
  });

  it('a gap before the range is not judged; one straddling a sequence bound is cut at it', () => {
    const s = running(2);
    const log = s.log.filter((e) => e.seq < 5 || e.seq > 7);
    assertClean(log, { sinceSeq: 8 });
    assert.deepEqual(summary(audit(log, { sinceSeq: 6 }).breaks), [{ kind: 'SequenceGap', seqs: [6, 7] }]);
    assert.deepEqual(audit(log, { sinceSeq: 6 }).range.fromSeq, 6);
    // By time the missing messages' times are unknown: a gap right before the range is outside it.
    const later = log.map((e) => (e.seq >= 8 ? { ...e, timeMs: e.timeMs + 1_000 } : e));
    assertClean(later, { sinceMs: START_MS + 1_000 });
    assert.equal(audit(later, { sinceMs: START_MS + 1_000 }).range.fromSeq, 8);
    assert.deepEqual(summary(audit(later, { sinceMs: START_MS }).breaks), [{ kind: 'SequenceGap', seqs: [5, 7] }]);
  });

  it('nothing in the range: no breaks, no events, range 0..0', () => {
    const { s } = overlap();
    assert.deepEqual(audit(s.log, { sinceSeq: 10_000 }), { range: { fromSeq: 0, toSeq: 0 }, events: 0, breaks: [] });
  });
});

describe('audit: starting from a state (a log purged below its snapshot)', () => {
  it('judges what follows with the state\'s pods and epochs; a gap right after the state is seen', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    const slot = s.ds().slot;
    s.given(shardAcquired(slot, 1));
    s.converge();
    s.given(shardAcquired(slot, 2, 'controller-2'));
    const cut = s.state.seq;
    const [p0] = s.podsOn('node-0');
    const extra = withEpoch(podCreateFor(s.ds(), 'node-0', 'foo-extra'), 1);
    const created = s.fold(extra);
    const started = s.fold(podStarted(podRefOf(extra)));
    const a = createAudit({ slots: SLOTS }, { state: replay(s.log.slice(0, cut)) });
    for (const env of s.log.slice(cut)) a.observe(env);
    const r = a.finish();
    assert.deepEqual(summary(r.breaks), [
      { kind: 'StaleEpochApplied', ds: 'default/foo', node: 'node-0', seqs: [cut, created.seq, started.seq] },
      { kind: 'TwoLivePods', ds: 'default/foo', node: 'node-0', seqs: [p0!.createSeq, created.seq, started.seq] },
    ]);
    assert.deepEqual(r.range, { fromSeq: cut + 1, toSeq: started.seq });
    const gapped = createAudit({ slots: SLOTS }, { state: replay(s.log.slice(0, cut)) });
    for (const env of s.log.slice(cut + 1)) gapped.observe(env);
    assert.deepEqual(summary(gapped.finish().breaks)[0], { kind: 'SequenceGap', seqs: [cut + 1] });
  });
});

describe('audit: --for keeps one DaemonSet\'s breaks (and the log\'s gaps)', () => {
  it('breaks of another DaemonSet are left out', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'), dsApplied('bar', { templateLabels: { app: 'bar' } }));
    s.converge('foo');
    s.converge('bar');
    const extra = podCreateFor(s.ds('bar'), 'node-0', 'bar-extra');
    s.given(extra, podStarted(podRefOf(extra)));
    const drop = seqOf(s, (e) => e.type === 'DaemonSetStatusUpdated' && e.data.name === 'foo');
    const log = s.log.filter((e) => e.seq !== drop);
    assert.deepEqual(summary(audit(log).breaks).map((b) => b.kind), ['SequenceGap', 'TwoLivePods']);
    assert.deepEqual(summary(audit(log, { ds: 'default/bar' }).breaks).map((b) => `${b.kind} ${b.ds ?? ''}`), ['SequenceGap ', 'TwoLivePods default/bar']);
    assert.deepEqual(summary(audit(log, { ds: 'default/foo' }).breaks).map((b) => b.kind), ['SequenceGap']);
  });
});

// ---- whole rollouts ------------------------------------------------------------------------------------------

describe('audit: clean simulated rollouts give zero breaks', () => {
  /** Rolls foo out to a new image, advancing log time when only minReadySeconds stands in the way. */
  function rollout(nodes: number, o: DsOptions): Scenario {
    const s = running(nodes, o);
    const slot = s.ds().slot;
    s.advance(60_000);
    s.update('foo', { ...o, image: 'foo/v2' });
    for (let i = 0; i < 200; i++) {
      const d = s.step();
      const st = s.ds().status;
      if (!d.commands.length && st && st.updatedNumberScheduled === nodes && st.numberAvailable === nodes) return s;
      if (!d.commands.length) {
        s.advance(o.minReadySeconds ? o.minReadySeconds * 1000 + 1 : 1000);
        s.fold(clockTicked(slot));
      }
    }
    throw new Error('rollout did not finish');
  }

  const cases: [string, number, DsOptions][] = [
    ['maxUnavailable 1', 5, { maxUnavailable: 1 }],
    ['maxUnavailable 2', 5, { maxUnavailable: 2 }],
    ['maxUnavailable 50%', 6, { maxUnavailable: '50%' as IntOrString }],
    ['maxSurge 1', 5, { maxSurge: 1 }],
    ['maxSurge 2', 5, { maxSurge: 2 }],
    ['maxUnavailable 1, minReadySeconds 5', 4, { maxUnavailable: 1, minReadySeconds: 5 }],
    ['maxSurge 1, minReadySeconds 5', 4, { maxSurge: 1, minReadySeconds: 5 }],
  ];
  for (const [name, nodes, o] of cases) {
    it(name, () => {
      const s = rollout(nodes, o);
      const reason = o.maxSurge ? 'SurgeReplaced' : 'RollingUpdate';
      assert.ok(s.log.some((e) => e.event.type === 'PodDelete' && e.event.data.reason === reason), `the rollout's deletes are ${reason}`);
      assertClean(s);
      assert.equal(audit(s.log).events, s.log.length);
    });
  }

  it('property: rollouts decided by the real reconcile, agents answering late, out of order and flapping, audit clean', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = prng(seed);
      const nodes = 3 + Math.floor(rnd() * 5);
      const strategy: DsOptions = rnd() < 0.5 ? { maxSurge: 1 + Math.floor(rnd() * 2) } : { maxUnavailable: 1 + Math.floor(rnd() * 2) };
      const o: DsOptions = { ...strategy, minReadySeconds: rnd() < 0.5 ? 0 : 3 };
      const s = running(nodes, o);
      const slot = s.ds().slot;
      s.update('foo', { ...o, image: 'foo/v2' });
      let pending: PodCommand[] = [];
      let done = false;
      for (let i = 0; i < 1000 && !done; i++) {
        pending.push(...s.sync().commands);
        // Each agent acts on some of its commands now, in its node's order, the rest later.
        const later: PodCommand[] = [];
        const waiting = new Set<string>();
        for (const c of pending) {
          if (waiting.has(c.data.node) || rnd() < 0.4) {
            waiting.add(c.data.node);
            later.push(c);
          } else s.runAgents([c], { ready: rnd() < 0.6 });
        }
        pending = later;
        s.markPodsReady('foo', (p) => p.phase === 'Running' && rnd() < 0.5);
        if (rnd() < 0.15) {
          const ready = s.livePods().filter((p) => p.ready);
          const flap = ready[Math.floor(rnd() * ready.length)];
          if (flap) s.fold(podNotReady(flap, 'readiness probe failed'));
        }
        s.advance(500 + Math.floor(rnd() * 2500));
        s.fold(clockTicked(slot));
        const st = s.ds().status;
        done = pending.length === 0 && st !== undefined && st.updatedNumberScheduled === nodes && st.numberAvailable === nodes && s.livePods().length === nodes;
      }
      assert.ok(done, `seed ${seed}: the rollout did not finish`);
      const r = audit(s.log);
      assert.deepEqual(r.breaks, [], `seed ${seed} (${JSON.stringify(o)}, ${nodes} nodes):\n${r.breaks.map((b) => `${b.kind}: ${b.message}`).join('\n')}`);
    }
  });

  it('a clean rollout whose agents answer late still audits clean', () => {
    const s = running(4);
    s.update('foo', { image: 'foo/v2' });
    for (let i = 0; i < 100; i++) {
      const d = s.sync();
      if (!d.commands.length) break;
      s.advance(2_000);
      s.runAgents(d.commands, { ready: false });
      s.advance(2_000);
      for (const c of d.commands) if (c.type === 'PodCreate' && s.hasPod(podRefOf(c))) s.fold(podReady(podRefOf(c)));
    }
    assert.equal(s.ds().status?.updatedNumberScheduled, 4);
    assertClean(s);
  });
});
