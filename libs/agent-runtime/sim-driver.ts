// The sim driver: pretends to run a pod so one process can host thousands of them in scale
// tests and demos. Each pod costs one pending timer at most (start → ready), no intervals.

import type { Container } from '../model/types.js';
import type { RuntimeDriver, RuntimeListener, RuntimePod } from './driver.js';
import { mulberry32 } from './prng.js';

/** Per-pod annotations that override the driver's behaviour. */
export const SIM_ANNOTATIONS = {
  /** Milliseconds from start() to 'started' (a non-negative integer). */
  startDelayMs: 'sim.daemonset.io/start-delay-ms',
  /** Milliseconds from 'started' to 'ready' (or 'failed'). */
  readyDelayMs: 'sim.daemonset.io/ready-delay-ms',
  /** "true": started, never ready. */
  neverReady: 'sim.daemonset.io/never-ready',
  /** "true": emits 'failed' instead of 'ready'; "false": never fails, whatever failRate says. */
  fail: 'sim.daemonset.io/fail',
} as const;

/** An image with this tag starts but never becomes ready (a broken rollout to demonstrate). */
export const SIM_BROKEN_TAG = 'broken';

/** The reason and exit code of a simulated failure. */
export const SIM_FAILURE_REASON = 'SimulatedFailure';
export const SIM_FAILURE_EXIT_CODE = 1;

export type TimerHandle = unknown;

export interface SimDriverOptions {
  readonly listener: RuntimeListener;
  readonly startDelayMs: number;
  readonly readyDelayMs: number;
  /** Fraction (0..1) of pods that fail after starting. Default 0. */
  readonly failRate?: number;
  /** Seed of the PRNG that draws failures; the draw for a pod depends only on (seed, uid). */
  readonly seed?: number;
  /** Milliseconds stop() takes to resolve. Default 0 (at once). */
  readonly stopDelayMs?: number;
  /** Timer functions, injectable so tests control time. Default setTimeout / clearTimeout. */
  setTimer?(fn: () => void, ms: number): TimerHandle;
  clearTimer?(handle: TimerHandle): void;
}

type Outcome = 'ready' | 'neverReady' | 'fail';

interface SimPlan {
  readonly startDelayMs: number;
  readonly readyDelayMs: number;
  readonly outcome: Outcome;
}

interface SimPod {
  timer: TimerHandle | undefined;
}

const DEFAULT_SEED = 0x5eed;


/** FNV-1a over the string's UTF-16 code units: spreads uids over the PRNG's seed space. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The tag of an image reference: `nginx:1.25` → `1.25`, `reg:5000/nginx` → undefined. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon < 0 ? undefined : lastSegment.slice(colon + 1);
}

function delayAnnotation(annotations: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const raw = annotations[key];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return fallback;
  return Number(raw.trim());
}

function hasBrokenImage(containers: readonly Container[]): boolean {
  return containers.some((c) => imageTag(c.image) === SIM_BROKEN_TAG);
}

export function createSimDriver(opts: SimDriverOptions): RuntimeDriver {
  const setTimer = opts.setTimer ?? ((fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer ?? ((handle: TimerHandle): void => clearTimeout(handle as NodeJS.Timeout));
  const failRate = Math.min(1, Math.max(0, opts.failRate ?? 0));
  const seed = (opts.seed ?? DEFAULT_SEED) >>> 0;
  const stopDelayMs = Math.max(0, opts.stopDelayMs ?? 0);
  const pods = new Map<string, SimPod>();

  function drawsFailure(uid: string): boolean {
    if (failRate === 0) return false;
    return mulberry32(seed ^ hash32(uid))() < failRate;
  }

  function planFor(pod: RuntimePod): SimPlan {
    const a = pod.annotations;
    const startDelayMs = delayAnnotation(a, SIM_ANNOTATIONS.startDelayMs, opts.startDelayMs);
    const readyDelayMs = delayAnnotation(a, SIM_ANNOTATIONS.readyDelayMs, opts.readyDelayMs);
    const failAnnotation = a[SIM_ANNOTATIONS.fail];
    const fails = failAnnotation === 'true' || (failAnnotation !== 'false' && drawsFailure(pod.uid));
    let outcome: Outcome = 'ready';
    if (fails) outcome = 'fail';
    else if (a[SIM_ANNOTATIONS.neverReady] === 'true' || hasBrokenImage(pod.spec.containers)) outcome = 'neverReady';
    return { startDelayMs, readyDelayMs, outcome };
  }

  /** Runs `fn` after `ms` unless the pod was stopped (or replaced) meanwhile. */
  function schedule(uid: string, record: SimPod, ms: number, fn: () => void): void {
    record.timer = setTimer(() => {
      if (pods.get(uid) !== record) return;
      record.timer = undefined;
      fn();
    }, ms);
  }

  function start(pod: RuntimePod): void {
    const uid = pod.uid;
    if (pods.has(uid)) return;
    const plan = planFor(pod);
    const record: SimPod = { timer: undefined };
    pods.set(uid, record);
    schedule(uid, record, plan.startDelayMs, () => {
      opts.listener(uid, { type: 'started', restartCount: 0 });
      switch (plan.outcome) {
        case 'ready':
          schedule(uid, record, plan.readyDelayMs, () => opts.listener(uid, { type: 'ready' }));
          return;
        case 'fail':
          schedule(uid, record, plan.readyDelayMs, () =>
            opts.listener(uid, { type: 'failed', reason: SIM_FAILURE_REASON, exitCode: SIM_FAILURE_EXIT_CODE }),
          );
          return;
        case 'neverReady':
          return;
        default: {
          const unreachable: never = plan.outcome;
          throw new Error(`unknown sim outcome ${String(unreachable)}`);
        }
      }
    });
  }

  function stop(uid: string): Promise<void> {
    const record = pods.get(uid);
    if (record === undefined) return Promise.resolve();
    pods.delete(uid);
    if (record.timer !== undefined) clearTimer(record.timer);
    record.timer = undefined;
    if (stopDelayMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      setTimer(resolve, stopDelayMs);
    });
  }

  return {
    name: 'sim',
    start,
    stop,
    stopAll: async () => {
      await Promise.all([...pods.keys()].map((uid) => stop(uid)));
    },
    running: () => [...pods.keys()],
  };
}
