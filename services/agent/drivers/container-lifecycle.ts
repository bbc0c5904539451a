// The lifecycle of one container on the process driver, as the kubelet's SyncPod runs it: start
// its command ++ args as a child process, restart it by restartPolicy with CrashLoopBackOff, its
// readiness from a probe worker, and graceful termination (SIGTERM, then SIGKILL after the grace
// period). Every child leads its own process group, so a shell's forks are signalled with it,
// and when the main process of a container ends, whatever it left in its group is killed, as the
// end of a container's PID namespace would.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { follow, openOutputFiles } from './container-log-files.js';
import type { ContainerRun, DriverContext, PodRun } from './container-run.js';
import { adoptedProcessGone, emit, failRun, persist, restartTotal, updateReadiness } from './container-run.js';
import { decideBackoff } from './crash-backoff.js';
import { mayKillRecordedGroup, newPidRecord } from './pid-files.js';
import { exitReason, PROCESS_REASONS } from './process-reasons.js';
import { startReadinessWorker } from './readiness-worker.js';
import { signalGroup } from './signal-group.js';

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : osConstants.signals[signal];
  return number === undefined ? 128 : 128 + number;
}

/** Makes `finish` and `exited` for a process that just became the container's. */
export function trackRun(ctx: DriverContext, run: PodRun, c: ContainerRun): void {
  let gone = false;
  let resolveExited: () => void = () => undefined;
  c.exited = new Promise((resolve) => {
    resolveExited = resolve;
  });
  c.finish = (exitCode, message) => {
    if (gone) return;
    gone = true;
    const pid = c.pid;
    if (pid !== undefined) {
      // The container's main process ended: end what it left in its group too.
      if (!c.adopted || (c.record !== undefined && mayKillRecordedGroup(c.record))) signalGroup(pid, 'SIGKILL', c.log);
    }
    if (c.adopted) c.log.info({ pid }, 'adopted container exited');
    ctx.poller.unwatch(c);
    for (const f of c.followers) f.drain();
    if (pid !== undefined && run.phase === 'running') persist(ctx, run, c, exitCode !== undefined ? { exitCode } : {});
    c.child = undefined;
    c.pid = undefined;
    c.adopted = false;
    c.finish = undefined;
    resolveExited();
    onContainerGone(ctx, run, c, exitCode, message);
  };
}

export function spawnContainer(ctx: DriverContext, run: PodRun, c: ContainerRun): void {
  const [file, ...args] = c.argv;
  if (file === undefined) return;
  trackRun(ctx, run, c);
  const finish = c.finish!;
  let fds: readonly number[] = [];
  let child: ChildProcess;
  try {
    const [stdout, stderr] = openOutputFiles(ctx.stateDir, run.pod.uid, c.spec.name);
    fds = [stdout, stderr];
    follow(ctx, run, c, false);
    child = spawn(file, args, {
      cwd: c.spec.workingDir,
      env: { ...c.env },
      detached: true,
      stdio: ['ignore', stdout, stderr],
    });
  } catch (err) {
    // spawn throws synchronously only for arguments it cannot pass (a NUL in argv).
    c.log.error({ err }, 'container could not be spawned');
    finish(128, err instanceof Error ? err.message : String(err));
    return;
  } finally {
    // The child holds its own copies (or never started).
    for (const fd of fds) closeSync(fd);
  }
  c.child = child;

  child.on('spawn', () => {
    const pid = child.pid;
    if (pid === undefined) return;
    c.pid = pid;
    c.startedAtMs = Date.now();
    c.record = newPidRecord(pid, c.argv, {});
    if (run.phase !== 'running') {
      // stop() came while the child was being spawned: it is terminating already.
      return;
    }
    onContainerRunning(ctx, run, c);
  });
  child.on('error', (err) => {
    // Before 'spawn' this is a failure to start (ENOENT, EACCES, a bad cwd); after, a
    // failure to signal, which the exit path handles.
    if (c.pid === undefined) {
      c.log.warn({ err, argv: c.argv }, 'container failed to start');
      finish(128, err.message);
    } else {
      c.log.warn({ err }, 'container process error');
    }
  });
  child.on('exit', (code, signal) => {
    const exitCode = exitCodeOf(code, signal);
    c.log.info({ exitCode, signal: signal ?? undefined }, 'container exited');
    finish(exitCode, undefined);
  });
}

function onContainerRunning(ctx: DriverContext, run: PodRun, c: ContainerRun): void {
  c.running = true;
  c.log.info({ pid: c.pid, restartCount: c.restartCount }, 'container started');
  startWorker(ctx, run, c, false);
  persist(ctx, run, c);
  if (run.containers.every((other) => other.running || other.finished)) {
    emit(run, { type: 'started', restartCount: restartTotal(run) });
  }
  updateReadiness(run);
}

/** Readiness of a running container: a probe worker, or ready at once without a probe. */
export function startWorker(ctx: DriverContext, run: PodRun, c: ContainerRun, initiallyReady: boolean): void {
  c.running = true;
  const probe = c.spec.readinessProbe;
  if (probe === undefined) {
    c.ready = true;
    return;
  }
  c.ready = initiallyReady;
  c.worker = startReadinessWorker({
    probe,
    context: c.spec.workingDir === undefined ? { container: c.spec, env: c.env } : { container: c.spec, env: c.env, cwd: c.spec.workingDir },
    initiallyReady,
    runningForMs: Math.max(0, Date.now() - c.startedAtMs),
    onChange: (ready, result) => {
      c.ready = ready;
      if (!result.ok) c.log.info({ probe: result.message }, 'readiness probe failed');
      persist(ctx, run, c);
      updateReadiness(run);
    },
    onError: (err) => c.log.error({ err }, 'readiness probe error'),
  });
}

function stopWorker(c: ContainerRun): void {
  c.worker?.stop();
  c.worker = undefined;
}

/** Whether restartPolicy restarts a container that exited with `exitCode` (undefined: unknown, not a success). */
export function restarts(run: PodRun, exitCode: number | undefined): boolean {
  const policy = run.pod.spec.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** A container that will not run again: finished (exit 0) or the pod failed. */
export function endContainer(run: PodRun, c: ContainerRun, exitCode: number | undefined, message: string | undefined): void {
  if (exitCode !== 0) {
    failRun(run, message ?? exitReason(exitCode), exitCode);
    return;
  }
  c.finished = true;
  if (run.ready) {
    run.ready = false;
    emit(run, { type: 'notReady', reason: PROCESS_REASONS.completed });
  }
}

function onContainerGone(ctx: DriverContext, run: PodRun, c: ContainerRun, exitCode: number | undefined, message: string | undefined): void {
  const ranForMs = c.running ? Date.now() - c.startedAtMs : 0;
  c.running = false;
  c.ready = false;
  stopWorker(c);
  if (run.phase !== 'running') return;

  if (!restarts(run, exitCode)) {
    endContainer(run, c, exitCode, message);
    return;
  }

  const decision = decideBackoff(c.pendingBackoffMs, ranForMs, ctx.backoff);
  c.pendingBackoffMs = decision.nextMs;
  const reason = exitReason(exitCode, decision.crashLooping);
  c.log.warn({ exitCode, restartInMs: decision.delayMs, reason }, 'container will restart');
  run.ready = false;
  emit(run, { type: 'notReady', reason });
  c.restartTimer = setTimeout(() => {
    c.restartTimer = undefined;
    if (run.phase !== 'running') return;
    c.restartCount++;
    spawnContainer(ctx, run, c);
  }, decision.delayMs);
}

/** SIGTERM the group, SIGKILL it after the grace, resolve once the main process is gone. */
async function terminate(c: ContainerRun, graceMs: number): Promise<void> {
  const exited = c.exited;
  // child.pid is set as soon as spawn() returns; c.pid only once 'spawn' was emitted.
  const pid = c.pid ?? c.child?.pid;
  if (exited === undefined) return;
  if (pid === undefined) {
    // The spawn failed (its 'error' settles `exited`), or the process has ended already.
    await exited;
    return;
  }
  if (adoptedProcessGone(c)) {
    // Ended since the last poll: the pid may be another process's by now.
    c.finish?.(undefined, undefined);
    await exited;
    return;
  }
  signalGroup(pid, 'SIGTERM', c.log);
  const timer = setTimeout(() => {
    c.log.warn({ pid, graceMs }, 'container ignored SIGTERM; killing');
    signalGroup(pid, 'SIGKILL', c.log);
  }, graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ends the containers of a pod that is stopping: no restart and no probe any more, then each
 * terminated with `graceMs`. Resolves once every main process is gone.
 */
export function stopContainers(run: PodRun, graceMs: number): Promise<void[]> {
  for (const c of run.containers) {
    if (c.restartTimer !== undefined) clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    stopWorker(c);
  }
  return Promise.all(run.containers.map((c) => terminate(c, graceMs)));
}
