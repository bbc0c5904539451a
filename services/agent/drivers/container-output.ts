// Container output. A container writes its stdout and stderr straight into files the driver
// opened for it (O_APPEND), as a container runtime's log files: never into a pipe held by the
// agent, so a container outlives an agent that was kill -9'd (a pipe whose reader died would
// end it with SIGPIPE on its next write) and keeps logging while no agent runs. The files are
// `<stateDir>/logs/<uid>/<container>.<stdout|stderr>.log`, appended across the container's
// restarts, removed with the pod.
//
// The driver follows the files and logs each line under the container's child logger, at a
// bounded rate (a token bucket shared by stdout and stderr). Lines over the rate are counted and
// the count is logged once output is allowed again. A file that reached maxFileBytes and has
// been read to its end is copied to `<file>.1` and truncated (copytruncate: a line written in
// between the two is lost), so it cannot fill the disk.

import { copyFileSync, closeSync, fstatSync, openSync, readSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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

/** The kubelet's containerLogMaxSize default. */
export const DEFAULT_MAX_LOG_FILE_BYTES = 10 * 1024 * 1024;

/** At most this much of one file is read per poll, so a flood cannot stall the agent. */
const MAX_READ_PER_POLL = 1024 * 1024;

/** One read buffer for every follower: reads are synchronous and decoded at once. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export type OutputStream = 'stdout' | 'stderr';

export function podLogDir(stateDir: string, uid: string): string {
  return join(stateDir, 'logs', encodeURIComponent(uid));
}

export function containerLogPath(stateDir: string, uid: string, container: string, stream: OutputStream): string {
  return join(podLogDir(stateDir, uid), `${encodeURIComponent(container)}.${stream}.log`);
}

export interface OutputFollower {
  /** Logs the complete lines appended since the last read. */
  poll(): void;
  /** Reads to the end and logs a last unterminated line too: the writer has exited. */
  drain(): void;
  close(): void;
}

export interface ContainerOutput {
  /** Follows the file at `path` from byte `fromOffset` (default 0). */
  follow(path: string, name: OutputStream, fromOffset?: number): OutputFollower;
}

export function createContainerOutput(
  log: Logger,
  rate: OutputRate,
  opts: { readonly maxFileBytes?: number; readonly now?: () => number } = {},
): ContainerOutput {
  const now = opts.now ?? Date.now;
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_LOG_FILE_BYTES;
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

  function reportDropped(): void {
    if (dropped === 0) return;
    log.warn({ dropped }, 'container output dropped over the rate limit');
    dropped = 0;
  }

  function emit(line: string, name: OutputStream): void {
    if (!take()) {
      dropped++;
      return;
    }
    reportDropped();
    const text = line.length > rate.maxLineChars ? `${line.slice(0, rate.maxLineChars)}…` : line;
    log.info({ stream: name, line: text }, 'container output');
  }

  return {
    follow(path, name, fromOffset = 0) {
      // Opened at the first read that finds the file (the container's start creates it).
      let fd: number | undefined;
      let warned = false;
      const open = (): void => {
        try {
          fd = openSync(path, 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !warned) log.warn({ err, file: path }, 'container log file cannot be read');
          warned = true;
        }
      };
      let offset = fromOffset;
      let partial = '';
      const decoder = new StringDecoder('utf8');
      const buffer = READ_BUFFER;

      const onText = (chunk: string): void => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > rate.maxLineChars) {
          lines.push(partial);
          partial = '';
        }
        for (const line of lines) emit(line.endsWith('\r') ? line.slice(0, -1) : line, name);
      };

      const read = (budget: number): void => {
        if (fd === undefined) open();
        if (fd === undefined) return;
        let size: number;
        try {
          size = fstatSync(fd).size;
          if (size < offset) offset = 0; // truncated under us
          while (offset < size && budget > 0) {
            const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - offset, budget), offset);
            if (n <= 0) break;
            offset += n;
            budget -= n;
            onText(decoder.write(buffer.subarray(0, n)));
          }
        } catch (err) {
          log.debug({ err, file: path }, 'container log file read failed');
          return;
        }
        if (offset >= size && size >= maxFileBytes) {
          try {
            copyFileSync(path, `${path}.1`);
            truncateSync(path, 0);
            offset = 0;
          } catch (err) {
            log.warn({ err, file: path }, 'container log file could not be rotated');
          }
        }
      };

      return {
        poll: () => read(MAX_READ_PER_POLL),
        drain: () => {
          read(Number.POSITIVE_INFINITY);
          onText(decoder.end());
          if (partial !== '') emit(partial, name);
          partial = '';
          reportDropped();
        },
        close: () => {
          if (fd !== undefined) closeSync(fd);
          fd = undefined;
        },
      };
    },
  };
}
