import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Wait this long between attempts; default 50 ms. */
  readonly intervalMs?: number;
  /** Names what was awaited, in the timeout error. */
  readonly message?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 50;

/** Thrown by eventually() when the condition never held; `cause` is the last failure seen. */
export class EventuallyTimeoutError extends Error {
  override readonly name = 'EventuallyTimeoutError';
  readonly attempts: number;

  constructor(message: string, attempts: number, cause: unknown) {
    super(message, { cause });
    this.attempts = attempts;
  }
}

/**
 * Polls `fn` until it returns without throwing (and, when it returns a boolean, until it returns
 * true), then resolves with its value. An attempt that hangs is cut off at the deadline.
 * This is how tests wait for something asynchronous to become true, instead of sleeping.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = undefined;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const outcome = await attempt(fn, deadline - Date.now());
    if (outcome.kind === 'value') {
      if (outcome.value !== false) return outcome.value;
      lastError = new Error('the condition returned false');
    } else {
      lastError = outcome.error;
    }
    // A timer may fire a millisecond before Date.now() reaches the deadline: an attempt cut off
    // at the deadline ends the wait, whatever the clock says.
    const remaining = deadline - Date.now();
    if (remaining <= 0 || (outcome.kind === 'error' && outcome.cutOff)) {
      const what = opts.message ?? 'condition';
      const last = lastError instanceof Error ? lastError.message : String(lastError);
      throw new EventuallyTimeoutError(
        `${what}: not met within ${timeoutMs} ms after ${attempts} attempts (last: ${last})`,
        attempts,
        lastError,
      );
    }
    await delay(Math.min(intervalMs, remaining));
  }
}

type Outcome<T> =
  | { readonly kind: 'value'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown; readonly cutOff?: true };

async function attempt<T>(fn: () => T | Promise<T>, remainingMs: number): Promise<Outcome<T>> {
  const controller = new AbortController();
  const timedOut = delay(Math.max(remainingMs, 0), undefined, { signal: controller.signal }).then(
    (): Outcome<T> => ({ kind: 'error', error: new Error(`an attempt was still pending at the deadline`), cutOff: true }),
    (): Outcome<T> => ({ kind: 'error', error: new Error('aborted') }),
  );
  const run = (async (): Promise<Outcome<T>> => {
    try {
      return { kind: 'value', value: await fn() };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([run, timedOut]);
  } finally {
    controller.abort();
  }
}
