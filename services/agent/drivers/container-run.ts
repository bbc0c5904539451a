// The state the process driver keeps of a pod it runs (PodRun) and of each of its containers
// (ContainerRun), what the driver's parts share (DriverContext), and the pod-level reports: the
// events sent to the listener, the pod's Ready condition, and the pid file that lets a new agent
// adopt a container or count its restart.

import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { Container } from '../../../libs/model/types.js';
import type { RuntimeEvent, RuntimeListener, RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import type { ContainerOutput, OutputFollower, OutputRate } from './container-output.js';
import { createContainerOutput } from './container-output.js';
import { containerArgv, containerEnv } from './container-env.js';
import type { BackoffPolicy } from './crash-backoff.js';
import type { PidRecord } from './pid-files.js';
import { isRecordedProcess, writePidFile } from './pid-files.js';
import type { Poller } from './poller.js';
import { PROCESS_REASONS } from './process-reasons.js';
import type { ReadinessWorker } from './readiness-worker.js';

/** What the parts of one process driver share, its options normalised. */
export interface DriverContext {
  /** Directory for the driver's state (pid files under `pids/`, container output under `logs/`). */
  readonly stateDir: string;
  /** The node the driver runs on (the downward API's node fields). */
  readonly node: RuntimeNode;
  readonly listener: RuntimeListener;
  /** The driver's logger; each pod's is its child. */
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  readonly outputRate: OutputRate;
  readonly poller: Poller;
}

export interface ContainerRun {
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

export interface PodRun {
  readonly pod: RuntimePod;
  readonly log: Logger;
  /** Where the pod's events go. */
  readonly listener: RuntimeListener;
  readonly containers: ContainerRun[];
  phase: 'running' | 'failed' | 'stopping';
  /** The readiness last reported. */
  ready: boolean;
  stopping: Promise<void> | undefined;
}

/** `namespace/name`, as the pod is named in logs. */
export function podRef(pod: RuntimePod): string {
  return `${pod.namespace}/${pod.name}`;
}

/** A pod's run, not yet with its containers (addContainers). */
export function newPodRun(ctx: DriverContext, pod: RuntimePod): PodRun {
  const log = ctx.log.child({ pod: podRef(pod), uid: pod.uid });
  return { pod, log, listener: ctx.listener, containers: [], phase: 'running', ready: false, stopping: undefined };
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

/** Gives the run its containers, or fails it when the pod cannot start here. */
export function addContainers(ctx: DriverContext, run: PodRun): void {
  const { pod } = run;
  const invalid = invalidSpecReason(pod.spec.containers);
  if (invalid !== undefined) {
    run.log.warn({ reason: invalid }, 'pod cannot run on the process driver');
    failRun(run, `${PROCESS_REASONS.invalidSpec}: ${invalid}`);
    return;
  }
  const envs: Record<string, string>[] = [];
  for (const spec of pod.spec.containers) {
    const env = containerEnv(pod, spec, ctx.node);
    if (!env.ok) {
      const reason = `container "${spec.name}": ${env.error}`;
      run.log.warn({ reason }, 'container environment cannot be built');
      failRun(run, `${PROCESS_REASONS.createContainerConfigError}: ${reason}`);
      return;
    }
    envs.push(env.env);
  }
  pod.spec.containers.forEach((spec, i) => {
    const env = envs[i]!;
    const containerLog = run.log.child({ container: spec.name });
    run.containers.push({
      spec,
      argv: containerArgv(spec, env) ?? [],
      env,
      log: containerLog,
      output: createContainerOutput(containerLog, ctx.outputRate),
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
}

export function emit(run: PodRun, event: RuntimeEvent): void {
  try {
    run.listener(run.pod.uid, event);
  } catch (err) {
    run.log.error({ err, event: event.type }, 'runtime listener threw');
  }
}

/** The pod cannot run (any more): reports 'failed', with the exit code that caused it if any. */
export function failRun(run: PodRun, reason: string, exitCode?: number): void {
  run.phase = 'failed';
  run.ready = false;
  emit(run, { type: 'failed', reason, ...(exitCode !== undefined ? { exitCode } : {}) });
}

/** The pod's restart count: the sum of its containers' (kubectl's RESTARTS). */
export function restartTotal(run: PodRun): number {
  return run.containers.reduce((sum, c) => sum + c.restartCount, 0);
}

/** The pod's Ready condition: every container runs and is ready. */
export function podReady(run: PodRun): boolean {
  return run.containers.every((c) => c.running && c.ready);
}

/** Reports 'ready' / 'notReady' when the pod's readiness changed (PodReady condition). */
export function updateReadiness(run: PodRun): void {
  if (run.phase !== 'running') return;
  const ready = podReady(run);
  if (ready === run.ready) return;
  run.ready = ready;
  emit(run, ready ? { type: 'ready' } : { type: 'notReady', reason: PROCESS_REASONS.containersNotReady });
}

/** Writes what a new agent needs to adopt the container or count its restart. */
export function persist(ctx: DriverContext, run: PodRun, c: ContainerRun, extra: Partial<PidRecord> = {}): void {
  if (c.record === undefined || run.phase === 'stopping') return;
  c.record = { ...c.record, restartCount: c.restartCount, startedAtMs: c.startedAtMs, ready: c.ready, ...extra };
  try {
    writePidFile(ctx.stateDir, run.pod.uid, c.spec.name, c.record);
  } catch (err) {
    c.log.warn({ err }, 'pid file could not be written');
  }
}

/** True when the container's current process was adopted and has ended since (or is no longer the recorded one). */
export function adoptedProcessGone(c: ContainerRun): boolean {
  return c.adopted && (c.record === undefined || !isRecordedProcess(c.record));
}
