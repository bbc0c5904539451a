// The judge behind `dsctl audit`: folds the log with the real `evolve` and reports every break of
// the invariants the system promises, each with the log sequences that show it. PURE: the only
// clock is the envelopes' stream time, so auditing the same log always gives the same report.
//
// It is fed envelopes in log order (`observe`) and the positions of messages that were set aside
// (`skip`). Around each fold it looks at the state just before and just after, and keeps the
// side-tables the state does not hold: every command with its epoch and what became of it, the
// epoch of every slot (ShardAcquired) and of every node's command feed, the pods as their agents
// report them, when each DaemonSet last saw activity.
//
// What the agent did with a command is observable only through its reports (services/agent):
// a create it acted on is followed by reports about that pod (PodStarted, PodReady, ...), a
// delete by PodDeleted, a refusal by CommandRejected naming the command id, and a command it
// ignored (a duplicate create of a pod it runs or has deleted) by nothing at all. The agent acts
// on its node's commands strictly in log order, one at a time.

import type { Envelope, PodCommand, PodDelete } from '../events/types.js';
import { evolve, skipPosition } from './evolve.js';
import { isUpdated, noExecuteDeadline, podsOnNode, verdictFor } from './daemon-view.js';
import { rollingBudget, scaledValue } from './reconcile.js';
import { computeStatus, isPodAvailable } from './status.js';
import { dsKey, initialState, podKey, type DsRecord, type PodRecord, type State } from './state.js';

export type BreakKind = 'TwoLivePods' | 'BudgetExceeded' | 'CommandAppliedTwice' | 'StaleEpochApplied' | 'RolloutStalled' | 'SequenceGap';

export const BREAK_KINDS: readonly BreakKind[] = ['TwoLivePods', 'BudgetExceeded', 'CommandAppliedTwice', 'StaleEpochApplied', 'RolloutStalled', 'SequenceGap'];

/** One break of an invariant. `seqs` are log sequences, ascending; `ds` is `namespace/name`. */
export interface AuditBreak {
  readonly kind: BreakKind;
  readonly ds?: string;
  readonly node?: string;
  readonly seqs: readonly number[];
  readonly message: string;
}

export interface AuditReport {
  /** The audited range: the first and last log positions judged (0/0 when none was). */
  readonly range: { readonly fromSeq: number; readonly toSeq: number };
  /** Messages read in the range (events folded plus messages set aside). */
  readonly events: number;
  readonly breaks: readonly AuditBreak[];
}

export interface AuditOptions {
  /** Slot count of the topology (the fold records each DaemonSet's slot). */
  readonly slots: number;
  /** Judge from this sequence on; earlier events are folded but not judged. */
  readonly sinceSeq?: number;
  /** Judge from the first message at or after this stream time (ms) on. */
  readonly sinceMs?: number;
  /** Only breaks of this DaemonSet (`namespace/name`); SequenceGap breaks are kept (a gap may hide its events). */
  readonly ds?: string;
  /** A rollout idle this long (log time, ms) to the end of the log, with no recorded reason, is stalled (default 60 s). */
  readonly stallAfterMs?: number;
}

export interface Audit {
  /** The state folded so far (the audit owns it). */
  readonly state: State;
  /** Folds one envelope, in log order, and judges it. */
  observe(env: Envelope): void;
  /** A position of the log whose message was set aside (undecodable, invalid): seen, so not a gap. */
  skip(seq: number, timeMs: number): void;
  /**
   * The breaks found so far, plus the stalled rollouts at the end of what was observed. `endSeq`,
   * the log's last sequence when it was read: positions after the last message seen up to it
   * are missing too (messages deleted at the tail).
   */
  finish(endSeq?: number): AuditReport;
}

export const DEFAULT_STALL_AFTER_MS = 60_000;
/** `"true"` on a DaemonSet: no pod is updated (CONTRACT.md); a paused rollout is not stalled. */
export const PAUSED_ANNOTATION = 'daemonset-js.io/paused';
const ROLLING_UPDATE_REASON = 'RollingUpdate';
/**
 * Deletes of a rollout: rollingUpdate's, and with surge manage's replacement of an old pod
 * (podsShouldBeOnNode), which is how a surge rollout takes old pods down.
 */
const ROLLOUT_DELETE_REASONS: ReadonlySet<string> = new Set([ROLLING_UPDATE_REASON, 'SurgeReplaced']);
/** A break names at most this many sequences (a budget broken during an outage could name hundreds). */
const MAX_SEQS = 20;

/** What a break of each kind means, for help texts. */
export function breakMeaning(kind: BreakKind): string {
  switch (kind) {
    case 'TwoLivePods':
      return 'more than one running pod of a DaemonSet on one node (with maxSurge > 0: two, of different revisions, not terminating)';
    case 'BudgetExceeded':
      return 'the rolling update (RollingUpdate, SurgeReplaced) deleted an available pod while maxUnavailable nodes were already unavailable';
    case 'CommandAppliedTwice':
      return 'one PodCreate command id acted on twice by agents (two pods, or a deleted pod run again)';
    case 'StaleEpochApplied':
      return "an agent acted on a command whose epoch was already superseded for its slot (ShardAcquired, or a newer command to that node)";
    case 'RolloutStalled':
      return 'a rollout incomplete at the end of the log and idle longer than --stall-after, with no recorded reason';
    case 'SequenceGap':
      return 'log sequences missing between two messages (deleted or lost)';
    default:
      return assertNever(kind);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled break kind ${JSON.stringify(x)}`);
}

// ---- side-tables ---------------------------------------------------------------------------------

interface StaleBy {
  readonly epoch: number;
  readonly seq: number;
  readonly what: string;
}

interface CommandInfo {
  readonly type: PodCommand['type'];
  readonly id: string;
  readonly seq: number;
  readonly epoch: number;
  readonly slot: number;
  readonly node: string;
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  /** The owning DaemonSet (`namespace/name`) when known. */
  readonly ds?: string;
  /** Set when the command's epoch was already superseded where it stands in the log. */
  readonly staleBy?: StaleBy;
  /** The report that shows the agent acted on it, and its type. */
  applied?: { readonly seq: number; readonly by: string };
}

/** A pod as its node's agent sees it (keyed by node and uid: the agent's view is per node, by uid). */
interface PodTrack {
  readonly node: string;
  /** 'none': no application seen yet; 'running': the agent acted on a create; 'gone': deleted, or its node came back as a new incarnation. */
  state: 'none' | 'running' | 'gone';
  /** Creates of this pod not yet acted on or refused, in log order. */
  pendingCreates: CommandInfo[];
  /** Deletes of this pod not yet answered, in log order (the agent answers each, in order). */
  pendingDeletes: CommandInfo[];
}

interface Activity {
  readonly seq: number;
  readonly timeMs: number;
}

/**
 * `from`: a state to start from (a snapshot, when the log was purged below it); the audit takes
 * it over. What the side-tables would have learnt before it is unknown: slots start at the epochs
 * the state records, every DaemonSet as active at the state's position.
 */
export function createAudit(opts: AuditOptions, from?: { readonly state: State }): Audit {
  const state = from?.state ?? initialState();
  const stallAfterMs = opts.stallAfterMs ?? DEFAULT_STALL_AFTER_MS;
  const breaks: AuditBreak[] = [];

  // Range and gaps.
  let judging = false;
  let fromSeq = 0;
  let toSeq = 0;
  let events = 0;
  let lastSeen = 0;
  let lastSeenMs = 0;

  // Epochs: the newest ShardAcquired per slot; the highest command epoch per node and slot (what its agent fences with).
  const shardEpochs = new Map<number, StaleBy>();
  const nodeEpochs = new Map<string, Map<number, StaleBy>>();
  // Commands and pods as agents act on them.
  const createsById = new Map<string, CommandInfo[]>();
  const tracks = new Map<string, PodTrack>();
  const tracksByNode = new Map<string, Set<string>>();
  // Rolling-update bookkeeping.
  const deleteSeqOf = new Map<string, number>();
  const unreadySeqOf = new Map<string, number>();
  const readySeqOf = new Map<string, number>();
  /** Pod uid → whether its DaemonSet allowed surge when the pod was created (the rule its start is judged by). */
  const surgeAtCreate = new Map<string, boolean>();
  /** DaemonSet uid → node → seq of the RollingUpdate delete, until a pod of it is created there again (evolve's rolledOff). */
  const rolledOff = new Map<string, Map<string, number>>();
  const lastActivity = new Map<string, Activity>();
  /** TwoLivePods already reported (or begun before the range), by owner, node and pod uids. */
  const overlaps = new Set<string>();
  // Eligible nodes per DaemonSet, recomputed when a node or the DaemonSet's spec changes.
  let topologyVersion = 0;
  const eligibleCache = new Map<string, { version: number; spec: DsRecord['spec']; nodes: Set<string> }>();

  if (from) {
    lastSeen = state.seq;
    lastSeenMs = state.lastTimeMs;
    for (const shard of state.shards.values()) shardEpochs.set(shard.slot, { epoch: shard.epoch, seq: state.seq, what: `ShardAcquired by ${shard.owner}, before the state started from` });
    for (const ds of state.daemonSets.values()) lastActivity.set(ds.uid, { seq: state.seq, timeMs: state.lastTimeMs });
  }

  const emit = (b: AuditBreak): void => {
    breaks.push({ ...b, seqs: [...new Set(b.seqs)].sort((x, y) => x - y) });
  };

  /**
   * The gap of the positions after `lastSeen` up to `hi` (the message after it at `next`, or the
   * log's end), if it lies inside the range; it widens the range to cover it.
   */
  const gapBefore = (hi: number, next: number | undefined, wasJudging: boolean, nowJudging: boolean): AuditBreak | undefined => {
    const lo = Math.max(lastSeen + 1, opts.sinceSeq ?? 0);
    // With a time bound the missing messages' times are unknown: only gaps inside the range count.
    const inside = opts.sinceMs !== undefined ? wasJudging : nowJudging && lo <= hi;
    if (!inside || lo > hi) return undefined;
    if (lo < fromSeq || fromSeq === 0) fromSeq = lo;
    toSeq = Math.max(toSeq, hi);
    const n = hi - lo + 1;
    const where = next !== undefined ? `between ${lastSeen} and ${next}` : `after ${lastSeen}, at the end of the log`;
    return {
      kind: 'SequenceGap',
      seqs: lo === hi ? [lo] : [lo, hi],
      message:
        `${n} message${n === 1 ? '' : 's'} missing from the log: seq ${lo === hi ? lo : `${lo}..${hi}`} (${where}); ` +
        'deleted from the stream or lost with a server: every state folded from this log lacks what it held',
    };
  };

  /** Marks a log position seen; reports the sequences missing before it. */
  const position = (seq: number, timeMs: number): void => {
    const wasJudging = judging;
    if (!judging && seq >= (opts.sinceSeq ?? 0) && timeMs >= (opts.sinceMs ?? Number.NEGATIVE_INFINITY)) {
      judging = true;
      fromSeq = seq;
    }
    if (lastSeen > 0 && seq > lastSeen + 1) {
      const gap = gapBefore(seq - 1, seq, wasJudging, judging);
      if (gap) emit(gap);
    }
    if (seq > lastSeen) {
      lastSeen = seq;
      lastSeenMs = Math.max(lastSeenMs, timeMs);
    }
    if (judging) {
      events++;
      toSeq = Math.max(toSeq, seq);
    }
  };

  const liveDsOf = (namespace: string, owner: PodRecord['owner']): DsRecord | undefined => {
    if (!owner) return undefined;
    const ds = state.daemonSets.get(dsKey(namespace, owner.name));
    return ds && ds.uid === owner.uid ? ds : undefined;
  };

  const podOf = (namespace: string, name: string, uid: string): PodRecord | undefined => {
    const pod = state.pods.get(podKey(namespace, name));
    return pod && pod.uid === uid ? pod : undefined;
  };

  const eligibleNodes = (ds: DsRecord): Set<string> => {
    const cached = eligibleCache.get(ds.uid);
    if (cached && cached.version === topologyVersion && cached.spec === ds.spec) return cached.nodes;
    const nodes = new Set<string>();
    // As reconcile sees them: a NoExecute taint tolerated only for a while makes a node one that
    // should not run a (new) pod.
    for (const node of state.nodes.values()) if (verdictFor(ds, node).shouldRun && noExecuteDeadline(ds, node) === undefined) nodes.add(node.name);
    eligibleCache.set(ds.uid, { version: topologyVersion, spec: ds.spec, nodes });
    return nodes;
  };

  const trackOf = (node: string, uid: string): PodTrack => {
    const key = `${node}\u0000${uid}`;
    let t = tracks.get(key);
    if (!t) {
      t = { node, state: 'none', pendingCreates: [], pendingDeletes: [] };
      tracks.set(key, t);
      let keys = tracksByNode.get(node);
      if (!keys) tracksByNode.set(node, (keys = new Set()));
      keys.add(key);
    }
    return t;
  };

  /** The node's agent starts over (new incarnation) or leaves: its pods are gone, its unseen commands never run. */
  const nodeStartsOver = (node: string): void => {
    for (const key of tracksByNode.get(node) ?? []) {
      const t = tracks.get(key)!;
      if (t.state === 'running') t.state = 'gone';
      t.pendingCreates = [];
      t.pendingDeletes = [];
    }
    nodeEpochs.delete(node);
    for (const byNode of rolledOff.values()) byNode.delete(node);
    for (const nodes of stable.values()) nodes.delete(node);
  };

  // ---- commands and what agents did with them ----------------------------------------------------

  const recordCommand = (env: Envelope, cmd: PodCommand): CommandInfo => {
    const d = cmd.data;
    const shard = shardEpochs.get(d.slot);
    const seen = nodeEpochs.get(d.node)?.get(d.slot);
    const staleBy = shard && d.epoch < shard.epoch ? shard : seen && d.epoch < seen.epoch ? seen : undefined;
    let epochs = nodeEpochs.get(d.node);
    if (!epochs) nodeEpochs.set(d.node, (epochs = new Map()));
    if (!seen || d.epoch > seen.epoch) {
      epochs.set(d.slot, { epoch: d.epoch, seq: env.seq, what: `${cmd.type} ${d.id} (epoch ${d.epoch}) to node ${d.node}` });
    }
    let ds: string | undefined;
    let pod: { namespace: string; podName: string; podUid: string };
    if (cmd.type === 'PodCreate') {
      ds = dsKey(cmd.data.ds.namespace, cmd.data.ds.name);
      pod = { namespace: cmd.data.pod.namespace, podName: cmd.data.pod.name, podUid: cmd.data.pod.uid };
    } else {
      const target = podOf(cmd.data.namespace, cmd.data.podName, cmd.data.podUid);
      if (target?.owner) ds = dsKey(target.namespace, target.owner.name);
      pod = { namespace: cmd.data.namespace, podName: cmd.data.podName, podUid: cmd.data.podUid };
    }
    return {
      type: cmd.type,
      id: d.id,
      seq: env.seq,
      epoch: d.epoch,
      slot: d.slot,
      node: d.node,
      ...pod,
      ...(ds !== undefined ? { ds } : {}),
      ...(staleBy ? { staleBy } : {}),
    };
  };

  const judgeApplied = (cmd: CommandInfo, judged: boolean): void => {
    if (!judged) return;
    if (cmd.staleBy && cmd.applied) {
      emit({
        kind: 'StaleEpochApplied',
        ...(cmd.ds !== undefined ? { ds: cmd.ds } : {}),
        node: cmd.node,
        seqs: [cmd.staleBy.seq, cmd.seq, cmd.applied.seq],
        message:
          `${cmd.type} ${cmd.id} of epoch ${cmd.epoch} for pod ${cmd.podName} was acted on (${cmd.applied.by} at seq ${cmd.applied.seq}) ` +
          `although slot ${cmd.slot} had moved to epoch ${cmd.staleBy.epoch} at seq ${cmd.staleBy.seq} (${cmd.staleBy.what}): ` +
          'a deposed controller decided; the agent should have answered CommandRejected',
      });
    }
    if (cmd.type !== 'PodCreate' || !cmd.applied) return;
    const earlier = (createsById.get(cmd.id) ?? []).find((o) => o !== cmd && o.applied !== undefined);
    if (!earlier?.applied) return;
    const samePod = earlier.podUid === cmd.podUid && earlier.node === cmd.node;
    emit({
      kind: 'CommandAppliedTwice',
      ...(cmd.ds !== undefined ? { ds: cmd.ds } : {}),
      node: cmd.node,
      seqs: [earlier.seq, earlier.applied.seq, cmd.seq, cmd.applied.seq],
      message: samePod
        ? `PodCreate ${cmd.id} ran pod ${cmd.podName} again (${cmd.applied.by} at seq ${cmd.applied.seq}) after it had run (seq ${earlier.applied.seq}) and was gone: ` +
          'a duplicate create (past the server\'s de-duplication window) brought a deleted pod back'
        : `PodCreate ${cmd.id} made two pods: ${earlier.podName} on ${earlier.node} (run at seq ${earlier.applied.seq}) and ${cmd.podName} on ${cmd.node} ` +
          `(run at seq ${cmd.applied.seq}); one command id must make one pod`,
    });
  };

  /** An agent report about a pod (anything but CommandRejected and PodDeleted): the pod runs. */
  const podReported = (env: Envelope, node: string, uid: string, judged: boolean): void => {
    const t = trackOf(node, uid);
    const first = t.pendingCreates[0];
    // The first create not refused is the one the agent acted on; the others it ignored ("already running").
    t.pendingCreates = [];
    if (t.state === 'running' && !first) return;
    t.state = 'running';
    if (!first) return;
    first.applied = { seq: env.seq, by: env.event.type };
    judgeApplied(first, judged);
  };

  // ---- TwoLivePods ---------------------------------------------------------------------------------

  const surgeOf = (ds: DsRecord | undefined): boolean => {
    const s = ds?.spec.updateStrategy;
    return s !== undefined && s.type === 'RollingUpdate' && scaledValue(s.rollingUpdate.maxSurge, 1) > 0;
  };

  const checkLivePods = (env: Envelope, pod: PodRecord, judged: boolean): void => {
    if (!pod.owner || pod.phase !== 'Running') return;
    // Judged by the strategy in force when the controller created the pod: turning maxSurge off
    // while a replacement is on its way does not make its start a break.
    const surge = surgeAtCreate.get(pod.uid) ?? surgeOf(liveDsOf(pod.namespace, pod.owner));
    const live: PodRecord[] = [];
    for (const key of state.podsByOwner.get(pod.owner.uid)?.get(pod.node) ?? []) {
      const p = state.pods.get(key);
      // A terminating pod still runs; only with surge does the controller look past it (as Kubernetes does).
      if (p && p.phase === 'Running' && (!surge || p.deletionMs === undefined)) live.push(p);
    }
    const broken = surge ? live.length > 2 || (live.length === 2 && live[0]!.hash === live[1]!.hash) : live.length > 1;
    if (!broken) return;
    live.sort((a, b) => a.createSeq - b.createSeq);
    const signature = `${pod.owner.uid}/${pod.node}/${live.map((p) => p.uid).sort().join(',')}`;
    if (overlaps.has(signature)) return;
    overlaps.add(signature);
    if (!judged) return;
    const name = dsKey(pod.namespace, pod.owner.name);
    const rule = surge
      ? 'with maxSurge > 0 at most two may run, an old one and its replacement'
      : 'its maxSurge is 0, so at most one may run (a replacement only after the old pod is gone)';
    emit({
      kind: 'TwoLivePods',
      ds: name,
      node: pod.node,
      seqs: [...live.map((p) => p.createSeq), env.seq],
      message:
        `${live.length} running pods of ${name} on ${pod.node}: ${live.map((p) => `${p.name} (hash ${p.hash}, created at seq ${p.createSeq}${p.deletionMs !== undefined ? ', terminating' : ''})`).join(', ')}; ` +
        `the last began running at seq ${env.seq}; ${rule}`,
    });
  };

  // ---- BudgetExceeded --------------------------------------------------------------------------------

  interface Down {
    readonly node: string;
    readonly why: string;
    readonly seq?: number;
    /** The cause is a pod that was ready and went unready at this seq (an unplanned disruption). */
    readonly unreadySince?: number;
  }

  /**
   * Why `node` counts as unavailable for `ds` now, or undefined when it is available. Mirrors
   * reconcile's rollingUpdate count (maxSurge 0: findUpdatedPodsOnNode and IsPodAvailable); with
   * surge a node is available when one of its pods that is not terminating is.
   */
  const nodeDown = (ds: DsRecord, node: string, surge: boolean, nowMs: number, except?: PodRecord): Down | undefined => {
    const minReady = ds.spec.minReadySeconds;
    const running: PodRecord[] = [];
    let terminating: PodRecord | undefined;
    for (const key of state.podsByOwner.get(ds.uid)?.get(node) ?? []) {
      const p = state.pods.get(key);
      if (!p || p === except) continue;
      if (p.deletionMs === undefined) running.push(p);
      else terminating ??= p;
    }
    const unready = (p: PodRecord): Down | undefined => {
      if (isPodAvailable(p, minReady, nowMs)) return undefined;
      if (p.ready && p.phase === 'Running') return { node, why: `pod ${p.name} ready for less than minReadySeconds (${minReady}s)`, seq: readySeqOf.get(p.uid) ?? p.createSeq };
      const since = unreadySeqOf.get(p.uid);
      return { node, why: `pod ${p.name} not available`, seq: since ?? p.createSeq, ...(since !== undefined ? { unreadySince: since } : {}) };
    };
    if (running.length === 0) {
      const seq = terminating ? deleteSeqOf.get(terminating.uid) : rolledOff.get(ds.uid)?.get(node);
      return { node, why: terminating ? `pod ${terminating.name} terminating` : 'no pod', ...(seq !== undefined ? { seq } : {}) };
    }
    if (surge) {
      const downs = running.map(unready);
      return downs.some((x) => x === undefined) ? undefined : downs[0];
    }
    if (running.length > 1) {
      running.sort((a, b) => a.createSeq - b.createSeq);
      const updated = running.filter((p) => isUpdated(ds, p)).length;
      const why = updated === running.length ? 'two updated pods' : updated === 0 ? 'two old pods' : 'an old and an updated pod';
      return { node, why, seq: running[running.length - 1]!.createSeq };
    }
    return unready(running[0]!);
  };

  /**
   * Nodes found available (pods ready past minReadySeconds), per DaemonSet uid and mode: time
   * only makes pods more available, so they stay so until an event touches that DaemonSet's pods
   * on that node, the node starts over, or the DaemonSet's spec changes. Saves re-judging a
   * whole fleet at every delete of a rollout.
   */
  const stable = new Map<string, Set<string>>();
  const unstable = (dsUid: string | undefined, node: string): void => {
    if (dsUid === undefined) return;
    stable.get(`${dsUid}|surge`)?.delete(node);
    stable.get(`${dsUid}|`)?.delete(node);
  };

  const checkBudget = (env: Envelope, d: PodDelete['data']): void => {
    const pod = podOf(d.namespace, d.podName, d.podUid);
    if (!pod || pod.deletionMs !== undefined) return;
    const ds = liveDsOf(pod.namespace, pod.owner);
    if (!ds || ds.deletion || ds.spec.updateStrategy.type !== 'RollingUpdate') return;
    const nowMs = env.timeMs;
    // Kubernetes deletes an old pod that is already unavailable whatever the budget.
    if (!isPodAvailable(pod, ds.spec.minReadySeconds, nowMs)) return;
    const eligible = eligibleNodes(ds);
    const { maxSurge, maxUnavailable } = rollingBudget(ds.spec.updateStrategy.rollingUpdate, eligible.size);
    const surge = maxSurge > 0;
    if (surge && !eligible.has(pod.node)) return; // not a node the DaemonSet must run on
    // The delete takes the node down only if nothing else there keeps it available.
    if (nodeDown(ds, pod.node, surge, nowMs) !== undefined) return;
    if (nodeDown(ds, pod.node, surge, nowMs, pod) === undefined) return;
    const stableKey = `${ds.uid}|${surge ? 'surge' : ''}`;
    let known = stable.get(stableKey);
    if (!known) stable.set(stableKey, (known = new Set()));
    const down: Down[] = [];
    const judge = (node: string): void => {
      if (node === pod.node || known.has(node)) return;
      const why = nodeDown(ds, node, surge, nowMs);
      if (!why) known.add(node);
      // A pod that went unready after the decision (causeSeq) is an unplanned disruption the
      // controller could not see: not held against the rollout.
      else if (why.unreadySince === undefined || why.unreadySince <= d.causeSeq) down.push(why);
    };
    // reconcile's node list: eligible nodes, and (maxSurge 0) every node holding a pod of it.
    for (const node of eligible) judge(node);
    const byNode = state.podsByOwner.get(ds.uid);
    if (!surge) for (const node of byNode?.keys() ?? []) if (!eligible.has(node)) judge(node);
    if (!surge) {
      // Nodes this rollout took down that went NotReady since still count (evolve's rolledOff).
      for (const [node, seq] of rolledOff.get(ds.uid) ?? []) {
        if (node !== pod.node && !eligible.has(node) && !byNode?.has(node) && state.nodes.get(node)?.ready !== 'True') down.push({ node, why: 'rolled off, now NotReady', seq });
      }
    }
    if (down.length < maxUnavailable) return;
    const name = dsKey(ds.namespace, ds.name);
    const shown = down.slice(0, 5).map((x) => `${x.node}: ${x.why}${x.seq !== undefined ? ` (seq ${x.seq})` : ''}`).join('; ');
    emit({
      kind: 'BudgetExceeded',
      ds: name,
      node: pod.node,
      seqs: [...down.flatMap((x) => (x.seq !== undefined ? [x.seq] : [])).slice(0, MAX_SEQS - 1), env.seq],
      message:
        `the rolling update deleted available pod ${pod.name} on ${pod.node} (${d.reason}) at seq ${env.seq} while ${down.length} node${down.length === 1 ? ' was' : 's were'} ` +
        `already unavailable (${shown}${down.length > 5 ? `; and ${down.length - 5} more` : ''}) and maxUnavailable is ${maxUnavailable}: ` +
        `more nodes down than the budget; the decision was made at seq ${d.causeSeq} (dsctl replay --at ${d.causeSeq} get pods)`,
    });
  };

  // ---- RolloutStalled ------------------------------------------------------------------------------

  /** A recorded reason why the rollout of `ds` may stand still, or undefined. */
  const stallReason = (ds: DsRecord): string | undefined => {
    if (ds.deletion) return 'being deleted';
    if (ds.spec.updateStrategy.type === 'OnDelete') return 'OnDelete';
    if (ds.annotations[PAUSED_ANNOTATION] === 'true') return 'paused';
    const byNode = state.podsByOwner.get(ds.uid);
    for (const node of byNode?.keys() ?? []) {
      for (const p of podsOnNode(state, ds, node)) {
        if (p.phase === 'Failed') return `pod ${p.name} failed`;
        if (!p.ready && p.deletionMs === undefined && (p.restartCount > 0 || p.lastReason !== undefined)) return `pod ${p.name} not ready (${p.lastReason ?? 'restarting'})`;
      }
    }
    const eligible = eligibleNodes(ds);
    const off = rolledOff.get(ds.uid);
    for (const node of state.nodes.values()) {
      if (node.ready === 'True') continue;
      if (byNode?.has(node.name) || eligible.has(node.name) || off?.has(node.name)) return `node ${node.name} NotReady`;
    }
    return undefined;
  };

  const stalled = (): AuditBreak[] => {
    if (!judging) return [];
    const out: AuditBreak[] = [];
    for (const ds of state.daemonSets.values()) {
      const act = lastActivity.get(ds.uid);
      if (!act) continue;
      const idleMs = lastSeenMs - act.timeMs;
      if (idleMs <= stallAfterMs) continue;
      const { status } = computeStatus(state, ds, undefined, state.lastTimeMs, ds.generation);
      const observed = ds.status?.observedGeneration ?? 0;
      const desired = status.desiredNumberScheduled;
      if (status.updatedNumberScheduled >= desired && status.numberAvailable >= desired && observed >= ds.generation) continue;
      if (stallReason(ds) !== undefined) continue;
      const name = dsKey(ds.namespace, ds.name);
      out.push({
        kind: 'RolloutStalled',
        ds: name,
        seqs: [...new Set([act.seq, lastSeen])].sort((a, b) => a - b),
        message:
          `rollout of ${name} is incomplete (updated ${status.updatedNumberScheduled}/${desired}, available ${status.numberAvailable}/${desired}, ` +
          `observedGeneration ${observed}/${ds.generation}) and nothing happened for it for ${Math.round(idleMs / 1000)}s of log time ` +
          `(last at seq ${act.seq}, the log ends at seq ${lastSeen}) with no recorded reason (not paused, not OnDelete, no failing pod, no NotReady node): ` +
          `check that a controller owns slot ${ds.slot} (dsctl get shards) and that the agents report`,
      });
    }
    return out;
  };

  // ---- the fold ------------------------------------------------------------------------------------

  const touch = (uid: string | undefined, env: Envelope): void => {
    if (uid !== undefined) lastActivity.set(uid, { seq: env.seq, timeMs: env.timeMs });
  };

  const observe = (env: Envelope): void => {
    position(env.seq, env.timeMs);
    const judged = judging;
    const e = env.event;

    // Before the fold: what the event meets.
    let owner: string | undefined;
    let command: CommandInfo | undefined;
    /** For the events that may start a pod running (or stop it terminating): whether it already was. */
    let wasLive = true;
    switch (e.type) {
      case 'PodCreate':
        command = recordCommand(env, e);
        break;
      case 'PodDelete': {
        command = recordCommand(env, e);
        const pod = podOf(e.data.namespace, e.data.podName, e.data.podUid);
        owner = pod?.owner?.uid;
        if (judged && ROLLOUT_DELETE_REASONS.has(e.data.reason)) checkBudget(env, e.data);
        if (e.data.reason === ROLLING_UPDATE_REASON) {
          const ds = pod && pod.deletionMs === undefined ? liveDsOf(pod.namespace, pod.owner) : undefined;
          if (ds) {
            let byNode = rolledOff.get(ds.uid);
            if (!byNode) rolledOff.set(ds.uid, (byNode = new Map()));
            byNode.set(pod!.node, env.seq);
          }
        }
        if (pod && pod.deletionMs === undefined) deleteSeqOf.set(pod.uid, env.seq);
        break;
      }
      case 'PodNotReady':
      case 'PodFailed': {
        const pod = podOf(e.data.namespace, e.data.podName, e.data.podUid);
        owner = pod?.owner?.uid;
        if (pod?.ready) unreadySeqOf.set(pod.uid, env.seq);
        break;
      }
      case 'PodStarted':
      case 'PodReady': {
        const pod = podOf(e.data.namespace, e.data.podName, e.data.podUid);
        owner = pod?.owner?.uid;
        wasLive = pod?.phase === 'Running';
        if (pod && !pod.ready && e.type === 'PodReady') readySeqOf.set(pod.uid, env.seq);
        break;
      }
      case 'CommandRejected': {
        const pod = podOf(e.data.namespace, e.data.podName, e.data.podUid);
        owner = pod?.owner?.uid;
        wasLive = pod?.deletionMs === undefined;
        break;
      }
      case 'PodSucceeded':
      case 'PodDeleted':
      case 'PodDeleteRequested':
        owner = podOf(e.data.namespace, e.data.podName, e.data.podUid)?.owner?.uid;
        break;
      case 'NodeRegistered': {
        const node = state.nodes.get(e.data.node);
        if (node && node.incarnation !== e.data.incarnation) nodeStartsOver(e.data.node);
        topologyVersion++;
        break;
      }
      case 'NodeDeregistered': {
        if (state.nodes.get(e.data.node)?.incarnation === e.data.incarnation) nodeStartsOver(e.data.node);
        topologyVersion++;
        break;
      }
      case 'NodeLabelsSet':
      case 'NodeTaintsSet':
      case 'NodeUnschedulableSet':
      case 'NodeReady':
      case 'NodeNotReady':
        topologyVersion++;
        break;
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
    switch (e.type) {
      case 'PodCreate':
        unstable(e.data.ds.uid, e.data.node);
        break;
      case 'PodDelete':
      case 'PodStarted':
      case 'PodReady':
      case 'PodNotReady':
      case 'PodFailed':
      case 'PodSucceeded':
      case 'PodDeleted':
      case 'CommandRejected':
        unstable(owner, e.data.node);
        break;
      case 'DaemonSetApplied':
        stable.delete(`${e.data.uid}|surge`);
        stable.delete(`${e.data.uid}|`);
        break;
      default:
        break;
    }

    evolve(state, env, { slots: opts.slots });

    // After the fold: what the event did.
    switch (e.type) {
      case 'PodCreate': {
        const c = command!;
        let same = createsById.get(c.id);
        if (!same) createsById.set(c.id, (same = []));
        same.push(c);
        const t = trackOf(c.node, c.podUid);
        // The agent ignores a create of a pod it runs; one of a pod that is gone may run it again.
        if (t.state !== 'running') t.pendingCreates.push(c);
        rolledOff.get(e.data.ds.uid)?.delete(e.data.node);
        const ds = state.daemonSets.get(dsKey(e.data.ds.namespace, e.data.ds.name));
        if (!surgeAtCreate.has(c.podUid)) surgeAtCreate.set(c.podUid, surgeOf(ds && ds.uid === e.data.ds.uid ? ds : undefined));
        touch(e.data.ds.uid, env);
        break;
      }
      case 'PodDelete':
        trackOf(command!.node, command!.podUid).pendingDeletes.push(command!);
        touch(owner, env);
        break;
      case 'PodStarted':
      case 'PodReady':
      case 'PodNotReady':
      case 'PodFailed':
      case 'PodSucceeded': {
        podReported(env, e.data.node, e.data.podUid, judged);
        // Judged when a pod begins to run, by the DaemonSet's strategy then: a later change of
        // maxSurge does not turn a rollout already under way into a break.
        const pod = wasLive ? undefined : podOf(e.data.namespace, e.data.podName, e.data.podUid);
        if (pod) checkLivePods(env, pod, judged);
        touch(owner, env);
        break;
      }
      case 'PodDeleted': {
        const t = trackOf(e.data.node, e.data.podUid);
        const answered = t.pendingDeletes.shift();
        t.state = 'gone';
        t.pendingCreates = [];
        if (answered) {
          answered.applied = { seq: env.seq, by: 'PodDeleted' };
          judgeApplied(answered, judged);
        }
        touch(owner, env);
        break;
      }
      case 'CommandRejected': {
        const t = trackOf(e.data.node, e.data.podUid);
        const queue = e.data.commandType === 'PodCreate' ? t.pendingCreates : t.pendingDeletes;
        const i = queue.findIndex((c) => c.id === e.data.commandId);
        if (i >= 0) queue.splice(i, 1);
        if (e.data.commandType === 'PodDelete' && !wasLive) {
          // A refused delete leaves the pod running and no longer terminating.
          const pod = podOf(e.data.namespace, e.data.podName, e.data.podUid);
          if (pod) checkLivePods(env, pod, judged);
        }
        touch(owner, env);
        break;
      }
      case 'PodDeleteRequested':
        touch(owner, env);
        break;
      case 'ShardAcquired':
        shardEpochs.set(e.data.slot, { epoch: e.data.epoch, seq: env.seq, what: `ShardAcquired by ${e.data.owner}` });
        break;
      case 'DaemonSetApplied':
      case 'DaemonSetDeleted':
      case 'DaemonSetStatusUpdated':
        touch(e.data.uid, env);
        break;
      default:
        break;
    }
  };

  return {
    state,
    observe,
    skip(seq: number, timeMs: number): void {
      position(seq, timeMs);
      skipPosition(state, seq);
    },
    finish(endSeq?: number): AuditReport {
      // A tail of deleted messages: inside the range when the last message seen was (or, with a
      // sequence bound, when the missing positions reach it).
      const tailJudging = judging || (opts.sinceMs === undefined && endSeq !== undefined && endSeq >= (opts.sinceSeq ?? 0));
      const tail = endSeq !== undefined && lastSeen > 0 && endSeq > lastSeen ? gapBefore(endSeq, undefined, judging, tailJudging) : undefined;
      const all = [...breaks, ...(tail ? [tail] : []), ...stalled()];
      const mine = opts.ds === undefined ? all : all.filter((b) => b.ds === opts.ds || b.kind === 'SequenceGap');
      return { range: { fromSeq, toSeq }, events, breaks: mine };
    },
  };
}

/** Audits a whole log given as envelopes (tests, and any caller that holds the log in memory). */
export function auditLog(log: readonly Envelope[], opts: AuditOptions): AuditReport {
  const audit = createAudit(opts);
  for (const env of log) audit.observe(env);
  return audit.finish();
}
