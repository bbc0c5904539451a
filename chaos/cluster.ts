// One repetition's cluster: the real launcher (`npm start`, dist/scripts/local-cluster.js) on a
// free loopback port with a temporary DATA_DIR, 2 controllers and the agents with the process
// driver. The pids of its children come from the launcher's own lines ("started NAME (pid N)"),
// its whole output goes to a log file, and stop() always leaves nothing behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { LOCAL_CLUSTER_DEFAULTS } from '../scripts/local-cluster/config.js';
import { REPO_ROOT } from '../test/support/processes.js';
import { tempDir } from '../test/support/temp-dir.js';
import type { ClusterSettings } from './args.js';
import { readyNodes } from './dsctl.js';
import { killMarked, MARKER_VAR, signal } from './leftovers.js';

export const LAUNCHER = join(REPO_ROOT, 'dist', 'scripts', 'local-cluster.js');

/** One line the launcher printed (its own, or a child's with a `[name]` prefix), with when. */
export interface ClusterLine {
  readonly atMs: number;
  readonly text: string;
}

export interface ChaosCluster {
  readonly natsUrl: string;
  readonly dataDir: string;
  readonly marker: string;
  readonly logFile: string;
  /** The pid the launcher last started for this child (`nats`, `controller-1`, `node-2`, …). */
  pidOf(child: string): number | undefined;
  /** How many lines were printed so far: waitForLine(…, from) looks only at later ones. */
  lineCount(): number;
  /** The first line from index `from` on that matches, already printed or still to come; undefined at the timeout. */
  waitForLine(match: (text: string) => boolean, from: number, timeoutMs: number): Promise<ClusterLine | undefined>;
  /** Lines matching, from index `from` on. */
  linesMatching(match: (text: string) => boolean, from?: number): ClusterLine[];
  /** SIGCONT to every child, SIGTERM to the launcher (SIGKILL after a bound), then SIGKILL to anything marked left over; removes DATA_DIR. */
  stop(): Promise<StopOutcome>;
}

export interface StopOutcome {
  /** The launcher stopped its children in order and exited 0 within the bound. */
  readonly clean: boolean;
  /** Processes still alive afterwards that had to be killed by pid. */
  readonly leftovers: number;
}

const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 30_000;
/** Lines kept in memory; the log file has them all. */
const MAX_LINES = 100_000;

/** A client port whose monitor port (+4000, as the launcher does) is free too, drawn at random so parallel runs rarely meet. */
async function freePortPair(): Promise<number> {
  const offset = LOCAL_CLUSTER_DEFAULTS.monitorPortOffset;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = randomInt(20_000, 40_000);
    if ((await bindable(port)) && (await bindable(port + offset))) return port;
  }
  throw new Error('no free pair of loopback ports found in 20000-44000');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/** The launcher's environment: ours without anything that would make it use another bus, plus the cluster's settings. */
function launcherEnv(settings: ClusterSettings, port: number, dataDir: string, marker: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['NATS_URL', 'NATS_CLUSTER', 'STREAM_REPLICAS', 'AUTH', 'TLS', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY', 'CONTROLLER_ID', 'NODE_NAME', 'NODE_TEST_CONTEXT', 'NO_COLOR']) {
    delete env[name];
  }
  return {
    ...env,
    NO_COLOR: '1',
    NODES: String(settings.nodes),
    CONTROLLERS: String(settings.controllers),
    NATS_PORT: String(port),
    DATA_DIR: dataDir,
    DRIVER: 'process',
    APISERVER_PORT: '0',
    LEASE_TTL_MS: String(settings.leaseTtlMs),
    NODE_GRACE_MS: String(settings.nodeGraceMs),
    HEARTBEAT_INTERVAL_MS: String(settings.heartbeatIntervalMs),
    [MARKER_VAR]: marker,
  };
}

/** Starts a cluster and waits until every agent's node is Ready; throws (having stopped it) when it does not come up. */
export async function startCluster(settings: ClusterSettings, logFile: string): Promise<ChaosCluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const cluster = await launch(settings, logFile, attempt > 1);
    try {
      await cluster.ready;
      return cluster.handle;
    } catch (err) {
      lastError = err;
      await cluster.handle.stop();
      // A port taken between our check and nats-server's bind: try others.
      if (!(err instanceof PortTakenError)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
}

async function launch(settings: ClusterSettings, logFile: string, append: boolean): Promise<{ handle: ChaosCluster; ready: Promise<void> }> {
  const port = await freePortPair();
  const dataDir = await tempDir('chaos-cluster-');
  const marker = `${randomBytes(6).toString('hex')}`;
  const natsUrl = `nats://127.0.0.1:${port}`;
  const log: WriteStream = createWriteStream(logFile, { flags: append ? 'a' : 'w' });
  const lines: ClusterLine[] = [];
  let dropped = 0;
  const pids = new Map<string, number>();
  const waiters = new Set<() => void>();
  const child: ChildProcess = spawn(process.execPath, [LAUNCHER], {
    cwd: REPO_ROOT,
    env: launcherEnv(settings, port, dataDir, marker),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, sig) => {
      exitCode = code;
      const text = `[chaos]    launcher exited (${sig !== null ? `signal ${sig}` : `code ${code}`})`;
      lines.push({ atMs: Date.now(), text });
      log.write(`${new Date().toISOString()} ${text}\n`);
      for (const wake of waiters) wake();
      resolveExit();
    });
    child.once('error', () => resolveExit());
  });
  const onLine = (text: string): void => {
    const atMs = Date.now();
    log.write(`${new Date(atMs).toISOString()} ${text}\n`);
    const started = /^\[launcher\]\s+started (\S+) \(pid (\d+)\)$/.exec(text);
    if (started !== null) pids.set(started[1]!, Number(started[2]));
    lines.push({ atMs, text });
    if (lines.length > MAX_LINES) {
      lines.shift();
      dropped++;
    }
    for (const wake of waiters) wake();
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
  }
  log.write(`${new Date().toISOString()} [chaos]    launcher pid ${child.pid ?? '?'}, ${natsUrl}, DATA_DIR ${dataDir}, marker ${MARKER_VAR}=${marker}\n`);

  const lineCount = (): number => dropped + lines.length;
  const linesMatching = (match: (text: string) => boolean, from = 0): ClusterLine[] =>
    lines.slice(Math.max(0, from - dropped)).filter((line) => match(line.text));
  const waitForLine = async (match: (text: string) => boolean, from: number, timeoutMs: number): Promise<ClusterLine | undefined> => {
    const deadline = Date.now() + timeoutMs;
    let seen = from;
    for (;;) {
      const found = linesMatching(match, seen)[0];
      if (found !== undefined) return found;
      seen = lineCount();
      const remaining = deadline - Date.now();
      if (remaining <= 0 || exitCode !== undefined) return undefined;
      await new Promise<void>((wake) => {
        const timer = setTimeout(done, remaining);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          wake();
        }
        waiters.add(done);
      });
    }
  };

  let stopping: Promise<StopOutcome> | undefined;
  const stop = (): Promise<StopOutcome> => {
    stopping ??= (async () => {
      // A stopped process would not hear SIGTERM: wake every child first.
      for (const pid of pids.values()) signal(pid, 'SIGCONT');
      let clean = false;
      if (exitCode === undefined && child.pid !== undefined) {
        signal(child.pid, 'SIGTERM');
        const timer = delay(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
        if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
          signal(child.pid, 'SIGKILL');
          await exited;
        } else {
          clean = exitCode === 0;
        }
      }
      const leftovers = await killMarked(marker);
      await new Promise<void>((resolveEnd) => log.end(resolveEnd));
      await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
      return { clean: clean && leftovers === 0, leftovers };
    })();
    return stopping;
  };

  const handle: ChaosCluster = {
    natsUrl,
    dataDir,
    marker,
    logFile,
    pidOf: (name) => pids.get(name),
    lineCount,
    waitForLine,
    linesMatching,
    stop,
  };

  const ready = (async (): Promise<void> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const natsReady = await waitForLine((t) => /^\[launcher\]\s+nats-server is ready/.test(t), 0, READY_TIMEOUT_MS);
    if (natsReady === undefined) {
      const said = linesMatching((t) => t.startsWith('[launcher]')).map((l) => l.text).join('\n');
      if (/in use/.test(said)) throw new PortTakenError(`port ${port} or ${port + LOCAL_CLUSTER_DEFAULTS.monitorPortOffset} was taken`);
      throw new Error(`the launcher's nats-server was not ready within ${READY_TIMEOUT_MS} ms:\n${said}`);
    }
    let ready: string[] = [];
    while (Date.now() < deadline && exitCode === undefined) {
      ready = await readyNodes({ dataDir }, 10_000);
      if (ready.length >= settings.nodes) return;
      await delay(300);
    }
    throw new Error(`only ${ready.length} of ${settings.nodes} nodes were Ready within ${READY_TIMEOUT_MS} ms${exitCode !== undefined ? ` (the launcher exited ${exitCode})` : ''}`);
  })();
  return { handle, ready };
}
