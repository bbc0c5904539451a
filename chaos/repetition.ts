// One repetition of one fault, on a fresh cluster: apply the DaemonSet and wait until it is fully
// available, start a rollout with `dsctl set image`, inject the fault once about one node is
// updated, then measure the time from the fault to the rollout complete (bounded: past the bound
// the repetition is STALLED) and audit the whole log.

import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChaosOptions } from './args.js';
import { startCluster, type ChaosCluster, type ClusterLine } from './cluster.js';
import { audit, describeView, dsctl, newestPodNode, notReadyVerdicts, readDs, rolloutComplete, slotOwner, type AuditOutcome, type DsView, type NotReadyVerdict } from './dsctl.js';
import { isKillFault, type FaultName } from './faults.js';
import { inject, type Heal } from './inject.js';
import {
  WORKLOAD_CONTAINER,
  WORKLOAD_NAME,
  WORKLOAD_NAMESPACE,
  WORKLOAD_SELECTOR,
  workloadImage,
  workloadManifest,
  workloadSlot,
} from './workload.js';

export type RepetitionOutcome = 'completed' | 'stalled' | 'error';

/** A warning or error the services logged during the repetition, with how often. */
export interface NotableLog {
  readonly child: string;
  readonly level: string;
  readonly msg: string;
  readonly count: number;
}

export interface RepetitionResult {
  readonly fault: FaultName;
  readonly rep: number;
  readonly outcome: RepetitionOutcome;
  /** Why it stalled or failed, in a sentence. */
  readonly reason?: string;
  readonly startedAt: string;
  /** From starting the launcher to every node Ready. */
  readonly clusterStartMs?: number;
  readonly target?: string;
  readonly targetPid?: number;
  /** The DaemonSet's status when the fault was injected. */
  readonly statusAtFault?: DsView;
  /** False when the rollout had already completed when the fault came: the repetition measured nothing. */
  readonly midRollout?: boolean;
  readonly faultAt?: string;
  /** From the fault to its end: restarted and ready, or SIGCONT. */
  readonly outageMs?: number;
  /** From the fault to the rollout complete, as polled with `dsctl get ds` (resolution about half a second). */
  readonly recoveryMs?: number;
  /** From the fault's end to the rollout complete (0 when it completed while the fault lasted). */
  readonly recoveryAfterHealMs?: number;
  /** From `dsctl set image` to the rollout complete. */
  readonly rolloutMs?: number;
  readonly restartNote?: string;
  /** The status last read, for a STALLED repetition. */
  readonly lastStatus?: DsView;
  readonly audit: AuditOutcome | { readonly status: 'skipped'; readonly reason: string };
  /**
   * NodeNotReady verdicts in the log. No agent is ever down longer than NODE_GRACE_MS here (a
   * killed one is back within about 2 s), so each is false: a controller that took its own
   * blindness for nodes dying. Undefined when they could not be read.
   */
  readonly falseNotReady?: readonly NotReadyVerdict[];
  readonly notableLogs: readonly NotableLog[];
  /**
   * Children that exited without being the fault's target, after the fault (a crash the fault
   * caused, or one of its own): the launcher's line, with a nats-server panic's first line.
   */
  readonly unplannedExits: readonly string[];
  /**
   * Earlier attempts of this repetition thrown away because a child exited on its own before the
   * fault (e.g. nats-server 2.9.10 panicking while the streams were being created): the setup was
   * not what the repetition measures. Their logs are kept.
   */
  readonly setupRetries: readonly { readonly reason: string; readonly logFile: string }[];
  /** The cluster's log, kept for failed repetitions (and all with --keep-logs). */
  readonly logFile?: string;
  /** The launcher did not stop cleanly, or processes had to be killed by pid. */
  readonly teardown: { readonly clean: boolean; readonly leftovers: number };
}

export interface RepetitionContext {
  readonly opts: ChaosOptions;
  readonly fault: FaultName;
  readonly rep: number;
  readonly logFile: string;
  readonly say: (text: string) => void;
  readonly aborted: () => boolean;
}

const CALL_TIMEOUT_MS = 5_000;
const WRITE_TIMEOUT_MS = 20_000;
const AUDIT_TIMEOUT_MS = 60_000;
const AVAILABLE_TIMEOUT_MS = 60_000;
const ROLLOUT_START_TIMEOUT_MS = 30_000;
const POLL_GAP_MS = 200;
const HEAL_TIMEOUT_MS = 60_000;
/** Fresh clusters tried for one repetition when a child exits on its own before the fault. */
const SETUP_ATTEMPTS = 3;
/** After the fault has ended and the rollout completed: time for a continued process to act before the audit. */
const SETTLE_MS = 3_000;

class RepetitionError extends Error {
  override readonly name = 'RepetitionError';
}

/** A child exited on its own before the fault: this attempt's setup is spoilt. */
class SetupDisturbedError extends Error {
  override readonly name = 'SetupDisturbedError';
}

/**
 * The launcher's lines about children that exited from index `from` on, minus the first exit of
 * `planned` (the fault's own kill), each with a nats-server panic's first line when there is one.
 */
function exitsOf(cluster: ChaosCluster, from: number, planned: string | undefined): string[] {
  let plannedSeen = planned === undefined;
  const out: string[] = [];
  for (const line of cluster.linesMatching((t) => /^\[launcher\]\s+\S+ exited /.test(t), from)) {
    const text = line.text.replace(/^\[launcher\]\s+/, '');
    if (!plannedSeen && text.startsWith(`${planned} exited `)) {
      plannedSeen = true;
      continue;
    }
    const panic = text.startsWith('nats exited ') ? cluster.linesMatching((t) => /^\[nats\]\s+(panic|fatal error):/.test(t), from)[0] : undefined;
    out.push(panic !== undefined ? `${text} — ${panic.text.replace(/^\[nats\]\s+/, '')}` : text);
  }
  return out;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Polls the DaemonSet until `done` holds or the deadline passes; returns the last view and when `done` first held. */
async function pollDs(
  cluster: ChaosCluster,
  deadlineMs: number,
  done: (view: DsView) => boolean,
  aborted: () => boolean,
): Promise<{ view: DsView | undefined; atMs: number | undefined }> {
  let view: DsView | undefined;
  let lastRead: DsView | undefined;
  while (Date.now() < deadlineMs && !aborted()) {
    view = await readDs(cluster, WORKLOAD_NAMESPACE, WORKLOAD_NAME, Math.min(CALL_TIMEOUT_MS, Math.max(500, deadlineMs - Date.now())));
    if (view !== undefined) {
      lastRead = view;
      if (done(view)) return { view, atMs: Date.now() };
    }
    await delay(POLL_GAP_MS);
  }
  return { view: lastRead, atMs: undefined };
}

/** Warnings and errors of the services (pino JSON lines), counted by child and message. */
function notableLogs(lines: readonly ClusterLine[]): NotableLog[] {
  const counts = new Map<string, NotableLog>();
  for (const line of lines) {
    const m = /^\[([^\]]+)\]\s+(\{.*\})$/.exec(line.text);
    if (m === null) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(m[2]!) as Record<string, unknown>;
    } catch {
      continue;
    }
    const level = String(record['level'] ?? '');
    if (level !== 'warn' && level !== 'error' && level !== 'fatal' && level !== '40' && level !== '50' && level !== '60') continue;
    const child = m[1]!;
    const msg = String(record['msg'] ?? '');
    const key = `${child}\0${level}\0${msg}`;
    const seen = counts.get(key);
    counts.set(key, { child, level, msg, count: (seen?.count ?? 0) + 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, 30);
}

/** The child the fault hits: nats, the controller owning the workload's slot, or the agent of the node being updated. */
async function targetOf(fault: FaultName, cluster: ChaosCluster, owner: string | undefined, opts: ChaosOptions, rep: number): Promise<string> {
  switch (fault) {
    case 'none':
      return '-';
    case 'nats-kill':
    case 'nats-stop':
      return 'nats';
    case 'controller-kill':
    case 'controller-stop':
      // Controllers register under their CONTROLLER_ID, which the launcher sets to its child's name.
      return owner !== undefined && cluster.pidOf(owner) !== undefined ? owner : 'controller-1';
    case 'agent-kill': {
      const node = await newestPodNode(cluster, WORKLOAD_NAMESPACE, WORKLOAD_SELECTOR, CALL_TIMEOUT_MS);
      return node !== undefined && cluster.pidOf(node) !== undefined ? node : `node-${((rep - 1) % opts.cluster.nodes) + 1}`;
    }
    default: {
      const never: never = fault;
      return never;
    }
  }
}

export async function runRepetition(ctx: RepetitionContext): Promise<RepetitionResult> {
  const retries: { reason: string; logFile: string }[] = [];
  for (let attempt = 1; ; attempt++) {
    const logFile = attempt === 1 ? ctx.logFile : ctx.logFile.replace(/\.log$/, `-attempt${attempt}.log`);
    const result = await runAttempt({ ...ctx, logFile }, attempt < SETUP_ATTEMPTS);
    if (!('disturbed' in result)) {
      // A passing attempt's log is not kept (but with --keep-logs); a spoilt one's always is.
      if (result.logFile === undefined) await rm(logFile, { force: true });
      return { ...result, setupRetries: retries };
    }
    retries.push({ reason: result.disturbed, logFile });
    ctx.say(`${ctx.fault} ${ctx.rep}/${ctx.opts.reps}: setup disturbed, starting over on a fresh cluster: ${result.disturbed} (log kept in ${logFile})`);
  }
}

type AttemptResult = Omit<RepetitionResult, 'setupRetries'> | { readonly disturbed: string };

async function runAttempt(ctx: RepetitionContext, mayRetry: boolean): Promise<AttemptResult> {
  const { opts, fault, rep, say } = ctx;
  const startedAt = new Date().toISOString();
  const label = `${fault} ${rep}/${opts.reps}`;
  const t0 = Date.now();
  let cluster: ChaosCluster;
  try {
    cluster = await startCluster(opts.cluster, ctx.logFile);
  } catch (err) {
    const reason = `the cluster did not start: ${err instanceof Error ? err.message : String(err)}`;
    say(`${label}: ERROR ${reason}`);
    return { fault, rep, outcome: 'error', reason, startedAt, audit: { status: 'skipped', reason: 'no cluster' }, notableLogs: [], unplannedExits: [], logFile: ctx.logFile, teardown: { clean: false, leftovers: 0 } };
  }
  const clusterStartMs = Date.now() - t0;
  const partial: { -readonly [K in keyof RepetitionResult]?: RepetitionResult[K] } = { clusterStartMs };
  let heal: Promise<Heal> | undefined;
  let faultFrom: number | undefined;
  let faultTarget: string | undefined;
  let disturbed: string | undefined;
  let outcome: RepetitionOutcome = 'error';
  let reason: string | undefined;
  let auditOutcome: RepetitionResult['audit'] = { status: 'skipped', reason: 'the repetition ended before the audit' };
  try {
    say(`${label}: cluster up in ${seconds(clusterStartMs)} (${cluster.natsUrl}); applying ${WORKLOAD_NAMESPACE}/${WORKLOAD_NAME}`);
    const applied = await dsctl(cluster, ['apply', '-f', '-'], WRITE_TIMEOUT_MS, workloadManifest(opts.cluster.minReadySeconds, cluster.marker));
    if (applied.code !== 0) throw new RepetitionError(`dsctl apply failed: ${applied.stderr.trim() || applied.stdout.trim()}`);
    const available = await pollDs(cluster, Date.now() + AVAILABLE_TIMEOUT_MS, (v) => rolloutComplete(v, opts.cluster.nodes), ctx.aborted);
    if (available.atMs === undefined) throw new RepetitionError(`the DaemonSet was not available on every node within ${seconds(AVAILABLE_TIMEOUT_MS)} (${describeView(available.view)})`);
    const owner = await slotOwner(cluster, workloadSlot, CALL_TIMEOUT_MS);

    const setAt = Date.now();
    const set = await dsctl(cluster, ['set', 'image', `ds/${WORKLOAD_NAME}`, `${WORKLOAD_CONTAINER}=${workloadImage(2)}`, '-n', WORKLOAD_NAMESPACE], WRITE_TIMEOUT_MS);
    if (set.code !== 0) throw new RepetitionError(`dsctl set image failed: ${set.stderr.trim() || set.stdout.trim()}`);
    const begun = await pollDs(
      cluster,
      Date.now() + ROLLOUT_START_TIMEOUT_MS,
      (v) => v.observedGeneration >= v.generation && v.generation >= 2 && (v.updated >= 1 || rolloutComplete(v, opts.cluster.nodes)),
      ctx.aborted,
    );
    if (begun.atMs === undefined || begun.view === undefined) throw new RepetitionError(`the rollout did not begin within ${seconds(ROLLOUT_START_TIMEOUT_MS)} (${describeView(begun.view)})`);
    const target = await targetOf(fault, cluster, owner, opts, rep);
    const spoilt = exitsOf(cluster, 0, undefined);
    if (spoilt.length > 0) throw new SetupDisturbedError(spoilt.join('; '));
    faultFrom = cluster.lineCount();
    faultTarget = isKillFault(fault) ? target : undefined;
    const stopMs = fault === 'nats-stop' ? opts.natsStopMs : opts.controllerStopMs;
    const injection = inject(cluster, { fault, target, stopMs, healTimeoutMs: HEAL_TIMEOUT_MS });
    heal = injection.healed;
    const midRollout = !rolloutComplete(begun.view, opts.cluster.nodes);
    Object.assign(partial, { target, ...(injection.pid !== undefined ? { targetPid: injection.pid } : {}), statusAtFault: begun.view, midRollout, faultAt: new Date(injection.atMs).toISOString() });
    const what = injection.pid === undefined ? 'no fault (control)' : `${fault} on ${target} (pid ${injection.pid})`;
    say(`${label}: ${what} at ${begun.view.updated}/${begun.view.desired} updated, ${seconds(injection.atMs - setAt)} into the rollout`);

    if (fault !== 'none') void heal.then((h) => {
      if (h.atMs !== undefined) say(`${label}: ${target} back after ${seconds(h.atMs - injection.atMs)}${h.note !== undefined ? ` (launcher: ${h.note})` : ''}`);
      else say(`${label}: ${target} not back within ${seconds(HEAL_TIMEOUT_MS)}${h.note !== undefined ? ` (${h.note})` : ''}`);
    });
    const deadline = injection.atMs + opts.repTimeoutMs;
    const done = await pollDs(cluster, deadline, (v) => rolloutComplete(v, opts.cluster.nodes), ctx.aborted);
    const h = await heal;
    if (h.atMs !== undefined && fault !== 'none') partial.outageMs = h.atMs - injection.atMs;
    if (h.note !== undefined) partial.restartNote = h.note;
    let regressed = false;
    if (done.atMs !== undefined && !ctx.aborted()) {
      // A process that was stopped acts again once continued: give it time to, then look again,
      // so that whatever it does lands in the log before the audit reads it.
      await delay(Math.max(0, (h.atMs ?? Date.now()) + SETTLE_MS - Date.now()));
      const after = await pollDs(cluster, Math.max(deadline, Date.now() + CALL_TIMEOUT_MS), (v) => rolloutComplete(v, opts.cluster.nodes), ctx.aborted);
      regressed = after.atMs === undefined;
      if (regressed && after.view !== undefined) partial.lastStatus = after.view;
    }
    if (done.atMs === undefined || regressed) {
      outcome = 'stalled';
      reason = ctx.aborted()
        ? 'interrupted'
        : regressed
          ? `the rollout completed, then was no longer complete once the fault had ended (${describeView(partial.lastStatus)})`
          : `the rollout was not complete ${seconds(opts.repTimeoutMs)} after the fault (${describeView(done.view)})`;
      if (done.view !== undefined && !regressed) partial.lastStatus = done.view;
      say(`${label}: STALLED: ${reason}`);
    } else {
      outcome = 'completed';
      partial.recoveryMs = done.atMs - injection.atMs;
      partial.rolloutMs = done.atMs - setAt;
      if (h.atMs !== undefined) partial.recoveryAfterHealMs = Math.max(0, done.atMs - h.atMs);
      say(`${label}: rollout complete ${seconds(partial.recoveryMs)} after ${fault === 'none' ? 'that point' : 'the fault'}${midRollout ? '' : ' (it had completed before the fault: nothing measured)'}`);
    }
    if (!ctx.aborted()) {
      auditOutcome = await audit(cluster, AUDIT_TIMEOUT_MS);
      const verdicts = await notReadyVerdicts(cluster, AUDIT_TIMEOUT_MS);
      if (verdicts !== undefined) partial.falseNotReady = verdicts;
      const nodes = [...new Set((verdicts ?? []).map((v) => v.node))].join(', ');
      say(`${label}: audit: ${auditText(auditOutcome)}; ${verdicts === undefined ? 'NodeNotReady verdicts unreadable' : `${verdicts.length} NodeNotReady verdicts${nodes ? ` (${nodes})` : ''}`}`);
    }
  } catch (err) {
    outcome = 'error';
    reason = err instanceof Error ? err.message : String(err);
    // Before the fault, a child that exited on its own spoils the setup, whatever failed next.
    const spoilt = faultFrom === undefined ? exitsOf(cluster, 0, undefined) : [];
    if (mayRetry && (err instanceof SetupDisturbedError || spoilt.length > 0)) {
      disturbed = err instanceof SetupDisturbedError ? reason : `${spoilt.join('; ')} (then: ${reason})`;
    } else {
      say(`${label}: ERROR ${reason}`);
    }
  } finally {
    // A stop still running is ended before the cluster is: stop() sends SIGCONT to every child anyway.
    await Promise.race([heal ?? Promise.resolve(), delay(1_000)]);
  }
  const notable = notableLogs(cluster.linesMatching(() => true));
  const unplannedExits = faultFrom === undefined ? [] : exitsOf(cluster, faultFrom, faultTarget);
  if (unplannedExits.length > 0) say(`${label}: unplanned exits after the fault: ${unplannedExits.join('; ')}`);
  const teardown = await cluster.stop();
  if (disturbed !== undefined) return { disturbed };
  if (!teardown.clean) say(`${label}: teardown: ${teardown.leftovers > 0 ? `${teardown.leftovers} leftover processes killed by pid` : 'the launcher did not stop cleanly'}`);
  const failed = outcome !== 'completed' || auditOutcome.status === 'breaks' || auditOutcome.status === 'error' || (partial.falseNotReady?.length ?? 0) > 0;
  return {
    fault,
    rep,
    outcome,
    ...(reason !== undefined ? { reason } : {}),
    startedAt,
    ...partial,
    audit: auditOutcome,
    notableLogs: notable,
    unplannedExits,
    ...(failed || opts.keepLogs ? { logFile: ctx.logFile } : {}),
    teardown,
  };
}

export function auditText(a: RepetitionResult['audit']): string {
  switch (a.status) {
    case 'clean':
      return `0 breaks over ${a.events ?? '?'} events`;
    case 'breaks': {
      const kinds = new Map<string, number>();
      for (const b of a.breaks) kinds.set(b.kind, (kinds.get(b.kind) ?? 0) + 1);
      return `${a.breaks.length} breaks over ${a.events ?? '?'} events (${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')})`;
    }
    case 'unavailable':
    case 'error':
    case 'skipped':
      return `${a.status} (${a.reason})`;
    default: {
      const never: never = a;
      return never;
    }
  }
}
