// The fault suite: every repetition of every fault in turn, each on a fresh cluster (a failure
// cannot leak into the next, the launcher's restart back-off starts from 1 s, and each audit
// covers exactly one repetition's log), then the table and the JSON.

import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { machineInfo } from '../bench/machine.js';
import { natsServerBinary } from '../test/support/nats-server.js';
import type { ChaosOptions } from './args.js';
import { FAULT_DESCRIPTIONS } from './faults.js';
import { faultPassed, summarizeFault, type ChaosResult, type FaultSummary } from './result.js';
import { auditText, runRepetition, type RepetitionResult } from './repetition.js';
import { MAX_UNAVAILABLE, WORKLOAD_NAME, WORKLOAD_NAMESPACE } from './workload.js';

export interface RunIo {
  /** Progress lines. */
  readonly say: (text: string) => void;
  /** Set once the run should end early (a signal): the current repetition ends and is torn down. */
  readonly aborted: () => boolean;
}

function natsServerVersion(): string {
  const binary = natsServerBinary();
  if (binary === undefined) return 'not found';
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5_000 }).trim().replace(/^nats-server:\s*/, '');
  } catch {
    return 'unknown';
  }
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** A rough duration of the run, for the opening line. */
function estimateMs(opts: ChaosOptions): number {
  // Measured on 2 cores: about 5 s to start a cluster, apply, audit and stop, and a node per minReadySeconds + 1 s.
  const base = 5_000 + opts.cluster.nodes * (opts.cluster.minReadySeconds + 1) * 1000;
  return opts.faults.reduce((sum, fault) => {
    const stop = fault === 'nats-stop' ? opts.natsStopMs : fault === 'controller-stop' ? opts.controllerStopMs : 1_000;
    return sum + opts.reps * (base + stop);
  }, 0);
}

export async function runChaos(opts: ChaosOptions, logDir: string, io: RunIo): Promise<ChaosResult> {
  const started = Date.now();
  const machine = machineInfo();
  const versions = { node: process.version, natsServer: natsServerVersion() };
  if (natsServerBinary() === undefined) throw new Error('nats-server was not found: install it (bash scripts/setup.sh) to run the fault suite');
  await mkdir(logDir, { recursive: true });
  io.say(
    `chaos (${opts.mode}): ${opts.faults.join(', ')} × ${opts.reps} on ${machine.cpus} × ${machine.cpuModel}, node ${versions.node}, nats-server ${versions.natsServer}; ` +
      `about ${minutes(estimateMs(opts))}`,
  );
  io.say(
    `  each repetition: a fresh cluster of ${opts.cluster.nodes} agents (process driver) and ${opts.cluster.controllers} controllers, ` +
      `${WORKLOAD_NAMESPACE}/${WORKLOAD_NAME} rolled out with maxUnavailable ${MAX_UNAVAILABLE}, minReadySeconds ${opts.cluster.minReadySeconds}; ` +
      `STALLED after ${minutes(opts.repTimeoutMs)}`,
  );
  const faults: FaultSummary[] = [];
  for (const fault of opts.faults) {
    if (io.aborted()) break;
    io.say(`${fault}: ${FAULT_DESCRIPTIONS[fault]}`);
    const reps: RepetitionResult[] = [];
    for (let rep = 1; rep <= opts.reps && !io.aborted(); rep++) {
      const logFile = join(logDir, `${fault}-${rep}.log`);
      const result = await runRepetition({ opts, fault, rep, logFile, say: (t) => io.say(`  ${t}`), aborted: io.aborted });
      if (result.logFile !== undefined) io.say(`  ${fault} ${rep}/${opts.reps}: cluster log kept in ${result.logFile}`);
      reps.push(result);
    }
    if (reps.length > 0) faults.push(summarizeFault(fault, reps));
  }
  // An empty log folder (every repetition passed) is not kept.
  if ((await readdir(logDir).catch(() => ['?'])).length === 0) await rmdir(logDir).catch(() => undefined);

  const notes: string[] = [];
  const unaudited = faults.reduce((n, f) => n + f.auditUnavailable, 0);
  if (unaudited > 0) notes.push(`${unaudited} repetitions were not audited: this build of dsctl has no audit command, so breaks were not counted there`);
  for (const f of faults) {
    for (const r of f.repetitions) {
      for (const retry of r.setupRetries) notes.push(`${f.fault} ${r.rep}: a first cluster was thrown away, a child exited before the fault: ${retry.reason} (${retry.logFile})`);
      for (const exit of r.unplannedExits) notes.push(`${f.fault} ${r.rep}: unplanned exit after the fault: ${exit}`);
      if (r.outcome !== 'completed') notes.push(`${f.fault} ${r.rep}: ${r.outcome.toUpperCase()}: ${r.reason ?? ''}`);
      if (r.audit.status === 'breaks' || r.audit.status === 'error') notes.push(`${f.fault} ${r.rep}: audit ${auditText(r.audit)}`);
      if ((r.falseNotReady?.length ?? 0) > 0) {
        notes.push(`${f.fault} ${r.rep}: false NodeNotReady verdicts: ${(r.falseNotReady ?? []).map((v) => `${v.node} (seq ${v.seq})`).join(', ')}`);
      }
      if (r.midRollout === false) notes.push(`${f.fault} ${r.rep}: the rollout had completed before the fault; that repetition measured nothing`);
    }
  }
  if (io.aborted()) notes.push('interrupted: the run ended early');
  return {
    suite: 'chaos',
    mode: opts.mode,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine,
    versions,
    parameters: {
      faults: opts.faults,
      reps: opts.reps,
      natsStopMs: opts.natsStopMs,
      controllerStopMs: opts.controllerStopMs,
      repTimeoutMs: opts.repTimeoutMs,
      ...opts.cluster,
      driver: 'process',
      maxUnavailable: MAX_UNAVAILABLE,
      workload: `${WORKLOAD_NAMESPACE}/${WORKLOAD_NAME}`,
    },
    faults,
    passed: !io.aborted() && faults.length === opts.faults.length && faults.every(faultPassed),
    notes,
  };
}
