// Runs a container's readinessProbe on its schedule, after the kubelet's prober worker
// (pkg/kubelet/prober/worker.go): wait initialDelaySeconds, then probe every periodSeconds;
// the result flips to ready after successThreshold successes in a row and back after
// failureThreshold failures in a row. One timer at a time; no overlapping probes.
// Seconds may be fractional here (Kubernetes only accepts integers), which tests use.

import type { Probe } from '../../../libs/model/types.js';
import type { ProbeContext, ProbeResult } from './probe.js';
import { runProbe } from './probe.js';

export interface ProbeTiming {
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** The probe's schedule with the Kubernetes defaults (period 10 s, timeout 1 s, thresholds 1 and 3). */
export function probeTiming(probe: Probe): ProbeTiming {
  const seconds = (value: number | undefined, fallback: number, min: number): number =>
    value === undefined || !Number.isFinite(value) || value < min ? fallback * 1000 : value * 1000;
  const count = (value: number | undefined, fallback: number): number =>
    value === undefined || !Number.isInteger(value) || value < 1 ? fallback : value;
  return {
    initialDelayMs: seconds(probe.initialDelaySeconds, 0, 0),
    periodMs: seconds(probe.periodSeconds, 10, Number.MIN_VALUE),
    timeoutMs: seconds(probe.timeoutSeconds, 1, Number.MIN_VALUE),
    successThreshold: count(probe.successThreshold, 1),
    failureThreshold: count(probe.failureThreshold, 3),
  };
}

export interface ReadinessWorker {
  /** Cancels the next probe; a probe in flight is ignored when it returns. */
  stop(): void;
}

export interface ReadinessWorkerOptions {
  readonly probe: Probe;
  readonly context: Omit<ProbeContext, 'timeoutMs'>;
  /** Called when the readiness result changes (it starts as `initiallyReady`). */
  readonly onChange: (ready: boolean, result: ProbeResult) => void;
  /**
   * The result to start from: false for a new container; for one adopted from an earlier agent,
   * its last result, so that only failureThreshold failures flip it (default false).
   */
  readonly initiallyReady?: boolean;
  /**
   * How long the container has run already: initialDelaySeconds counts from the container's start,
   * as the kubelet's worker counts it from the container's StartedAt (default 0).
   */
  readonly runningForMs?: number;
  /** Called with an unexpected error from the probe machinery itself (counted as a failure). */
  readonly onError: (err: unknown) => void;
}

export function startReadinessWorker(opts: ReadinessWorkerOptions): ReadinessWorker {
  const timing = probeTiming(opts.probe);
  const context: ProbeContext = { ...opts.context, timeoutMs: timing.timeoutMs };
  let stopped = false;
  let ready = opts.initiallyReady ?? false;
  let successes = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  function record(result: ProbeResult): void {
    if (result.ok) {
      successes++;
      failures = 0;
      if (!ready && successes >= timing.successThreshold) {
        ready = true;
        opts.onChange(true, result);
      }
    } else {
      failures++;
      successes = 0;
      if (ready && failures >= timing.failureThreshold) {
        ready = false;
        opts.onChange(false, result);
      }
    }
  }

  function tick(): void {
    timer = undefined;
    runProbe(opts.probe, context)
      .catch((err: unknown): ProbeResult => {
        if (!stopped) opts.onError(err);
        return { ok: false, message: err instanceof Error ? err.message : String(err) };
      })
      .then((result) => {
        if (stopped) return;
        record(result);
        if (!stopped) timer = setTimeout(tick, timing.periodMs);
      })
      .catch((err: unknown) => opts.onError(err));
  }

  timer = setTimeout(tick, Math.max(0, timing.initialDelayMs - (opts.runningForMs ?? 0)));
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
