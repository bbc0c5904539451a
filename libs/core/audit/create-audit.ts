// The judge behind `dsctl audit`: folds the log with the real `evolve` and reports every break of
// the invariants the system promises, each with the log sequences that show it. PURE: the only
// clock is the envelopes' stream time, so auditing the same log always gives the same report.
//
// It is fed envelopes in log order (`observe`) and the positions of messages that were set aside
// (`skip`). Around each fold it looks at the state just before and just after, and keeps the
// side-tables the state does not hold: every command with its epoch and what became of it, the
// epoch of every slot (ShardAcquired) and of every node's command feed, the pods as their agents
// report them, when each DaemonSet last saw activity. This module drives the fold and says, per
// event, which checker learns what; each checker keeps its own side-tables.

import { isPodReport } from '../../events/event-table.js';
import type { Envelope } from '../../events/types.js';
import { evolve, skipPosition } from '../evolve.js';
import { dsKey, initialState, type State } from '../state.js';
import { budgetCheck } from './budget.js';
import { commandLedger } from './commands.js';
import { assertNever } from './kinds.js';
import { livePodsCheck } from './live-pods.js';
import { logRange } from './range.js';
import { DEFAULT_STALL_AFTER_MS, stallCheck } from './stalls.js';
import type { Audit, AuditBreak, AuditOptions, AuditReport } from './types.js';
import { eligibleNodes, podOf } from './view.js';

/** The break with its sequences distinct and ascending, as AuditBreak promises. */
function ordered(b: AuditBreak): AuditBreak {
  return { ...b, seqs: [...new Set(b.seqs)].sort((x, y) => x - y) };
}

/**
 * `from`: a state to start from (a snapshot, when the log was purged below it); the audit takes
 * it over. What the side-tables would have learnt before it is unknown: slots start at the epochs
 * the state records, every DaemonSet as active at the state's position.
 */
export function createAudit(opts: AuditOptions, from?: { readonly state: State }): Audit {
  const state = from?.state ?? initialState();
  const breaks: AuditBreak[] = [];
  const range = logRange(opts, from ? { seq: state.seq, timeMs: state.lastTimeMs } : undefined);
  const eligible = eligibleNodes(state);
  const commands = commandLedger(state);
  const livePods = livePodsCheck(state);
  const budget = budgetCheck(state, eligible);
  const stalls = stallCheck(state, eligible, budget.rolledOffOf, opts.stallAfterMs ?? DEFAULT_STALL_AFTER_MS, from !== undefined);

  /** The node's agent starts over (new incarnation) or leaves: its pods are gone, its unseen commands never run. */
  const nodeStartsOver = (node: string): void => {
    commands.nodeStartsOver(node);
    budget.nodeStartsOver(node);
  };

  const observe = (env: Envelope): void => {
    const gap = range.position(env.seq, env.timeMs);
    if (gap) breaks.push(ordered(gap));
    const judged = range.judging;
    /** Breaks found while judging count; outside the range the checkers only learn. */
    const found = (...bs: readonly (AuditBreak | undefined)[]): void => {
      if (judged) for (const b of bs) if (b) breaks.push(ordered(b));
    };
    const e = env.event;

    // Before the fold: what the event meets. Every pod event but PodCreate names its pod by
    // namespace, name and uid.
    const pod = 'podUid' in e.data ? podOf(state, e.data.namespace, e.data.podName, e.data.podUid) : undefined;
    const owner = pod?.owner?.uid;
    /** For the events that may start a pod running (or stop it terminating): whether it already was. */
    let wasLive = true;
    switch (e.type) {
      case 'PodCreate':
        commands.issued(env, e);
        break;
      case 'PodDelete':
        commands.issued(env, e);
        found(budget.deleteIssued(env, e.data, pod, judged));
        break;
      case 'PodNotReady':
      case 'PodFailed':
        budget.unreadyReported(env.seq, pod);
        break;
      case 'PodStarted':
      case 'PodReady':
        wasLive = pod?.phase === 'Running';
        if (e.type === 'PodReady') budget.readyReported(env.seq, pod);
        break;
      case 'CommandRejected':
        wasLive = pod?.deletionMs === undefined;
        break;
      case 'NodeRegistered': {
        const node = state.nodes.get(e.data.node);
        if (node && node.incarnation !== e.data.incarnation) nodeStartsOver(e.data.node);
        eligible.topologyChanged();
        break;
      }
      case 'NodeDeregistered':
        if (state.nodes.get(e.data.node)?.incarnation === e.data.incarnation) nodeStartsOver(e.data.node);
        eligible.topologyChanged();
        break;
      case 'NodeLabelsSet':
      case 'NodeTaintsSet':
      case 'NodeUnschedulableSet':
      case 'NodeReady':
      case 'NodeNotReady':
        eligible.topologyChanged();
        break;
      case 'PodSucceeded':
      case 'PodDeleted':
      case 'PodDeleteRequested':
      case 'DaemonSetApplied':
      case 'DaemonSetDeleted':
      case 'DaemonSetStatusUpdated':
      case 'NamespaceCreated':
      case 'NamespaceDeleted':
      case 'ClockTicked':
      case 'ShardAcquired':
        break;
      default:
        assertNever(e);
    }

    // Whatever touches a DaemonSet's pods on a node may change that node's availability.
    if (e.type === 'PodCreate') budget.touched(e.data.ds.uid, e.data.node);
    else if (e.type === 'PodDelete' || isPodReport(e)) budget.touched(owner, e.data.node);
    else if (e.type === 'DaemonSetApplied') budget.specChanged(e.data.uid);

    evolve(state, env, { slots: opts.slots });

    // After the fold: what the event did.
    switch (e.type) {
      case 'PodCreate': {
        budget.podCreated(e.data.ds.uid, e.data.node);
        const ds = state.daemonSets.get(dsKey(e.data.ds.namespace, e.data.ds.name));
        livePods.created(e.data.pod.uid, ds && ds.uid === e.data.ds.uid ? ds : undefined);
        stalls.active(e.data.ds.uid, env);
        break;
      }
      case 'PodDelete':
      case 'PodDeleteRequested':
        stalls.active(owner, env);
        break;
      case 'PodStarted':
      case 'PodReady':
      case 'PodNotReady':
      case 'PodFailed':
      case 'PodSucceeded': {
        found(...commands.podReported(env, e.data.node, e.data.podUid));
        // Judged when a pod begins to run, by the DaemonSet's strategy then: a later change of
        // maxSurge does not turn a rollout already under way into a break.
        const running = wasLive ? undefined : podOf(state, e.data.namespace, e.data.podName, e.data.podUid);
        if (running) found(livePods.check(env, running));
        stalls.active(owner, env);
        break;
      }
      case 'PodDeleted':
        found(...commands.podDeleted(env, e.data.node, e.data.podUid));
        stalls.active(owner, env);
        break;
      case 'CommandRejected': {
        commands.rejected(e.data);
        if (e.data.commandType === 'PodDelete' && !wasLive) {
          // A refused delete leaves the pod running and no longer terminating.
          const running = podOf(state, e.data.namespace, e.data.podName, e.data.podUid);
          if (running) found(livePods.check(env, running));
        }
        stalls.active(owner, env);
        break;
      }
      case 'ShardAcquired':
        commands.shardAcquired(env, e.data);
        break;
      case 'DaemonSetApplied':
      case 'DaemonSetDeleted':
      case 'DaemonSetStatusUpdated':
        stalls.active(e.data.uid, env);
        break;
      default:
        break;
    }
  };

  return {
    state,
    observe,
    skip(seq: number, timeMs: number): void {
      const gap = range.position(seq, timeMs);
      if (gap) breaks.push(ordered(gap));
      skipPosition(state, seq);
    },
    finish(endSeq?: number): AuditReport {
      const tail = range.tail(endSeq);
      const stalled = range.judging ? stalls.stalled({ seq: range.lastSeen, timeMs: range.lastSeenMs }) : [];
      const all = [...breaks, ...[...(tail ? [tail] : []), ...stalled].map(ordered)];
      const mine = opts.ds === undefined ? all : all.filter((b) => b.ds === opts.ds || b.kind === 'SequenceGap');
      return { ...range.summary(), breaks: mine };
    },
  };
}

/** Audits a whole log given as envelopes (tests, and any caller that holds the log in memory). */
export function auditLog(log: readonly Envelope[], opts: AuditOptions): AuditReport {
  const audit = createAudit(opts);
  for (const env of log) audit.observe(env);
  return audit.finish();
}
