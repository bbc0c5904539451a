// Adoption after an agent restart. Containers outlive the agent, as containers outlive a kubelet
// restart: their output goes to files (container-output.ts), each container's pid file
// (pid-files.ts) records which process it is, its restart count and readiness, and an agent that
// starts again brings back the pods it should run: a container whose recorded process is still
// alive (the same pid, boot and start time) is adopted — watched by polling /proc, since it is
// not our child — and keeps its restart count; one that died meanwhile is started again and
// counted as a restart, reported not ready first (ContainerStatusUnknown: its exit went unseen).

import type { RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { follow } from './container-log-files.js';
import { endContainer, restarts, spawnContainer, startWorker, trackRun } from './container-lifecycle.js';
import type { ContainerRun, DriverContext, PodRun } from './container-run.js';
import { adoptedProcessGone, emit, podReady, restartTotal, updateReadiness } from './container-run.js';
import type { PidRecord } from './pid-files.js';
import { isRecordedProcess, pidFilePath, readPidFile } from './pid-files.js';
import { exitReason } from './process-reasons.js';

/** What a new agent finds of one container: its record, and whether the process still runs. */
export interface FoundContainer {
  /** The container's pid file. */
  readonly file: string;
  readonly record: PidRecord | undefined;
  readonly alive: boolean;
}

/** Reads the pid file of each of the pod's containers and checks the process it names against /proc. */
export function findContainers(stateDir: string, pod: RuntimePod): FoundContainer[] {
  return pod.spec.containers.map((spec): FoundContainer => {
    const record = readPidFile(stateDir, pod.uid, spec.name);
    const alive = record !== undefined && isRecordedProcess(record);
    return { file: pidFilePath(stateDir, pod.uid, spec.name), record, alive };
  });
}

/** Takes up the record an earlier agent wrote for the container, and the restart count in it. */
function restoreRecord(c: ContainerRun, record: PidRecord): void {
  c.record = record;
  c.restartCount = record.restartCount ?? 0;
}

/** Takes over a container's live process, left by an earlier agent. */
function adoptContainer(ctx: DriverContext, run: PodRun, c: ContainerRun, record: PidRecord): void {
  c.pid = record.pid;
  restoreRecord(c, record);
  c.adopted = true;
  c.startedAtMs = record.startedAtMs ?? Date.now();
  trackRun(ctx, run, c);
  // Not our child: its end is seen when the recorded process is gone from /proc.
  ctx.poller.watch(c, () => {
    if (adoptedProcessGone(c)) c.finish?.(undefined, undefined);
  });
  // What it wrote while no agent ran stays in the files; the log goes on from here.
  follow(ctx, run, c, true);
  c.log.info({ pid: record.pid, restartCount: c.restartCount }, 'container adopted');
  startWorker(ctx, run, c, record.ready ?? false);
}

/**
 * Brings back one pod after an agent restart: adopts, restarts (counted) or starts its
 * containers, `found` naming what was found of each (findContainers).
 */
export function resume(ctx: DriverContext, run: PodRun, found: readonly FoundContainer[]): { adopted: number[]; restarted: number } {
  const adopted: number[] = [];
  let restarted = 0;
  if (run.phase !== 'running') return { adopted, restarted };
  const toStart: ContainerRun[] = [];
  let lostReason: string | undefined;
  run.containers.forEach((c, i) => {
    const { record, alive } = found[i] ?? { record: undefined, alive: false };
    if (record !== undefined && alive) {
      adoptContainer(ctx, run, c, record);
      adopted.push(record.pid);
      return;
    }
    if (record === undefined) {
      toStart.push(c); // never started here (or its record is lost): a first start
      return;
    }
    // It ran and is gone: ended while no agent watched it, or after the last agent saw it exit.
    restoreRecord(c, record);
    const exitCode = record.exitCode;
    c.log.info({ pid: record.pid, exitCode, restartCount: c.restartCount }, 'container is gone since the agent last ran');
    if (!restarts(run, exitCode)) {
      endContainer(run, c, exitCode, undefined);
      return;
    }
    c.restartCount++;
    restarted++;
    lostReason ??= exitReason(exitCode);
    toStart.push(c);
  });
  if (run.phase !== 'running') return { adopted, restarted };
  if (lostReason !== undefined) {
    // The gap is reported: the pod was not ready while its container was down.
    emit(run, { type: 'notReady', reason: lostReason });
  }
  if (toStart.length === 0) {
    // Everything adopted (or finished): state again what runs, with the restart count it had
    // (evolve keeps startedMs, so this is no new run), and its readiness, in case the earlier
    // agent died before its last reports were stored.
    if (run.containers.some((c) => c.running)) emit(run, { type: 'started', restartCount: restartTotal(run) });
    run.ready = !podReady(run);
    updateReadiness(run);
    return { adopted, restarted };
  }
  for (const c of toStart) spawnContainer(ctx, run, c);
  return { adopted, restarted };
}
