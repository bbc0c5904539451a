// The process driver: runs each container's command ++ args as a real child process, the way
// the kubelet runs a container (SyncPod): restartPolicy with CrashLoopBackOff, readiness
// probes, graceful termination (SIGTERM, then SIGKILL after the grace period).
// Every child leads its own process group, so a shell's forks are signalled with it, and when
// the main process of a container ends, whatever it left in its group is killed, as the end of
// a container's PID namespace would. Pods whose containers have no command are handed to the
// sim driver: there are no images to run here.
//
// Containers outlive the agent, as containers outlive a kubelet restart: their output goes to
// files (container-output.ts), each container's pid file (pid-files.ts) records which process it
// is, its restart count and readiness, and an agent that starts again calls recover() with the
// pods it should run: a container whose recorded process is still alive (the same pid, boot and
// start time) is adopted — watched by polling /proc, since it is not our child — and keeps its
// restart count; one that died meanwhile is started again and counted as a restart, reported
// not ready first (ContainerStatusUnknown: its exit went unseen).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import type { Container } from '../../../libs/model/types.js';
import type { ContainerOutput, OutputFollower, OutputRate, OutputStream } from './container-output.js';
import { containerLogPath, createContainerOutput, DEFAULT_OUTPUT_RATE, podLogDir } from './container-output.js';
import { containerArgv, containerEnv } from './container-env.js';
import type { BackoffPolicy } from './crash-backoff.js';
import { decideBackoff, DEFAULT_BACKOFF } from './crash-backoff.js';
import type { RuntimeDriver, RuntimeEvent, RuntimeListener, RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { DEFAULT_TERMINATION_GRACE_SECONDS } from '../../../libs/agent-runtime/driver.js';
import type { PidRecord, StaleCleanup } from './pid-files.js';
import {
  cleanupStalePidFiles,
  isRecordedProcess,
  mayKillRecordedGroup,
  newPidRecord,
  pidFilePath,
  readPidFile,
  removePidFile,
  writePidFile,
} from './pid-files.js';
import type { ReadinessWorker } from './readiness-worker.js';
import { startReadinessWorker } from './readiness-worker.js';
import { signalGroup } from './signal-group.js';

export interface ProcessDriverOptions {
  /** Directory for the driver's state (pid files under `pids/`, container output under `logs/`). */
  readonly stateDir: string;
  /** The node the driver runs on (the downward API's node fields). */
  readonly node: RuntimeNode;
  readonly listener: RuntimeListener;
  readonly log: Logger;
  /** Upper bound of any pod's termination grace. Default 30 000. */
  readonly maxGraceMs?: number;
  /** CrashLoopBackOff; default 1 s doubling to 5 min, reset after 10 min of running. */
  readonly restartBackoff?: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs?: number };
  /** Runs pods none of whose containers has a command. */
  readonly simFallback: RuntimeDriver;
  /** Rate limit of container output into the log. */
  readonly outputRate?: OutputRate;
  /** How often output files are read and adopted processes checked. Default 100. */
  readonly pollMs?: number;
  /**
   * SIGKILL every container when this process exits without stopAll() (tests). Default false:
   * containers outlive an agent that dies, and the next agent adopts them.
   */
  readonly killOnExit?: boolean;
}

/** What recover() did. */
export interface Recovery {
  /** Pids of containers adopted as they run. */
  readonly adopted: readonly number[];
  /** Containers whose process was gone (or not ours) and were started again, counted as restarts. */
  readonly restarted: number;
  /** Leftover processes of pods no longer wanted, killed; and the pid files removed. */
  readonly cleaned: StaleCleanup;
}

export interface ProcessDriver extends RuntimeDriver {
  readonly name: 'process';
  /**
   * The start-up path of an agent that may have run before: adopts the containers of `pods` that
   * still run, starts the rest (a container that had run before counts a restart), and kills what
   * pid files name beyond them (pods deleted meanwhile). Call once, before any start().
   */
  recover(pods: readonly RuntimePod[]): Promise<Recovery>;
  /**
   * Kills the processes named in pid files of pods this driver does not hold (left by an earlier
   * run of the agent), after checking each pid is still that process, and removes the files.
   */
  cleanupStale(): Promise<StaleCleanup>;
}

/** Reasons carried by 'notReady' and 'failed' events. */
export const PROCESS_REASONS = {
  /** First crash of a container (it restarts after the initial back-off). */
  error: 'Error',
  /** A container crashed again within the back-off window. */
  crashLoop: 'CrashLoopBackOff',
  /** A readiness probe failed failureThreshold times in a row. */
  containersNotReady: 'ContainersNotReady',
  /** A container exited 0 under restartPolicy Never/OnFailure. */
  completed: 'Completed',
  /** The spec cannot be run by this driver. */
  invalidSpec: 'InvalidSpec',
  /** An env var's valueFrom cannot be answered (the kubelet's waiting reason for it). */
  createContainerConfigError: 'CreateContainerConfigError',
  /** A container ended unseen (while no agent ran, or adopted and not our child): its exit code is unknown. */
  statusUnknown: 'ContainerStatusUnknown',
} as const;

const DEFAULT_MAX_GRACE_MS = 30_000;
const DEFAULT_POLL_MS = 100;

interface ContainerRun {
  readonly spec: Container;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly output: ContainerOutput;
  readonly followers: OutputFollower[];
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** What the pid file says of the current (or last) process. */
  record: PidRecord | undefined;
  /** The current process was adopted: not our child, its exit is found by polling. */
  adopted: boolean;
  /** Ends the current process' run (adopted processes: called by the poll). */
  finish: ((exitCode: number | undefined, message: string | undefined) => void) | undefined;
  /** Resolves when the current process is gone. */
  exited: Promise<void> | undefined;
  running: boolean;
  /** Readiness of the running container (true at once when it has no readinessProbe). */
  ready: boolean;
  restartCount: number;
  startedAtMs: number;
  pendingBackoffMs: number | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  worker: ReadinessWorker | undefined;
  /** Exited for good under restartPolicy Never/OnFailure. */
  finished: boolean;
}

interface PodRun {
  readonly pod: RuntimePod;
  readonly log: Logger;
  readonly containers: ContainerRun[];
  phase: 'running' | 'failed' | 'stopping';
  /** The readiness last reported. */
  ready: boolean;
  stopping: Promise<void> | undefined;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : osConstants.signals[signal];
  return number === undefined ? 128 : 128 + number;
}

/** Why a pod cannot run here, or undefined when every container has a command. */
function invalidSpecReason(containers: readonly Container[]): string | undefined {
  for (const c of containers) {
    const hasCommand = (c.command ?? []).length > 0;
    if (!hasCommand && (c.args ?? []).length > 0) {
      return `container "${c.name}" has args but no command; the process driver has no image entrypoint to run them with`;
    }
    if (!hasCommand) {
      return `container "${c.name}" has no command; the process driver runs commands, not images`;
    }
  }
  return undefined;
}

function hasAnyCommand(containers: readonly Container[]): boolean {
  return containers.some((c) => (c.command ?? []).length > 0 || (c.args ?? []).length > 0);
}

const STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];

export function createProcessDriver(opts: ProcessDriverOptions): ProcessDriver {
  const log = opts.log.child({ driver: 'process' });
  const maxGraceMs = Math.max(0, opts.maxGraceMs ?? DEFAULT_MAX_GRACE_MS);
  const pollMs = Math.max(1, opts.pollMs ?? DEFAULT_POLL_MS);
  const backoff: BackoffPolicy = {
    initialMs: opts.restartBackoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: opts.restartBackoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    resetAfterMs: opts.restartBackoff?.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs,
  };
  const outputRate = opts.outputRate ?? DEFAULT_OUTPUT_RATE;
  const pods = new Map<string, PodRun>();
  const delegated = new Set<string>();
  let loggedFallback = false;

  // ---- polling: output files and adopted processes ---------------------------------------------
  const followers = new Set<OutputFollower>();
  const adoptedRuns = new Set<ContainerRun>();
  let ticker: NodeJS.Timeout | undefined;
  function tick(): void {
    for (const f of followers) f.poll();
    for (const c of adoptedRuns) {
      if (c.record !== undefined && !isRecordedProcess(c.record)) c.finish?.(undefined, undefined);
    }
    if (followers.size === 0 && adoptedRuns.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }
  function ensureTicker(): void {
    ticker ??= setInterval(tick, pollMs);
  }

  // The net for tests that exit without stopAll(); an agent leaves its containers to the next.
  // Held only while pods are, so many drivers in one test process add no lasting listeners.
  const killAllOnExit = (): void => {
    for (const run of pods.values()) for (const c of run.containers) if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL');
  };
  function holdPod(run: PodRun): void {
    if (pods.size === 0 && opts.killOnExit === true) process.on('exit', killAllOnExit);
    pods.set(run.pod.uid, run);
  }
  function releasePod(uid: string): void {
    pods.delete(uid);
    if (pods.size === 0 && opts.killOnExit === true) process.off('exit', killAllOnExit);
  }

  function heldPids(): Set<number> {
    const pids = new Set<number>();
    for (const run of pods.values()) for (const c of run.containers) if (c.pid !== undefined) pids.add(c.pid);
    return pids;
  }

  function heldFiles(): Set<string> {
    const files = new Set<string>();
    for (const run of pods.values()) for (const c of run.containers) files.add(pidFilePath(opts.stateDir, run.pod.uid, c.spec.name));
    return files;
  }

  /** Removes the log folders of pods neither held nor in `keep`. */
  function removeOrphanLogs(keep: ReadonlySet<string>): void {
    const root = join(opts.stateDir, 'logs');
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return; // no logs folder yet
    }
    for (const name of names) {
      let uid: string;
      try {
        uid = decodeURIComponent(name);
      } catch {
        uid = name; // not a folder of ours: named by no uid
      }
      if (!pods.has(uid) && !keep.has(uid)) rmSync(join(root, name), { recursive: true, force: true });
    }
  }

  function emit(run: PodRun, event: RuntimeEvent): void {
    try {
      opts.listener(run.pod.uid, event);
    } catch (err) {
      run.log.error({ err, event: event.type }, 'runtime listener threw');
    }
  }

  function restartTotal(run: PodRun): number {
    return run.containers.reduce((sum, c) => sum + c.restartCount, 0);
  }

  /** Writes what a new agent needs to adopt the container or count its restart. */
  function persist(run: PodRun, c: ContainerRun, extra: Partial<PidRecord> = {}): void {
    if (c.record === undefined || run.phase === 'stopping') return;
    c.record = { ...c.record, restartCount: c.restartCount, startedAtMs: c.startedAtMs, ready: c.ready, ...extra };
    try {
      writePidFile(opts.stateDir, run.pod.uid, c.spec.name, c.record);
    } catch (err) {
      c.log.warn({ err }, 'pid file could not be written');
    }
  }

  /** The pod's Ready condition: every container runs and is ready. */
  function podReady(run: PodRun): boolean {
    return run.containers.every((c) => c.running && c.ready);
  }

  /** Reports 'ready' / 'notReady' when the pod's readiness changed (PodReady condition). */
  function updateReadiness(run: PodRun): void {
    if (run.phase !== 'running') return;
    const ready = podReady(run);
    if (ready === run.ready) return;
    run.ready = ready;
    emit(run, ready ? { type: 'ready' } : { type: 'notReady', reason: PROCESS_REASONS.containersNotReady });
  }

  function follow(run: PodRun, c: ContainerRun, fromEnd: boolean): void {
    if (c.followers.length > 0) return;
    for (const stream of STREAMS) {
      const path = containerLogPath(opts.stateDir, run.pod.uid, c.spec.name, stream);
      let offset = 0;
      if (fromEnd) {
        try {
          offset = statSync(path).size;
        } catch {
          offset = 0; // no file yet
        }
      }
      const follower = c.output.follow(path, stream, offset);
      c.followers.push(follower);
      followers.add(follower);
    }
    ensureTicker();
  }

  function unfollow(c: ContainerRun): void {
    for (const f of c.followers) {
      f.drain();
      f.close();
      followers.delete(f);
    }
    c.followers.length = 0;
  }

  /** Makes `finish` and `exited` for a process that just became the container's. */
  function trackRun(run: PodRun, c: ContainerRun): void {
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
      adoptedRuns.delete(c);
      for (const f of c.followers) f.drain();
      if (pid !== undefined && run.phase === 'running') persist(run, c, exitCode !== undefined ? { exitCode } : {});
      c.child = undefined;
      c.pid = undefined;
      c.adopted = false;
      c.finish = undefined;
      resolveExited();
      onContainerGone(run, c, exitCode, message);
    };
  }

  function spawnContainer(run: PodRun, c: ContainerRun): void {
    const [file, ...args] = c.argv;
    if (file === undefined) return;
    trackRun(run, c);
    const finish = c.finish!;
    const fds: number[] = [];
    let child: ChildProcess;
    try {
      mkdirSync(podLogDir(opts.stateDir, run.pod.uid), { recursive: true });
      for (const stream of STREAMS) fds.push(openSync(containerLogPath(opts.stateDir, run.pod.uid, c.spec.name, stream), 'a'));
      follow(run, c, false);
      child = spawn(file, args, {
        cwd: c.spec.workingDir,
        env: { ...c.env },
        detached: true,
        stdio: ['ignore', fds[0]!, fds[1]!],
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
      onContainerRunning(run, c);
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

  /** Takes over a container's live process, left by an earlier agent. */
  function adoptContainer(run: PodRun, c: ContainerRun, record: PidRecord): void {
    c.pid = record.pid;
    c.record = record;
    c.adopted = true;
    c.restartCount = record.restartCount ?? 0;
    c.startedAtMs = record.startedAtMs ?? Date.now();
    trackRun(run, c);
    adoptedRuns.add(c);
    // What it wrote while no agent ran stays in the files; the log goes on from here.
    follow(run, c, true);
    c.log.info({ pid: record.pid, restartCount: c.restartCount }, 'container adopted');
    startWorker(run, c, record.ready ?? false);
  }

  function onContainerRunning(run: PodRun, c: ContainerRun): void {
    c.running = true;
    c.log.info({ pid: c.pid, restartCount: c.restartCount }, 'container started');
    startWorker(run, c, false);
    persist(run, c);
    if (run.containers.every((other) => other.running || other.finished)) {
      emit(run, { type: 'started', restartCount: restartTotal(run) });
    }
    updateReadiness(run);
  }

  /** Readiness of a running container: a probe worker, or ready at once without a probe. */
  function startWorker(run: PodRun, c: ContainerRun, initiallyReady: boolean): void {
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
        persist(run, c);
        updateReadiness(run);
      },
      onError: (err) => c.log.error({ err }, 'readiness probe error'),
    });
  }

  /** Whether restartPolicy restarts a container that exited with `exitCode` (undefined: unknown, not a success). */
  function restarts(run: PodRun, exitCode: number | undefined): boolean {
    const policy = run.pod.spec.restartPolicy ?? 'Always';
    return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
  }

  /** A container that will not run again: finished (exit 0) or the pod failed. */
  function endContainer(run: PodRun, c: ContainerRun, exitCode: number | undefined, message: string | undefined): void {
    if (exitCode !== 0) {
      run.phase = 'failed';
      run.ready = false;
      const reason = message ?? (exitCode === undefined ? PROCESS_REASONS.statusUnknown : PROCESS_REASONS.error);
      emit(run, { type: 'failed', reason, ...(exitCode !== undefined ? { exitCode } : {}) });
      return;
    }
    c.finished = true;
    if (run.ready) {
      run.ready = false;
      emit(run, { type: 'notReady', reason: PROCESS_REASONS.completed });
    }
  }

  function onContainerGone(run: PodRun, c: ContainerRun, exitCode: number | undefined, message: string | undefined): void {
    const ranForMs = c.running ? Date.now() - c.startedAtMs : 0;
    c.running = false;
    c.ready = false;
    c.worker?.stop();
    c.worker = undefined;
    if (run.phase !== 'running') return;

    if (!restarts(run, exitCode)) {
      endContainer(run, c, exitCode, message);
      return;
    }

    const decision = decideBackoff(c.pendingBackoffMs, ranForMs, backoff);
    c.pendingBackoffMs = decision.nextMs;
    const reason = exitCode === undefined ? PROCESS_REASONS.statusUnknown : decision.crashLooping ? PROCESS_REASONS.crashLoop : PROCESS_REASONS.error;
    c.log.warn({ exitCode, restartInMs: decision.delayMs, reason }, 'container will restart');
    run.ready = false;
    emit(run, { type: 'notReady', reason });
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      if (run.phase !== 'running') return;
      c.restartCount++;
      spawnContainer(run, c);
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
    if (c.adopted && (c.record === undefined || !isRecordedProcess(c.record))) {
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

  /** The pod's run with its containers, or a failed run when it cannot start here. */
  function createRun(pod: RuntimePod): PodRun {
    const podLog = log.child({ pod: `${pod.namespace}/${pod.name}`, uid: pod.uid });
    const run: PodRun = { pod, log: podLog, containers: [], phase: 'running', ready: false, stopping: undefined };
    holdPod(run);
    const invalid = invalidSpecReason(pod.spec.containers);
    if (invalid !== undefined) {
      podLog.warn({ reason: invalid }, 'pod cannot run on the process driver');
      run.phase = 'failed';
      emit(run, { type: 'failed', reason: `${PROCESS_REASONS.invalidSpec}: ${invalid}` });
      return run;
    }
    const envs: Record<string, string>[] = [];
    for (const spec of pod.spec.containers) {
      const env = containerEnv(pod, spec, opts.node);
      if (!env.ok) {
        const reason = `container "${spec.name}": ${env.error}`;
        podLog.warn({ reason }, 'container environment cannot be built');
        run.phase = 'failed';
        emit(run, { type: 'failed', reason: `${PROCESS_REASONS.createContainerConfigError}: ${reason}` });
        return run;
      }
      envs.push(env.env);
    }
    pod.spec.containers.forEach((spec, i) => {
      const env = envs[i]!;
      const containerLog = podLog.child({ container: spec.name });
      run.containers.push({
        spec,
        argv: containerArgv(spec, env) ?? [],
        env,
        log: containerLog,
        output: createContainerOutput(containerLog, outputRate),
        followers: [],
        child: undefined,
        pid: undefined,
        record: undefined,
        adopted: false,
        finish: undefined,
        exited: undefined,
        running: false,
        ready: false,
        restartCount: 0,
        startedAtMs: 0,
        pendingBackoffMs: undefined,
        restartTimer: undefined,
        worker: undefined,
        finished: false,
      });
    });
    return run;
  }

  /** Hands a pod without any command to the sim driver; true when it did. */
  function delegate(pod: RuntimePod): boolean {
    if (hasAnyCommand(pod.spec.containers)) return false;
    if (!loggedFallback) {
      loggedFallback = true;
      log.info('pods without container commands run on the sim driver');
    }
    log.debug({ pod: `${pod.namespace}/${pod.name}`, uid: pod.uid }, 'no container command; handing the pod to the sim driver');
    delegated.add(pod.uid);
    opts.simFallback.start(pod);
    return true;
  }

  function start(pod: RuntimePod): void {
    if (pods.has(pod.uid) || delegated.has(pod.uid)) return;
    if (delegate(pod)) return;
    const run = createRun(pod);
    if (run.phase !== 'running') return;
    for (const c of run.containers) spawnContainer(run, c);
  }

  /** What a new agent finds of one container: its record, and whether the process still runs. */
  interface Found {
    readonly record: PidRecord | undefined;
    readonly alive: boolean;
  }

  /** Brings back one pod after an agent restart: adopts, restarts (counted) or starts its containers. */
  function resume(pod: RuntimePod, found: readonly Found[]): { adopted: number[]; restarted: number } {
    const run = createRun(pod);
    const adopted: number[] = [];
    let restarted = 0;
    if (run.phase !== 'running') return { adopted, restarted };
    const toStart: ContainerRun[] = [];
    let lostReason: string | undefined;
    run.containers.forEach((c, i) => {
      const { record, alive } = found[i] ?? { record: undefined, alive: false };
      if (record !== undefined && alive) {
        adoptContainer(run, c, record);
        adopted.push(record.pid);
        return;
      }
      if (record === undefined) {
        toStart.push(c); // never started here (or its record is lost): a first start
        return;
      }
      // It ran and is gone: ended while no agent watched it, or after the last agent saw it exit.
      c.restartCount = record.restartCount ?? 0;
      c.record = record;
      const exitCode = record.exitCode;
      c.log.info({ pid: record.pid, exitCode, restartCount: c.restartCount }, 'container is gone since the agent last ran');
      if (!restarts(run, exitCode)) {
        endContainer(run, c, exitCode, undefined);
        return;
      }
      c.restartCount++;
      restarted++;
      lostReason ??= exitCode === undefined ? PROCESS_REASONS.statusUnknown : PROCESS_REASONS.error;
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
    for (const c of toStart) spawnContainer(run, c);
    return { adopted, restarted };
  }

  async function recover(wanted: readonly RuntimePod[]): Promise<Recovery> {
    const plans: { pod: RuntimePod; found: Found[] }[] = [];
    const keepFiles = heldFiles();
    const keepUids = new Set<string>();
    for (const pod of wanted) {
      if (pods.has(pod.uid) || delegated.has(pod.uid)) continue;
      keepUids.add(pod.uid);
      if (delegate(pod)) continue;
      const found = pod.spec.containers.map((spec): Found => {
        const record = readPidFile(opts.stateDir, pod.uid, spec.name);
        const alive = record !== undefined && isRecordedProcess(record);
        if (alive) keepFiles.add(pidFilePath(opts.stateDir, pod.uid, spec.name));
        return { record, alive };
      });
      plans.push({ pod, found });
    }
    // Processes of pods not wanted any more go before anything starts (they may hold its ports).
    const cleaned = await cleanupStalePidFiles(opts.stateDir, log, { pids: heldPids(), files: keepFiles });
    removeOrphanLogs(keepUids);
    const adopted: number[] = [];
    let restarted = 0;
    for (const { pod, found } of plans) {
      const r = resume(pod, found);
      adopted.push(...r.adopted);
      restarted += r.restarted;
    }
    log.info({ adopted: adopted.length, restarted, killed: cleaned.killed.length, removedFiles: cleaned.removedFiles }, 'containers recovered');
    return { adopted, restarted, cleaned };
  }

  function stop(uid: string): Promise<void> {
    if (delegated.has(uid)) {
      delegated.delete(uid);
      return opts.simFallback.stop(uid);
    }
    const run = pods.get(uid);
    if (run === undefined) return Promise.resolve();
    if (run.stopping !== undefined) return run.stopping;
    run.phase = 'stopping';
    const graceSeconds = run.pod.spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
    const graceMs = Math.min(Math.max(0, graceSeconds) * 1000, maxGraceMs);
    run.log.info({ graceMs }, 'stopping pod');
    for (const c of run.containers) {
      if (c.restartTimer !== undefined) clearTimeout(c.restartTimer);
      c.restartTimer = undefined;
      c.worker?.stop();
      c.worker = undefined;
    }
    run.stopping = Promise.all(run.containers.map((c) => terminate(c, graceMs))).then(() => {
      for (const c of run.containers) {
        unfollow(c);
        removePidFile(opts.stateDir, uid, c.spec.name);
      }
      rmSync(podLogDir(opts.stateDir, uid), { recursive: true, force: true });
      releasePod(uid);
      run.log.info('pod stopped');
    });
    return run.stopping;
  }

  return {
    name: 'process',
    start,
    stop,
    stopAll: async () => {
      await Promise.all([...pods.keys(), ...delegated].map((uid) => stop(uid)));
    },
    running: () => [...pods.keys(), ...delegated],
    recover,
    cleanupStale: async () => {
      const cleaned = await cleanupStalePidFiles(opts.stateDir, log, { pids: heldPids(), files: heldFiles() });
      removeOrphanLogs(new Set(delegated));
      return cleaned;
    },
  };
}
