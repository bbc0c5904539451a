// How much of the log a controller read, by its own count (#14): the controller prints a pino line
// `"msg":"log read"` whose `read` is the number of DS_LOG messages delivered to it since it
// started (from all its readers), at least every 5 s while that number changes and once more at
// stop. A controller built before that change prints no such line: the figure is then missing.

import type { LogLine, ServiceProcess } from '../test/support/processes.js';

export const LOG_READ_MSG = 'log read';

export interface LogReadCount {
  /** DS_LOG messages delivered to the controller since it started. */
  readonly read: number;
  /** The line's own time (pino `time`), ms since the epoch. */
  readonly timeMs: number;
}

/** The count in one output line, when it is a `log read` line. */
export function logReadOf(line: LogLine): LogReadCount | undefined {
  const j = line.json;
  if (j === undefined || j['msg'] !== LOG_READ_MSG || typeof j['read'] !== 'number') return undefined;
  const time = j['time'];
  const timeMs = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return { read: j['read'], timeMs };
}

/** The newest count among `lines` (oldest first), if any. */
export function lastLogRead(lines: readonly LogLine[]): LogReadCount | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const r = logReadOf(lines[i]!);
    if (r) return r;
  }
  return undefined;
}

/**
 * The controller's count as of `sinceMs`: its first `log read` line stamped after `sinceMs`, or,
 * when none comes within `waitMs` (the count has not changed since its last line), its newest
 * line. Undefined when it printed none at all.
 */
export async function logReadSince(proc: ServiceProcess, sinceMs: number, waitMs: number): Promise<LogReadCount | undefined> {
  const newer = (line: LogLine): boolean => (logReadOf(line)?.timeMs ?? 0) > sinceMs;
  const line = await proc.waitForLog(newer, { timeoutMs: waitMs, message: 'a log read line' }).then(
    (l) => l,
    // Timed out (or the process exited): its newest line, if any, is the count.
    (): undefined => undefined,
  );
  return line ? logReadOf(line) : lastLogRead(proc.lines());
}
