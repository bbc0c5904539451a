// The contract between the agent and whatever runs a pod's containers on this node.
// A driver owns the containers it started; the agent owns the pod commands and turns the
// events a driver reports into PodStarted / PodReady / PodNotReady / PodFailed on the log.

import type { PodSpec } from '../model/types.js';

/**
 * What a driver needs to know about a pod: its identity, spec, labels and annotations. The spec
 * is the pod's as bound to this node (`spec.nodeName` set, as the scheduler's binding sets it).
 */
export interface RuntimePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly spec: PodSpec;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** What a driver knows of the node it runs on (the downward API's `status.hostIP`, limits' defaults). */
export interface RuntimeNode {
  readonly name: string;
  /** The node's addresses, primary first (kubelet's node IPs). */
  readonly hostIPs: readonly string[];
  /** The node's allocatable resources as registered (`cpu`, `memory`, `ephemeral-storage`, …), as quantities. */
  readonly allocatable: Readonly<Record<string, string>>;
}

/**
 * A change in a pod's runtime state, reported by uid.
 * - `started`: every container is running; `restartCount` is the sum of the containers'
 *   restart counts (0 for the first start), as `kubectl get pods` shows it. A driver that
 *   adopted running containers after an agent restart states it again with the count unchanged.
 * - `ready` / `notReady`: the pod's Ready condition changed (reported on transitions).
 * - `failed`: the pod cannot run (a bad spec, a container that exited under
 *   restartPolicy Never, a simulated failure); `exitCode` when a process exit caused it.
 */
export type RuntimeEvent =
  | { readonly type: 'started'; readonly restartCount: number }
  | { readonly type: 'ready' }
  | { readonly type: 'notReady'; readonly reason: string }
  | { readonly type: 'failed'; readonly reason: string; readonly exitCode?: number };

export type RuntimeListener = (uid: string, event: RuntimeEvent) => void;

export interface RuntimeDriver {
  readonly name: 'process' | 'sim';
  /** Start the pod; idempotent by uid (a second call for a running uid does nothing). Events flow to the listener given at construction. */
  start(pod: RuntimePod): void;
  /** Stop the pod: SIGTERM each container, SIGKILL after terminationGracePeriodSeconds (default 30, capped by the driver's maxGraceMs option). Resolves when gone. Unknown uid resolves at once. */
  stop(uid: string): Promise<void>;
  /** Stop every pod this driver holds; resolves when all are gone. */
  stopAll(): Promise<void>;
  /** The uids this driver holds (started and not yet stopped, including failed ones). */
  running(): readonly string[];
}

/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;
