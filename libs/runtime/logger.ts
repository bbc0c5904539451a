// The root pino logger of a process. Made once in `main`; everything else gets children
// bound with { shard } / { node } / { ds }. JSON lines on stdout.

import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { createLogThrottle, errSerializer, type LogThrottleOptions } from './log-throttle.js';

export type { Logger };

export interface RootLoggerOptions {
  /** Rate-limits the warnings of errors that come in floods (log-throttle.ts). */
  readonly throttle?: LogThrottleOptions;
  /** Where the lines go (default stdout); for tests. */
  readonly destination?: DestinationStream;
}

export function createRootLogger(service: string, level: string, bindings: Record<string, string | number> = {}, opts: RootLoggerOptions = {}): Logger {
  const options = {
    level: (level || 'info') as LevelWithSilent,
    base: { service, pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(opts.throttle ? { hooks: { logMethod: createLogThrottle(opts.throttle) }, serializers: { err: errSerializer } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
