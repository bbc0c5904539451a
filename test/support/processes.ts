import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Environment for a child: merged over the test process's own; `undefined` removes a variable. */
export type ChildEnv = Readonly<Record<string, string | undefined>>;

/** One line a service printed; `json` is the parsed pino record when the line is a JSON object. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  readonly json: Readonly<Record<string, unknown>> | undefined;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitForLogOptions {
  /** Default 20 000 ms. */
  readonly timeoutMs?: number;
  /** Names what was awaited, in the timeout error. */
  readonly message?: string;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** The last OUTPUT_LINES lines the process printed, oldest first. */
  lines(): readonly LogLine[];
  /** The same, as one string, for assertion messages. */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Resolves with the first line (already printed or still to come) that matches; rejects on timeout or exit. */
  waitForLog(predicate: (line: LogLine) => boolean, opts?: WaitForLogOptions): Promise<LogLine>;
  /** Sends `signal`, waits for the exit (SIGKILL after graceMs, default 15 000) and returns the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  /** SIGKILL, resolved once the process is gone. */
  kill9(): Promise<void>;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How many output lines each process keeps. */
export const OUTPUT_LINES = 2_000;
const DEFAULT_WAIT_MS = 20_000;
const DEFAULT_GRACE_MS = 15_000;
const CLI_TIMEOUT_MS = 60_000;

/** Every child still running; killed when the test process exits, however it exits. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function childEnv(env: ChildEnv): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  // Set by `node --test` for its own children; a service must not think it is a test file.
  delete merged['NODE_TEST_CONTEXT'];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** How long to wait after an exit for the rest of the output, when a grandchild keeps the pipes open. */
const OUTPUT_DRAIN_MS = 2_000;

/** Resolves once the child has exited and its output has been read ('close'), or soon after the exit. */
function track(child: ChildProcess): Promise<ExitStatus> {
  liveChildren.add(child);
  return new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      const status: ExitStatus = { code, signal };
      const timer = setTimeout(() => resolveExit(status), OUTPUT_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(timer);
        resolveExit(status);
      });
    });
  });
}

/**
 * Starts `node <entry>` (entry relative to the repository root, e.g. 'dist/services/agent/main.js')
 * with `env` merged over this process's environment, capturing its output line by line.
 */
export function spawnService(name: string, entry: string, env: ChildEnv): ServiceProcess {
  const script = isAbsolute(entry) ? entry : resolve(REPO_ROOT, entry);
  const child = spawn(process.execPath, ['--enable-source-maps', script], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn node ${script}`);
  const pid = child.pid;
  const exited = track(child);
  const buffer: LogLine[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let exitStatus: ExitStatus | undefined;

  const collect = (stream: 'stdout' | 'stderr', input: NodeJS.ReadableStream): void => {
    createInterface({ input, crlfDelay: Infinity }).on('line', (text) => {
      const line: LogLine = { stream, text, json: parseJsonObject(text) };
      buffer.push(line);
      if (buffer.length > OUTPUT_LINES) buffer.shift();
      events.emit('line', line);
    });
  };
  if (child.stdout !== null) collect('stdout', child.stdout);
  if (child.stderr !== null) collect('stderr', child.stderr);
  void exited.then((status) => {
    exitStatus = status;
    events.emit('exit', status);
  });

  const output = (): string => buffer.map((line) => line.text).join('\n');

  const waitForLog = (predicate: (line: LogLine) => boolean, opts: WaitForLogOptions = {}): Promise<LogLine> => {
    const seen = buffer.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    const what = opts.message ?? 'a matching log line';
    return new Promise((resolveLine, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        events.off('line', onLine);
        events.off('exit', onExit);
      };
      const onLine = (line: LogLine): void => {
        if (!predicate(line)) return;
        cleanup();
        resolveLine(line);
      };
      const onExit = (status: ExitStatus): void => {
        cleanup();
        reject(new Error(`${name} exited (code ${status.code}, signal ${status.signal}) before ${what}:\n${output()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name}: no ${what} within ${timeoutMs} ms:\n${output()}`));
      }, timeoutMs);
      events.on('line', onLine);
      if (exitStatus !== undefined) onExit(exitStatus);
      else events.on('exit', onExit);
    });
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = DEFAULT_GRACE_MS): Promise<number | null> => {
    if (exitStatus === undefined) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    const status = await exited;
    return status.code;
  };

  const kill9 = async (): Promise<void> => {
    if (exitStatus === undefined) child.kill('SIGKILL');
    await exited;
  };

  return { name, pid, lines: () => [...buffer], output, exited, waitForLog, stop, kill9 };
}

/** Runs `node bin/dsctl.js ...args` to completion; `input` is written to its stdin (which is closed either way). */
export async function runCli(args: readonly string[], env: ChildEnv, input?: string): Promise<CliResult> {
  const child = spawn(process.execPath, ['--enable-source-maps', resolve(REPO_ROOT, 'bin/dsctl.js'), ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = track(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.stdin?.on('error', () => undefined); // the CLI may exit without reading its input
  child.stdin?.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  const status = await exited;
  clearTimeout(timer);
  if (status.signal === 'SIGKILL') {
    throw new Error(`dsctl ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS} ms:\n${stdout.join('')}${stderr.join('')}`);
  }
  return { code: status.code, stdout: stdout.join(''), stderr: stderr.join('') };
}

function parseJsonObject(text: string): Readonly<Record<string, unknown>> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
