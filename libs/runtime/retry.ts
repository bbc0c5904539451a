// Waiting out something that is not ready yet (the bus, JetStream, an election), the one retry
// loop of the services' start-up: exponential back-off with jitter (p-retry), a classifier that
// says which failures may get better by waiting (everything else is thrown at once), and a log
// line at a bounded rate that says what is awaited, why, and for how long already (info at
// first, warn once the wait has lasted a logging interval).

import pRetry from 'p-retry';
import type { Logger } from 'pino';

/** What a failure means for the wait: `transient` ones are retried; `reason` is logged. */
export interface RetryVerdict {
  readonly transient: boolean;
  /** One line for a person: what is wrong, and what to do if it lasts. */
  readonly reason: string;
}

export interface RetryUntilReadyOptions {
  readonly log: Logger;
  /** The constant message logged while waiting, e.g. 'waiting for JetStream'. */
  readonly waitingMsg: string;
  /** The constant message logged once ready after having waited, e.g. 'JetStream ready'. */
  readonly readyMsg: string;
  readonly classify: (err: unknown) => RetryVerdict;
  /** Aborting it ends the wait: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** First back-off (ms), doubled per failure up to maxDelayMs. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** While the reason stays the same, one log line per this many ms at most. */
  readonly logEveryMs?: number;
  /** Fields added to every line (e.g. { url }). */
  readonly fields?: Readonly<Record<string, unknown>>;
}

export const RETRY_DEFAULTS = Object.freeze({ minDelayMs: 250, maxDelayMs: 5_000, logEveryMs: 10_000 });
/** A new reason is logged at once, but never more often than this (reasons that alternate). */
const MIN_LOG_GAP_MS = 1_000;

/**
 * Calls `attempt` until it resolves, waiting with back-off after each transient failure; rejects
 * with the first failure the classifier calls terminal, or with the signal's reason once aborted.
 */
export async function retryUntilReady<T>(attempt: (n: number) => Promise<T>, opts: RetryUntilReadyOptions): Promise<T> {
  const minDelayMs = opts.minDelayMs ?? RETRY_DEFAULTS.minDelayMs;
  const maxDelayMs = opts.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const logEveryMs = opts.logEveryMs ?? RETRY_DEFAULTS.logEveryMs;
  const started = Date.now();
  let failures = 0;
  let lastLogMs = -Infinity;
  let lastReason: string | undefined;
  const verdicts = new WeakMap<Error, RetryVerdict>();
  const verdictOf = (err: Error): RetryVerdict => {
    let v = verdicts.get(err);
    if (!v) {
      v = opts.classify(err);
      verdicts.set(err, v);
    }
    return v;
  };
  const result = await pRetry(attempt, {
    retries: Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: minDelayMs,
    maxTimeout: maxDelayMs,
    randomize: true,
    ...(opts.signal ? { signal: opts.signal } : {}),
    shouldRetry: ({ error }) => verdictOf(error).transient,
    onFailedAttempt: ({ error, attemptNumber }) => {
      const verdict = verdictOf(error);
      if (!verdict.transient) return;
      failures = attemptNumber;
      const now = Date.now();
      const changed = verdict.reason !== lastReason;
      if (now - lastLogMs < (changed ? MIN_LOG_GAP_MS : logEveryMs)) return;
      lastLogMs = now;
      lastReason = verdict.reason;
      // A start that waits a moment for the bus is ordinary (info); one that keeps waiting is not (warn).
      const waitedMs = now - started;
      const line = { ...opts.fields, reason: verdict.reason, attempt: attemptNumber, waitedMs };
      if (waitedMs < logEveryMs) opts.log.info(line, opts.waitingMsg);
      else opts.log.warn(line, opts.waitingMsg);
    },
  });
  if (failures > 0) opts.log.info({ ...opts.fields, attempts: failures + 1, waitedMs: Date.now() - started }, opts.readyMsg);
  return result;
}
