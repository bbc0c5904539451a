// The root pino logger of a process. Made once in `main`; everything else gets children
// bound with { shard } / { node } / { ds }. JSON lines on stdout.

import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createRootLogger(service: string, level: string, bindings: Record<string, string | number> = {}): Logger {
  return pino({
    level: (level || 'info') as LevelWithSilent,
    base: { service, pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
