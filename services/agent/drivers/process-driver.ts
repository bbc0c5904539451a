// The process driver: runs each container's command ++ args as a real child process, the way
// the kubelet runs a container (SyncPod): restartPolicy with CrashLoopBackOff, readiness
// probes, graceful termination (SIGTERM, then SIGKILL after the grace period).
// Every child leads its own process group, so a shell's forks are signalled with it, and when
// the main process of a container ends, whatever it left in its group is killed, as the end of
// a container's PID namespace would. Pods whose containers have no command are handed to the
// sim driver: there are no images to run here.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import type { Container } from '../../../libs/model/types.js';
import type { ContainerOutput, OutputRate } from './container-output.js';
import { createContainerOutput, DEFAULT_OUTPUT_RATE } from './container-output.js';
import { containerArgv, containerEnv } from './container-env.js';
import type { BackoffPolicy } from './crash-backoff.js';
import { decideBackoff, DEFAULT_BACKOFF } from './crash-backoff.js';
import type { RuntimeDriver, RuntimeEvent, RuntimeListener, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { DEFAULT_TERMINATION_GRACE_SECONDS } from '../../../libs/agent-runtime/driver.js';
import type { StaleCleanup } from './pid-files.js';
import { cleanupStalePidFiles, removePidFile, writePidFile } from './pid-files.js';
import type { ReadinessWorker } from './readiness-worker.js';
import { startReadinessWorker } from './readiness-worker.js';
import { signalGroup } from './signal-group.js';

export interface ProcessDriverOptions {
  /** Directory for the driver's state (pid files under `pids/`). */
  readonly stateDir: string;
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
}

export interface ProcessDriver extends RuntimeDriver {
  readonly name: 'process';
  /**
   * Kills the processes named in pid files left by an earlier run of the agent that could not
   * stop its children (kill -9), after checking each pid is still that process, and removes
   * the files. Call once at agent start, before starting pods.
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
} as const;

const DEFAULT_MAX_GRACE_MS = 30_000;

interface ContainerRun {
  readonly spec: Container;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly output: ContainerOutput;
  child: ChildProcess | undefined;
  pid: number | undefined;
  /** Resolves when the current child is gone. */
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

export function createProcessDriver(opts: ProcessDriverOptions): ProcessDriver {
  const log = opts.log.child({ driver: 'process' });
  const maxGraceMs = Math.max(0, opts.maxGraceMs ?? DEFAULT_MAX_GRACE_MS);
  const backoff: BackoffPolicy = {
    initialMs: opts.restartBackoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: opts.restartBackoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    resetAfterMs: opts.restartBackoff?.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs,
  };
  const outputRate = opts.outputRate ?? DEFAULT_OUTPUT_RATE;
  const pods = new Map<string, PodRun>();
  const delegated = new Set<string>();
  const liveChildren = new Set<number>();
  let loggedFallback = false;

  // A clean agent stop calls stopAll(); this is the net for an agent that exits without it
  // (an uncaught error): detached children would otherwise outlive it. Held only while
  // children live, so many drivers in one test process add no lasting listeners.
  const killAllOnExit = (): void => {
    for (const pid of liveChildren) signalGroup(pid, 'SIGKILL');
  };
  function trackChild(pid: number): void {
    if (liveChildren.size === 0) process.on('exit', killAllOnExit);
    liveChildren.add(pid);
  }
  function untrackChild(pid: number): void {
    liveChildren.delete(pid);
    if (liveChildren.size === 0) process.off('exit', killAllOnExit);
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

  /** Reports 'ready' / 'notReady' when the pod's readiness changed (PodReady condition). */
  function updateReadiness(run: PodRun): void {
    if (run.phase !== 'running') return;
    const ready = run.containers.every((c) => c.running && c.ready);
    if (ready === run.ready) return;
    run.ready = ready;
    emit(run, ready ? { type: 'ready' } : { type: 'notReady', reason: PROCESS_REASONS.containersNotReady });
  }

  function startContainer(run: PodRun, c: ContainerRun): void {
    const [file, ...args] = c.argv;
    if (file === undefined) return;
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: c.spec.workingDir,
        env: { ...c.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // spawn throws synchronously only for arguments it cannot pass (a NUL in argv).
      c.log.error({ err }, 'container could not be spawned');
      onContainerGone(run, c, 128, undefined);
      return;
    }
    c.child = child;
    let gone = false;
    let resolveExited: () => void = () => undefined;
    c.exited = new Promise((resolve) => {
      resolveExited = resolve;
    });
    if (child.stdout !== null) c.output.attach(child.stdout, 'stdout');
    if (child.stderr !== null) c.output.attach(child.stderr, 'stderr');

    const finish = (exitCode: number, message: string | undefined): void => {
      if (gone) return;
      gone = true;
      const pid = c.pid;
      if (pid !== undefined) {
        // The container's main process ended: end what it left in its group too.
        signalGroup(pid, 'SIGKILL', c.log);
        untrackChild(pid);
        removePidFile(opts.stateDir, run.pod.uid, c.spec.name);
      }
      c.child = undefined;
      c.pid = undefined;
      resolveExited();
      onContainerGone(run, c, exitCode, message);
    };

    child.on('spawn', () => {
      const pid = child.pid;
      if (pid === undefined) return;
      c.pid = pid;
      trackChild(pid);
      try {
        writePidFile(opts.stateDir, run.pod.uid, c.spec.name, pid, c.argv);
      } catch (err) {
        c.log.warn({ err }, 'pid file could not be written');
      }
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

  function onContainerRunning(run: PodRun, c: ContainerRun): void {
    c.running = true;
    c.startedAtMs = Date.now();
    c.log.info({ pid: c.pid, restartCount: c.restartCount }, 'container started');
    if (run.containers.every((other) => other.running || other.finished)) {
      emit(run, { type: 'started', restartCount: restartTotal(run) });
    }
    const probe = c.spec.readinessProbe;
    if (probe === undefined) {
      c.ready = true;
    } else {
      c.ready = false;
      c.worker = startReadinessWorker({
        probe,
        context: c.spec.workingDir === undefined ? { container: c.spec, env: c.env } : { container: c.spec, env: c.env, cwd: c.spec.workingDir },
        onChange: (ready, result) => {
          c.ready = ready;
          if (!result.ok) c.log.info({ probe: result.message }, 'readiness probe failed');
          updateReadiness(run);
        },
        onError: (err) => c.log.error({ err }, 'readiness probe error'),
      });
    }
    updateReadiness(run);
  }

  function onContainerGone(run: PodRun, c: ContainerRun, exitCode: number, message: string | undefined): void {
    const ranForMs = c.running ? Date.now() - c.startedAtMs : 0;
    c.running = false;
    c.ready = false;
    c.worker?.stop();
    c.worker = undefined;
    if (run.phase !== 'running') return;

    const policy = run.pod.spec.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      if (exitCode !== 0) {
        run.phase = 'failed';
        run.ready = false;
        emit(run, { type: 'failed', reason: message ?? PROCESS_REASONS.error, exitCode });
        return;
      }
      c.finished = true;
      if (run.ready) {
        run.ready = false;
        emit(run, { type: 'notReady', reason: PROCESS_REASONS.completed });
      }
      return;
    }

    const decision = decideBackoff(c.pendingBackoffMs, ranForMs, backoff);
    c.pendingBackoffMs = decision.nextMs;
    const reason = decision.crashLooping ? PROCESS_REASONS.crashLoop : PROCESS_REASONS.error;
    c.log.warn({ exitCode, restartInMs: decision.delayMs, reason }, 'container will restart');
    run.ready = false;
    emit(run, { type: 'notReady', reason });
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      if (run.phase !== 'running') return;
      c.restartCount++;
      startContainer(run, c);
    }, decision.delayMs);
  }

  /** SIGTERM the group, SIGKILL it after the grace, resolve once the main process is gone. */
  async function terminate(c: ContainerRun, graceMs: number): Promise<void> {
    const exited = c.exited;
    // child.pid is set as soon as spawn() returns; c.pid only once 'spawn' was emitted.
    const pid = c.pid ?? c.child?.pid;
    if (exited === undefined) return;
    if (pid === undefined) {
      // The spawn failed; its 'error' settles `exited`.
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

  function start(pod: RuntimePod): void {
    const uid = pod.uid;
    if (pods.has(uid) || delegated.has(uid)) return;
    const podLog = log.child({ pod: `${pod.namespace}/${pod.name}`, uid });

    if (!hasAnyCommand(pod.spec.containers)) {
      if (!loggedFallback) {
        loggedFallback = true;
        log.info('pods without container commands run on the sim driver');
      }
      podLog.debug('no container command; handing the pod to the sim driver');
      delegated.add(uid);
      opts.simFallback.start(pod);
      return;
    }

    const run: PodRun = { pod, log: podLog, containers: [], phase: 'running', ready: false, stopping: undefined };
    pods.set(uid, run);
    const invalid = invalidSpecReason(pod.spec.containers);
    if (invalid !== undefined) {
      podLog.warn({ reason: invalid }, 'pod cannot run on the process driver');
      run.phase = 'failed';
      emit(run, { type: 'failed', reason: `${PROCESS_REASONS.invalidSpec}: ${invalid}` });
      return;
    }
    for (const spec of pod.spec.containers) {
      const env = containerEnv(pod, spec);
      const argv = containerArgv(spec, env) ?? [];
      const containerLog = podLog.child({ container: spec.name });
      run.containers.push({
        spec,
        argv,
        env,
        log: containerLog,
        output: createContainerOutput(containerLog, outputRate),
        child: undefined,
        pid: undefined,
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
    }
    for (const c of run.containers) startContainer(run, c);
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
      pods.delete(uid);
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
    cleanupStale: () => Promise.resolve(cleanupStalePidFiles(opts.stateDir, log, liveChildren)),
  };
}
