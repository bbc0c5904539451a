// Container output into the agent's logs: split into lines, each logged under the container's
// child logger, at a bounded rate (a token bucket shared by stdout and stderr). Lines over the
// rate are counted and the count is logged once output is allowed again.

import type { Readable } from 'node:stream';
import type { Logger } from 'pino';

export interface OutputRate {
  /** Sustained lines per second. */
  readonly linesPerSecond: number;
  /** Lines that may be logged at once after a quiet spell. */
  readonly burst: number;
  /** Longer lines are cut to this many characters. */
  readonly maxLineChars: number;
}

export const DEFAULT_OUTPUT_RATE: OutputRate = { linesPerSecond: 50, burst: 200, maxLineChars: 4096 };

export interface ContainerOutput {
  /** Reads `stream` line by line until it ends. */
  attach(stream: Readable, name: 'stdout' | 'stderr'): void;
}

export function createContainerOutput(log: Logger, rate: OutputRate, now: () => number = Date.now): ContainerOutput {
  let tokens = rate.burst;
  let refilledAt = now();
  let dropped = 0;

  function take(): boolean {
    const t = now();
    tokens = Math.min(rate.burst, tokens + ((t - refilledAt) / 1000) * rate.linesPerSecond);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  function emit(line: string, name: 'stdout' | 'stderr'): void {
    if (!take()) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      log.warn({ dropped }, 'container output dropped over the rate limit');
      dropped = 0;
    }
    const text = line.length > rate.maxLineChars ? `${line.slice(0, rate.maxLineChars)}…` : line;
    log.info({ stream: name, line: text }, 'container output');
  }

  return {
    attach(stream, name) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > rate.maxLineChars) {
          lines.push(partial);
          partial = '';
        }
        for (const line of lines) emit(line.endsWith('\r') ? line.slice(0, -1) : line, name);
      });
      stream.on('end', () => {
        if (partial !== '') emit(partial, name);
        partial = '';
        if (dropped > 0) {
          log.warn({ dropped }, 'container output dropped over the rate limit');
          dropped = 0;
        }
      });
      stream.on('error', (err) => log.debug({ err, stream: name }, 'container output stream error'));
    },
  };
}
