// `npm start`: a local cluster of separate processes — an embedded nats-server (unless NATS_URL is
// set), CONTROLLERS controllers and NODES agents — with prefixed logs, restart on crash with
// back-off (like compose's `restart: unless-stopped`) and an ordered stop on Ctrl-C.
//
// Settings (environment):
// | variable    | default        | meaning                                                        |
// | NATS_URL    | (none)         | use this server and start none                                 |
// | NODES       | 3              | agents, named node-1..node-N                                   |
// | CONTROLLERS | 1              | controllers, CONTROLLER_ID controller-1..controller-N          |
// | NATS_PORT   | 4222           | the embedded server's client port; its monitor port is +4000   |
// | DATA_DIR    | ./.data        | nats store in DATA_DIR/nats, agent state in DATA_DIR/agents/*  |
// | DRIVER      | process        | the agents' runtime driver: process or sim                     |
// | LOG_LEVEL   | (services')    | passed to every service                                        |
// Any other variable (HEARTBEAT_INTERVAL_MS, SIM_*_DELAY_MS, ...) passes through to the services.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Driver = 'process' | 'sim';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ChildRole = 'nats' | 'controller' | 'agent';

const DRIVERS: readonly Driver[] = ['process', 'sim'];
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Defaults of every setting, in one place. */
export const LOCAL_CLUSTER_DEFAULTS = Object.freeze({
  nodes: 3,
  controllers: 1,
  natsPort: 4222,
  /** The embedded server's HTTP monitor port is its client port plus this. */
  monitorPortOffset: 4000,
  dataDir: './.data',
  driver: 'process' as Driver,
});

export interface LocalClusterConfig {
  /** The URL every service gets: NATS_URL, or the embedded server's. */
  readonly natsUrl: string;
  /** False when NATS_URL was set: start no server. */
  readonly embeddedNats: boolean;
  readonly nodes: number;
  readonly controllers: number;
  readonly natsPort: number;
  readonly natsMonitorPort: number;
  /** Absolute. */
  readonly dataDir: string;
  readonly driver: Driver;
  /** Undefined: each service uses its own default. */
  readonly logLevel: LogLevel | undefined;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: LocalClusterConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, errors: string[]): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    errors.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], errors: string[]): T | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  const found = allowed.find((value) => value === raw);
  if (found === undefined) errors.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return found;
}

/** Parses the launcher's settings once, reporting every bad variable together. */
export function parseLocalClusterConfig(env: Env, cwd: string): ConfigResult {
  const errors: string[] = [];
  const d = LOCAL_CLUSTER_DEFAULTS;
  const nodes = integer(env, 'NODES', d.nodes, 0, 1000, errors);
  const controllers = integer(env, 'CONTROLLERS', d.controllers, 0, 100, errors);
  const natsPort = integer(env, 'NATS_PORT', d.natsPort, 1, 65535 - d.monitorPortOffset, errors);
  const driver = oneOf(env, 'DRIVER', DRIVERS, errors) ?? d.driver;
  const logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, errors);
  const dataDir = resolve(cwd, nonEmpty(env, 'DATA_DIR') ?? d.dataDir);
  const externalUrl = nonEmpty(env, 'NATS_URL');
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: Object.freeze({
      natsUrl: externalUrl ?? `nats://127.0.0.1:${natsPort}`,
      embeddedNats: externalUrl === undefined,
      nodes,
      controllers,
      natsPort,
      natsMonitorPort: natsPort + d.monitorPortOffset,
      dataDir,
      driver,
      logLevel,
    }),
  };
}

/** Restart back-off: 1 s doubling to 30 s; a child that stayed up 60 s starts again from 1 s. */
export interface RestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A child up at least this long counts as healthy: its next crash waits initialDelayMs again. */
  readonly resetAfterMs: number;
}
export const RESTART_POLICY: RestartPolicy = Object.freeze({ initialDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 });

/** The crash count after a child exits unexpectedly having run `uptimeMs`: the previous count + 1, or 1 after a long run. */
export function nextCrashCount(previous: number, uptimeMs: number, policy: RestartPolicy = RESTART_POLICY): number {
  return uptimeMs >= policy.resetAfterMs ? 1 : previous + 1;
}

/** The wait before restarting after the `crashCount`-th consecutive crash (1-based). */
export function restartDelayMs(crashCount: number, policy: RestartPolicy = RESTART_POLICY): number {
  const exponent = Math.max(0, crashCount - 1);
  // 2^5 already exceeds the 30x ratio; capping the exponent keeps the arithmetic finite.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(exponent, 30));
}

const ANSI_COLOURS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95] as const;
const ANSI_RESET = '\u001b[0m';

/**
 * Returns a function that prefixes a child's output line with `[name]` padded to the widest name,
 * coloured (one colour per name, in the order given) when `colour` is true.
 */
export function linePrefixer(names: readonly string[], colour: boolean): (name: string, line: string) => string {
  const width = Math.max(0, ...names.map((name) => name.length + 2));
  return (name, line) => {
    const label = `[${name}]`.padEnd(width);
    if (!colour) return `${label} ${line}`;
    const index = names.indexOf(name);
    const code = ANSI_COLOURS[(index < 0 ? 0 : index) % ANSI_COLOURS.length];
    return `\u001b[${code}m${label}${ANSI_RESET} ${line}`;
  };
}

/** What to start for one child process. `env` holds the overrides; the launcher's environment is the base. */
export interface ChildSpec {
  readonly name: string;
  readonly role: ChildRole;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Folder the child needs before it starts. */
  readonly dir: string | undefined;
  /** nats-server exits 1 on SIGTERM and 0 on SIGINT; the services exit 0 on SIGTERM. */
  readonly stopSignal: NodeJS.Signals;
}

export interface Executables {
  /** Node itself (process.execPath). */
  readonly node: string;
  readonly natsServer: string | undefined;
  /** The dist/ folder holding services/<svc>/main.js. */
  readonly distDir: string;
}

export function natsServerArgs(config: LocalClusterConfig): string[] {
  return [
    '-js',
    '-sd', join(config.dataDir, 'nats'),
    '-p', String(config.natsPort),
    '-a', '127.0.0.1',
    '-m', String(config.natsMonitorPort),
    '-n', 'local',
  ];
}

/** Every child of the cluster, in start order: nats (when embedded), controllers, agents. */
export function childSpecs(config: LocalClusterConfig, exe: Executables): ChildSpec[] {
  const common: Record<string, string> = { NATS_URL: config.natsUrl };
  if (config.logLevel !== undefined) common['LOG_LEVEL'] = config.logLevel;
  const specs: ChildSpec[] = [];
  if (config.embeddedNats) {
    specs.push({
      name: 'nats',
      role: 'nats',
      command: exe.natsServer ?? 'nats-server',
      args: natsServerArgs(config),
      env: {},
      dir: join(config.dataDir, 'nats'),
      stopSignal: 'SIGINT',
    });
  }
  for (let i = 1; i <= config.controllers; i++) {
    specs.push({
      name: `controller-${i}`,
      role: 'controller',
      command: exe.node,
      args: [join(exe.distDir, 'services', 'controller', 'main.js')],
      env: { ...common, CONTROLLER_ID: `controller-${i}` },
      dir: undefined,
      stopSignal: 'SIGTERM',
    });
  }
  for (let i = 1; i <= config.nodes; i++) {
    const dataDir = join(config.dataDir, 'agents', `node-${i}`);
    specs.push({
      name: `node-${i}`,
      role: 'agent',
      command: exe.node,
      args: [join(exe.distDir, 'services', 'agent', 'main.js')],
      env: { ...common, NODE_NAME: `node-${i}`, NODE_LABELS: '', DATA_DIR: dataDir, DRIVER: config.driver },
      dir: dataDir,
      stopSignal: 'SIGTERM',
    });
  }
  return specs;
}

/** Agents first (they deregister), then controllers, then the server they all talk to. */
export const STOP_ORDER: readonly ChildRole[] = ['agent', 'controller', 'nats'];

/** Launcher-only variables, not passed to the services. */
const LAUNCHER_VARS = ['NODES', 'CONTROLLERS', 'NATS_PORT', 'DATA_DIR', 'DRIVER'];

export function missingNatsServerHelp(): string {
  return [
    'nats-server was not found (looked on PATH and in /usr/sbin, /usr/bin, /usr/local/bin).',
    'Get it in one of these ways:',
    '  sudo apt-get install nats-server      (Debian/Ubuntu)',
    '  bash scripts/setup.sh                 (installs it with apt-get where it can)',
    '  download a release archive from the NATS releases (github.com/nats-io/nats-server/releases)',
    '  and put the nats-server binary on your PATH',
    'Or point at a running server: NATS_URL=nats://host:4222 npm start',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The running launcher: everything below does I/O.

const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;

function findNatsServer(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs.filter((entry) => entry !== '')) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here: look in the next folder
    }
  }
  return undefined;
}

type Print = (name: string, line: string) => void;
type ChildState = 'idle' | 'running' | 'waiting' | 'stopping' | 'stopped';

/** One child kept running: restarted with back-off when it dies, unless we are stopping it. */
class SupervisedChild {
  private state: ChildState = 'idle';
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exitWaiters: Array<() => void> = [];
  /** Off until the child is known to work, so a child that cannot start fails the launch instead of looping. */
  restartOnExit = true;
  onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(
    readonly spec: ChildSpec,
    private readonly baseEnv: NodeJS.ProcessEnv,
    private readonly print: Print,
    private readonly log: (line: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...this.spec.env };
    // A process group of its own: a terminal's Ctrl-C reaches only the launcher, which then stops
    // the children in order instead of all of them at once.
    const child = spawn(this.spec.command, [...this.spec.args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.state = 'running';
    this.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.print(this.spec.name, line));
    }
    child.once('error', (error) => this.log(`${this.spec.name}: could not start ${this.spec.command}: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    this.log(`started ${this.spec.name} (pid ${child.pid ?? '?'})`);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.state = 'stopped';
      for (const wake of this.exitWaiters.splice(0)) wake();
      return;
    }
    const uptimeMs = Date.now() - this.startedAt;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (!this.restartOnExit) {
      this.state = 'stopped';
      this.log(`${this.spec.name} exited (${how}) after ${formatMs(uptimeMs)}`);
      this.onUnexpectedExit?.(code, signal);
      return;
    }
    this.crashes = nextCrashCount(this.crashes, uptimeMs);
    const waitMs = restartDelayMs(this.crashes);
    this.log(`${this.spec.name} exited (${how}) after ${formatMs(uptimeMs)}; restarting in ${formatMs(waitMs)} (restart ${this.crashes})`);
    this.state = 'waiting';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state === 'waiting') this.start();
    }, waitMs);
  }

  /** Signals the child and waits; SIGKILL after graceMs. Resolves true when it exited by itself. */
  async stop(graceMs: number): Promise<boolean> {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child === undefined || this.state === 'stopped') {
      this.state = 'stopped';
      return true;
    }
    this.state = 'stopping';
    const gone = new Promise<void>((wake) => this.exitWaiters.push(wake));
    child.kill(this.spec.stopSignal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.log(`${this.spec.name} did not stop within ${formatMs(graceMs)}: SIGKILL`);
      child.kill('SIGKILL');
    }, graceMs);
    await gone;
    clearTimeout(timer);
    return !killed;
  }

  kill(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.state = 'stopped';
    this.child?.kill('SIGKILL');
  }
}

function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)} s`;
}

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once('error', () => resolveAccepts(false));
  });
}

async function jetStreamHealthy(monitorPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

function banner(config: LocalClusterConfig): string {
  const server = config.embeddedNats
    ? `${config.natsUrl} (embedded nats-server, store in ${join(config.dataDir, 'nats')})`
    : `${config.natsUrl} (from NATS_URL; no server started)`;
  const urlPrefix = config.natsUrl === 'nats://127.0.0.1:4222' ? '' : `NATS_URL=${config.natsUrl} `;
  return [
    '',
    'daemonset-js local cluster',
    `  NATS:         ${server}`,
    `  controllers:  ${config.controllers}`,
    `  agents:       ${config.nodes} (driver ${config.driver}, state in ${join(config.dataDir, 'agents')})`,
    `  try:          ${urlPrefix}npx dsctl get nodes`,
    '  stop:         Ctrl-C (twice to kill at once)',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const parsed = parseLocalClusterConfig(process.env, process.cwd());
  if (!parsed.ok) {
    process.stderr.write(`local-cluster: bad settings:\n${parsed.errors.map((error) => `  ${error}`).join('\n')}\n`);
    return 1;
  }
  const config = parsed.config;
  const distDir = fileURLToPath(new URL('..', import.meta.url));
  const natsServer = config.embeddedNats ? findNatsServer() : undefined;
  if (config.embeddedNats && natsServer === undefined) {
    process.stderr.write(`${missingNatsServerHelp()}\n`);
    return 1;
  }
  const specs = childSpecs(config, { node: process.execPath, natsServer, distDir });
  const missing = [...new Set(specs.filter((spec) => spec.role !== 'nats').map((spec) => spec.args[0] ?? ''))].filter(
    (entry) => !existsSync(entry),
  );
  if (missing.length > 0) {
    process.stderr.write(`local-cluster: not built: ${missing.join(', ')} (run \`npm run build\`)\n`);
    return 1;
  }

  const colour = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
  const prefix = linePrefixer(['launcher', ...specs.map((spec) => spec.name)], colour);
  const print: Print = (name, line) => process.stdout.write(`${prefix(name, line)}\n`);
  const log = (line: string): void => print('launcher', line);
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of LAUNCHER_VARS) delete baseEnv[name];
  const children = specs.map((spec) => new SupervisedChild(spec, baseEnv, print, log));
  // The children are detached: if the launcher dies some other way, take them along.
  process.on('exit', () => {
    for (const child of children) child.kill();
  });

  let stopping: Promise<number> | undefined;
  const stopAll = async (): Promise<number> => {
    let clean = true;
    for (const role of STOP_ORDER) {
      const group = children.filter((child) => child.spec.role === role);
      if (group.length === 0) continue;
      log(`stopping ${group.map((child) => child.spec.name).join(', ')}`);
      const results = await Promise.all(group.map((child) => child.stop(STOP_GRACE_MS)));
      clean &&= results.every(Boolean);
    }
    log(clean ? 'stopped' : 'stopped (some processes had to be killed)');
    return clean ? 0 : 1;
  };
  const done = new Promise<number>((resolveDone) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping === undefined) {
        log(`${signal}: stopping the cluster (again to kill at once)`);
        stopping = stopAll();
        void stopping.then(resolveDone);
        return;
      }
      log(`${signal} again: killing everything`);
      for (const child of children) child.kill();
      resolveDone(1);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  for (const spec of specs) if (spec.dir !== undefined) await mkdir(spec.dir, { recursive: true });
  process.stdout.write(`${banner(config)}\n`);

  const nats = children.find((child) => child.spec.role === 'nats');
  if (nats !== undefined) {
    nats.restartOnExit = false;
    let failed = false;
    nats.onUnexpectedExit = () => {
      failed = true;
    };
    nats.start();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!ready && !failed && stopping === undefined && Date.now() < deadline) {
      ready = (await portAccepts(config.natsPort)) && (await jetStreamHealthy(config.natsMonitorPort));
      if (!ready) await delay(100);
    }
    if (stopping !== undefined) return done;
    if (!ready) {
      log(
        failed
          ? `nats-server exited before accepting connections: is port ${config.natsPort} or ${config.natsMonitorPort} in use? Set NATS_PORT, or NATS_URL to use a running server.`
          : `nats-server did not accept connections on port ${config.natsPort} within ${formatMs(READY_TIMEOUT_MS)}`,
      );
      await nats.stop(STOP_GRACE_MS);
      return 1;
    }
    nats.restartOnExit = true;
    nats.onUnexpectedExit = undefined;
    log(`nats-server is ready at ${config.natsUrl}`);
  }
  if (stopping === undefined) for (const child of children) if (child.spec.role !== 'nats') child.start();
  return done;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // With no children (NATS_URL set, NODES=0, CONTROLLERS=0) nothing else keeps Node running until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const code = await main();
  clearInterval(keepAlive);
  process.exit(code);
}
