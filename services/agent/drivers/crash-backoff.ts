// Restart back-off for containers under restartPolicy Always, after the kubelet's
// CrashLoopBackOff: the delay doubles from initialMs up to maxMs and starts over once a
// container has run for resetAfterMs without crashing.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

/** The kubelet's cap (5 min) and reset window (10 min), with a 1 s first delay. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 300_000, resetAfterMs: 600_000 };

export interface BackoffDecision {
  /** How long to wait before restarting. */
  readonly delayMs: number;
  /** The delay the next crash will use, unless the container runs long enough to reset it. */
  readonly nextMs: number;
  /** True when this crash follows an earlier one in the same run of crashes. */
  readonly crashLooping: boolean;
}

/**
 * Decides the delay after a crash. `pendingMs` is the `nextMs` of the previous decision
 * (undefined before the first crash), `ranForMs` how long the container ran this time.
 */
export function decideBackoff(pendingMs: number | undefined, ranForMs: number, policy: BackoffPolicy): BackoffDecision {
  const carried = ranForMs >= policy.resetAfterMs ? undefined : pendingMs;
  const delayMs = Math.min(carried ?? policy.initialMs, policy.maxMs);
  return { delayMs, nextMs: Math.min(delayMs * 2, policy.maxMs), crashLooping: carried !== undefined };
}
