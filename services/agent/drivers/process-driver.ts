// The process driver: runs each container's command ++ args as a real child process, the way
// the kubelet runs a container (SyncPod; container-lifecycle.ts): restartPolicy with
// CrashLoopBackOff, readiness probes, graceful termination (SIGTERM, then SIGKILL after the
// grace period). Pods whose containers have no command are handed to the sim driver: there are
// no images to run here.
//
// Containers outlive the agent, as containers outlive a kubelet restart: their output goes to
// files (container-log-files.ts), each container's pid file (pid-files.ts) records which process
// it is, and an agent that starts again calls recover() with the pods it should run, which
// adopts the containers still running and starts the rest again (container-adoption.ts).

import type { Logger } from 'pino';
import type { Container } from '../../../libs/model/types.js';
import type { RuntimeDriver, RuntimeListener, RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
import { DEFAULT_TERMINATION_GRACE_SECONDS } from '../../../libs/agent-runtime/driver.js';
import type { FoundContainer } from './container-adoption.js';
import { findContainers, resume } from './container-adoption.js';
import { spawnContainer, stopContainers } from './container-lifecycle.js';
import { removeOrphanLogs, removePodLogs, unfollow } from './container-log-files.js';
import type { OutputRate } from './container-output.js';
import { DEFAULT_OUTPUT_RATE } from './container-output.js';
import type { DriverContext, PodRun } from './container-run.js';
import { addContainers, newPodRun, podRef } from './container-run.js';
import { DEFAULT_BACKOFF } from './crash-backoff.js';
import type { StaleCleanup } from './pid-files.js';
import { cleanupStalePidFiles, pidFilePath, removePidFile } from './pid-files.js';
import { createPoller } from './poller.js';
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

const DEFAULT_MAX_GRACE_MS = 30_000;
const DEFAULT_POLL_MS = 100;

function hasAnyCommand(containers: readonly Container[]): boolean {
  return containers.some((c) => (c.command ?? []).length > 0 || (c.args ?? []).length > 0);
}

export function createProcessDriver(opts: ProcessDriverOptions): ProcessDriver {
  const log = opts.log.child({ driver: 'process' });
  const maxGraceMs = Math.max(0, opts.maxGraceMs ?? DEFAULT_MAX_GRACE_MS);
  const ctx: DriverContext = {
    stateDir: opts.stateDir,
    node: opts.node,
    listener: opts.listener,
    log,
    backoff: {
      initialMs: opts.restartBackoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
      maxMs: opts.restartBackoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
      resetAfterMs: opts.restartBackoff?.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs,
    },
    outputRate: opts.outputRate ?? DEFAULT_OUTPUT_RATE,
    poller: createPoller(Math.max(1, opts.pollMs ?? DEFAULT_POLL_MS)),
  };
  const pods = new Map<string, PodRun>();
  const delegated = new Set<string>();
  let loggedFallback = false;

  const holds = (uid: string): boolean => pods.has(uid) || delegated.has(uid);

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

  // The net for tests that exit without stopAll(); an agent leaves its containers to the next.
  // Held only while pods are, so many drivers in one test process add no lasting listeners.
  const killAllOnExit = (): void => {
    for (const pid of heldPids()) signalGroup(pid, 'SIGKILL');
  };
  function holdPod(run: PodRun): void {
    if (pods.size === 0 && opts.killOnExit === true) process.on('exit', killAllOnExit);
    pods.set(run.pod.uid, run);
  }
  function releasePod(uid: string): void {
    pods.delete(uid);
    if (pods.size === 0 && opts.killOnExit === true) process.off('exit', killAllOnExit);
  }

  /**
   * Kills what pid files name beyond the containers held and `keepFiles`, then removes the log
   * folders of pods neither held nor `kept`.
   */
  async function removeStale(keepFiles: ReadonlySet<string>, kept: (uid: string) => boolean): Promise<StaleCleanup> {
    const cleaned = await cleanupStalePidFiles(opts.stateDir, log, { pids: heldPids(), files: keepFiles });
    removeOrphanLogs(opts.stateDir, (uid) => pods.has(uid) || kept(uid));
    return cleaned;
  }

  /** The pod's run with its containers (held, so stop() finds it), or a failed run when it cannot start here. */
  function createRun(pod: RuntimePod): PodRun {
    const run = newPodRun(ctx, pod);
    holdPod(run);
    addContainers(ctx, run);
    return run;
  }

  /** Hands a pod without any command to the sim driver; true when it did. */
  function delegate(pod: RuntimePod): boolean {
    if (hasAnyCommand(pod.spec.containers)) return false;
    if (!loggedFallback) {
      loggedFallback = true;
      log.info('pods without container commands run on the sim driver');
    }
    log.debug({ pod: podRef(pod), uid: pod.uid }, 'no container command; handing the pod to the sim driver');
    delegated.add(pod.uid);
    opts.simFallback.start(pod);
    return true;
  }

  function start(pod: RuntimePod): void {
    if (holds(pod.uid)) return;
    if (delegate(pod)) return;
    const run = createRun(pod);
    if (run.phase !== 'running') return;
    for (const c of run.containers) spawnContainer(ctx, run, c);
  }

  async function recover(wanted: readonly RuntimePod[]): Promise<Recovery> {
    const plans: { pod: RuntimePod; found: FoundContainer[] }[] = [];
    const keepFiles = heldFiles();
    const keepUids = new Set<string>();
    for (const pod of wanted) {
      if (holds(pod.uid)) continue;
      keepUids.add(pod.uid);
      if (delegate(pod)) continue;
      const found = findContainers(opts.stateDir, pod);
      for (const f of found) if (f.alive) keepFiles.add(f.file);
      plans.push({ pod, found });
    }
    // Processes of pods not wanted any more go before anything starts (they may hold its ports).
    const cleaned = await removeStale(keepFiles, (uid) => keepUids.has(uid));
    const adopted: number[] = [];
    let restarted = 0;
    for (const { pod, found } of plans) {
      const r = resume(ctx, createRun(pod), found);
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
    run.stopping = stopContainers(run, graceMs).then(() => {
      for (const c of run.containers) {
        unfollow(ctx.poller, c);
        removePidFile(opts.stateDir, uid, c.spec.name);
      }
      removePodLogs(opts.stateDir, uid);
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
    cleanupStale: () => removeStale(heldFiles(), (uid) => delegated.has(uid)),
  };
}
