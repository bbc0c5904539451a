import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { tempDir } from './temp-dir.js';

/** A NATS server for one test file. */
export interface TestNats {
  readonly url: string;
  /** 'env': NATS_URL was set (shared server: use your own names); 'process': a child nats-server; 'container': testcontainers. */
  readonly kind: 'env' | 'process' | 'container';
  /** The JetStream store folder of a 'process' server (removed by stop()). */
  readonly storeDir?: string;
  stop(): Promise<void>;
  /**
   * kill -9 and restart the same server (same port, same store), after `downMs` (default 0) with
   * nothing listening. Only a 'process' server has it.
   */
  restart?(downMs?: number): Promise<void>;
  /** Sends a signal to the server process (SIGSTOP, SIGCONT). Only a 'process' server has it. */
  signal?(sig: NodeJS.Signals): void;
}

export interface StartNatsOptions {
  /** Enable JetStream (default true). Ignored for 'env' and 'container' servers. */
  readonly jetstream?: boolean;
  /**
   * The text of a nats-server configuration file (`authorization { … }`, `tls { … }`, `include …`),
   * written to `<storeDir>/server.conf` and passed with `-c`. The address, ports, server name and
   * JetStream store stay on the command line, which takes precedence over the file. Only a
   * 'process' server can take it: with NATS_URL set, or no nats-server binary, startNats throws
   * (check `ownNatsServerUnavailable()` first and skip with its reason).
   */
  readonly configText?: string;
}

/** The name of the configuration file `configText` is written to, inside the store folder. */
export const SERVER_CONFIG_FILE = 'server.conf';

const BINARY_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin'];
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const BIND_ATTEMPTS = 3;

export const NATS_INSTALL_HINT =
  'No NATS server available: NATS_URL is not set, no nats-server binary was found on PATH or in ' +
  `${BINARY_DIRS.join(', ')}, and no Docker engine answers. Install it with ` +
  '`apt-get install nats-server` (or `bash scripts/setup.sh`), or set NATS_URL to a running server.';

/** The nats-server executable on PATH or in the usual system folders, or undefined. */
export function natsServerBinary(): string | undefined {
  const pathDirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...pathDirs, ...BINARY_DIRS]) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this folder: try the next one
    }
  }
  return undefined;
}

/**
 * A server for a test, from (in order): NATS_URL; a throwaway nats-server child on free ports with
 * a temporary store; a testcontainers NATS when a Docker engine answers. Throws how to install
 * nats-server when none of these is available.
 */
export async function startNats(opts: StartNatsOptions = {}): Promise<TestNats> {
  if (opts.configText !== undefined) {
    const unavailable = ownNatsServerUnavailable();
    if (unavailable !== undefined) throw new Error(`startNats({ configText }): ${unavailable}`);
  }
  const envUrl = process.env['NATS_URL'];
  if (envUrl !== undefined && envUrl !== '') {
    return { url: envUrl, kind: 'env', stop: async () => undefined };
  }
  const binary = natsServerBinary();
  if (binary !== undefined) return startNatsProcess(binary, opts.jetstream ?? true, opts.configText);
  return startNatsContainer();
}

/**
 * Why a test cannot start a nats-server of its own with its own configuration (authorization,
 * TLS), or undefined when it can. Such a test skips with this reason: `describe(name, { skip }, …)`.
 */
export function ownNatsServerUnavailable(): string | undefined {
  const envUrl = process.env['NATS_URL'];
  if (envUrl !== undefined && envUrl !== '') {
    return 'NATS_URL is set (a shared server): this test needs a nats-server of its own, started with its own configuration (authorization or TLS); unset NATS_URL to run it';
  }
  if (natsServerBinary() === undefined) {
    return `no nats-server binary on PATH or in ${BINARY_DIRS.join(', ')}: this test needs a nats-server process of its own, started with its own configuration (\`apt-get install nats-server\`)`;
  }
  return undefined;
}

/** Finds a port that is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port'))));
    });
  });
}

/** Children alive right now, killed if the test process exits without stopping them. */
const liveServers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

interface Ports {
  readonly client: number;
  readonly monitor: number;
}

async function startNatsProcess(binary: string, jetstream: boolean, configText?: string): Promise<TestNats> {
  const storeDir = await tempDir('nats-test-');
  let configFile: string | undefined = undefined;
  if (configText !== undefined) {
    configFile = join(storeDir, SERVER_CONFIG_FILE);
    await writeFile(configFile, configText, { mode: 0o600 });
  }
  let lastError: unknown = undefined;
  for (let i = 0; i < BIND_ATTEMPTS; i++) {
    // Another process may take a port between freePort() and the server binding it: try again.
    const ports: Ports = { client: await freePort(), monitor: await freePort() };
    const args = serverArgs(ports, storeDir, jetstream, configFile);
    try {
      const child = await launch(binary, args, ports);
      return processHandle(binary, args, ports, storeDir, child);
    } catch (error) {
      lastError = error;
    }
  }
  await rm(storeDir, { recursive: true, force: true });
  throw new Error(`nats-server did not start after ${BIND_ATTEMPTS} attempts`, { cause: lastError });
}

function serverArgs(ports: Ports, storeDir: string, jetstream: boolean, configFile?: string): string[] {
  const args = ['-a', '127.0.0.1', '-p', String(ports.client), '-m', String(ports.monitor), '-n', `test-${ports.client}`];
  const withConfig = configFile !== undefined ? ['-c', configFile, ...args] : args;
  return jetstream ? ['-js', '-sd', storeDir, ...withConfig] : withConfig;
}

function processHandle(
  binary: string,
  args: readonly string[],
  ports: Ports,
  storeDir: string,
  first: ChildProcess,
): TestNats {
  let child: ChildProcess | undefined = first;
  return {
    url: `nats://127.0.0.1:${ports.client}`,
    kind: 'process',
    storeDir,
    async stop() {
      const current = child;
      child = undefined;
      // nats-server exits 0 on SIGINT (it exits 1 on SIGTERM).
      if (current !== undefined) await terminate(current, 'SIGINT');
      await rm(storeDir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      if (child === undefined) throw new Error('restart() after stop()');
      await terminate(child, 'SIGKILL');
      child = undefined;
      if (downMs > 0) await delay(downMs);
      child = await launch(binary, args, ports);
    },
    signal(sig) {
      if (child === undefined) throw new Error(`signal(${sig}) after stop()`);
      child.kill(sig);
    },
  };
}

/** Spawns nats-server and resolves once the client port accepts and /healthz says ok. */
async function launch(binary: string, args: readonly string[], ports: Ports): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  liveServers.add(child);
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail.push(...chunk.split('\n').filter((line) => line !== ''));
    stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    liveServers.delete(child);
    exited = `exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
  });
  child.once('error', (error) => {
    exited = `could not be spawned: ${error.message}`;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    if ((await portAccepts(ports.client)) && (await healthy(ports.monitor))) return child;
    await delay(25);
  }
  child.kill('SIGKILL');
  const why = exited ?? `was not ready within ${READY_TIMEOUT_MS} ms`;
  throw new Error(`nats-server ${args.join(' ')} ${why}:\n${stderrTail.join('\n')}`);
}

/** Signals a child and waits for it to exit, with SIGKILL after a grace time. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function healthy(monitorPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1_000) });
    if (!response.ok) return false;
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

/**
 * A NATS 2.10 container with JetStream, when a Docker engine answers; otherwise throws
 * NATS_INSTALL_HINT. testcontainers is loaded only here, so machines without Docker never load it.
 */
export async function startNatsContainer(): Promise<TestNats> {
  let runtimeError: unknown;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (error) {
    runtimeError = error;
  }
  if (runtimeError !== undefined) throw new Error(NATS_INSTALL_HINT, { cause: runtimeError });
  const { NatsContainer } = await import('@testcontainers/nats');
  const container = await new NatsContainer('nats:2.10').withJetStream().start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    kind: 'container',
    async stop() {
      await container.stop();
    },
  };
}
