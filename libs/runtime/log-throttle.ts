// Rate-limited warnings for errors that come in floods: a full store refuses every write, a lost
// bus times out every request, and a service that logs each one with its stack trace buries the
// one line that says what is wrong. For such errors (the classifier names their class), a warn
// or error line is written for the first one of a class, without the stack; the next ones of the
// same class within the interval are counted, and one line per class per interval then says how
// many there were and under which messages (as reject-counters.ts does for rejected messages).
// Every other line is written as it was logged.

import { stdSerializers, type Logger, type LogFn } from 'pino';

/** The class of an error worth rate-limiting, with a line that explains it; undefined: log it as usual. */
export type ErrorThrottleClassifier = (err: unknown) => { readonly class: string; readonly reason?: string } | undefined;

export interface LogThrottleOptions {
  readonly classify: ErrorThrottleClassifier;
  /** One summary line per class per this many ms (default 10 s). */
  readonly everyMs?: number;
}

export const DEFAULT_THROTTLE_MS = 10_000;
/** pino's level numbers of `warn` and `error`: only these are rate-limited (a fatal line keeps its stack). */
const WARN_LEVEL = 40;
const ERROR_LEVEL = 50;

interface Window {
  startMs: number;
  suppressed: number;
  readonly messages: Map<string, number>;
  timer?: NodeJS.Timeout;
  /** The logger (with its bindings) and level of the last suppressed line, for the summary. */
  last?: { readonly logger: Logger; readonly method: LogFn };
}

/** The error a log call carries: `log.warn({ err }, msg)` or `log.warn(err, msg)`. */
function errorOf(first: unknown): unknown {
  if (first instanceof Error) return first;
  if (typeof first === 'object' && first !== null && 'err' in first) return (first as { err?: unknown }).err;
  return undefined;
}

/** Marks the short form of an error, which errSerializer passes on as it is. */
const BRIEF = Symbol('brief error');

/** The error without its stack and causes: its type, message and code. */
function brief(err: unknown): Record<string | symbol, unknown> {
  if (!(err instanceof Error)) return { [BRIEF]: true, message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { [BRIEF]: true, type: err.name, message: err.message, ...(typeof code === 'number' || typeof code === 'string' ? { code } : {}) };
}

/** pino's `err` serializer, except for the short form made here (which has no stack to drop). */
export function errSerializer(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && BRIEF in value) return value;
  return stdSerializers.err(value as Error);
}

/** A pino `hooks.logMethod` that rate-limits the errors `classify` names (see above). */
export function createLogThrottle(opts: LogThrottleOptions): (this: Logger, args: Parameters<LogFn>, method: LogFn, level: number) => void {
  const everyMs = opts.everyMs ?? DEFAULT_THROTTLE_MS;
  const windows = new Map<string, Window>();

  const flush = (cls: string): void => {
    const w = windows.get(cls);
    if (!w) return;
    w.timer = undefined;
    if (w.suppressed > 0 && w.last) {
      const { logger, method } = w.last;
      method.call(logger, { errClass: cls, count: w.suppressed, messages: Object.fromEntries(w.messages), intervalMs: everyMs }, 'errors of one class repeated (rate-limited)');
    }
    // An interval with a summary is followed by another; one without ends the series.
    if (w.suppressed > 0) {
      w.startMs = Date.now();
      w.suppressed = 0;
      w.messages.clear();
    } else {
      windows.delete(cls);
    }
  };

  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    const first: unknown = args[0];
    const err = level >= WARN_LEVEL && level <= ERROR_LEVEL ? errorOf(first) : undefined;
    const verdict = err === undefined ? undefined : opts.classify(err);
    if (verdict === undefined) {
      method.apply(this, args);
      return;
    }
    const now = Date.now();
    const w = windows.get(verdict.class);
    if (w === undefined || (w.suppressed === 0 && now - w.startMs >= everyMs)) {
      // The first of a series: written at once, with the reason, without the stack.
      windows.set(verdict.class, { startMs: now, suppressed: 0, messages: new Map() });
      const fields = first instanceof Error ? {} : (first as Record<string, unknown>);
      const rest = args.slice(1) as unknown[];
      const msg = first instanceof Error && rest.length === 0 ? [first.message] : rest;
      const short = brief(err);
      const reason = verdict.reason !== undefined && !(err instanceof Error && verdict.reason === err.message) ? { reason: verdict.reason } : {};
      (method as (...a: unknown[]) => void).apply(this, [{ ...fields, err: short, errClass: verdict.class, ...reason }, ...msg]);
      return;
    }
    w.suppressed++;
    const msg = typeof args[1] === 'string' ? args[1] : err instanceof Error ? err.message : '';
    w.messages.set(msg, (w.messages.get(msg) ?? 0) + 1);
    w.last = { logger: this, method };
    if (w.timer === undefined) {
      w.timer = setTimeout(() => flush(verdict.class), Math.max(0, w.startMs + everyMs - now));
      w.timer.unref();
    }
  };
}
