// The launcher's settings, parsed once into a frozen LocalClusterConfig, every bad variable reported
// at once (parseLocalClusterConfig).
//
// Settings (environment): every variable the launcher reads.
// | variable        | default        | meaning                                                        |
// | NATS_URL        | (none)         | use this server and start none                                 |
// | NODES           | 3              | agents, named node-1..node-N (0..1000)                         |
// | CONTROLLERS     | 1              | controllers, CONTROLLER_ID controller-1..controller-N (0..100) |
// | NATS_PORT       | 4222           | the embedded server's client port (1..61535); its monitor port |
// |                 |                | is +4000                                                       |
// | NATS_CLUSTER    | 1              | embedded servers (1..5); N > 1: a JetStream cluster            |
// |                 |                | nats-1..nats-N on client ports NATS_PORT.., routes +2000..,    |
// |                 |                | monitors +4000..; the controllers get STREAM_REPLICAS=N and    |
// |                 |                | everyone all N URLs; the agents start once the controllers     |
// |                 |                | have made the streams. Not with NATS_URL                       |
// | STREAM_REPLICAS | (controllers') | passes through to the controllers; in a cluster the launcher   |
// |                 |                | checks it (1..N) and defaults it to N                          |
// | DATA_DIR        | ./.data        | nats store in DATA_DIR/nats (DATA_DIR/nats-<i> in a cluster),  |
// |                 |                | agent state in DATA_DIR/agents/*, the facade's kubeconfig,     |
// |                 |                | context.json, launcher-children.json                           |
// | DRIVER          | process        | the agents' runtime driver: process or sim                     |
// | LOG_LEVEL       | (services')    | passed to every service                                        |
// | APISERVER_PORT  | 8001           | the Kubernetes API facade's port on 127.0.0.1 (0..65535;       |
// |                 |                | kubeconfig in DATA_DIR/kubeconfig); 0: no facade               |
// | AUTH            | 1 (0 with      | credentials on, in DATA_DIR/auth (as `dsctl auth init` writes  |
// |                 |  NATS_URL)     | them; kept across starts); the server refuses connections      |
// |                 |                | without them;                                                  |
// |                 |                | each process gets its own NATS_CREDS; the API facade a token   |
// |                 |                | and HTTPS; dsctl finds the admin's through context.json        |
// | TLS             | 0              | 1: the embedded servers require TLS from clients (routes stay  |
// |                 |                | plain). openssl makes a CA and a certificate for 127.0.0.1 and |
// |                 |                | localhost in DATA_DIR/tls (kept across starts); every process  |
// |                 |                | gets tls:// URLs and NATS_TLS_CA. Not with NATS_URL            |
// | NO_COLOR        | (unset)        | set: the prefixed lines are not coloured (they are only on a   |
// |                 |                | terminal anyway); read in main.ts                              |
// | PATH            | (the shell's)  | where nats-server is looked for, then in /usr/sbin, /usr/bin,  |
// |                 |                | /usr/local/bin; read in main.ts (executables.ts)               |
// AUTH and TLS take 1/true/yes or 0/false/no. The launcher's own settings (NODES, CONTROLLERS,
// NATS_PORT, NATS_CLUSTER, DATA_DIR, DRIVER, AUTH, TLS) and NATS_CREDS do not reach the services
// (each gets its own NATS_CREDS with AUTH=1), nor do NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY
// unless NATS_URL is set (children.ts childBaseEnv). Any other variable (HEARTBEAT_INTERVAL_MS,
// SIM_*_DELAY_MS, ...) passes through to the services.
//
// libs/runtime/env.ts's EnvReader is not used: its messages differ from these (one message per
// bound, no range in it), it does not trim values and accepts what Number() does (1e3, 0x1).
import { resolve } from 'node:path';
import type { Env } from '../../libs/runtime/env.js';

export type Driver = 'process' | 'sim';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const DRIVERS: readonly Driver[] = ['process', 'sim'];
/** JetStream replicates a stream on at most 5 servers; a larger local cluster would only cost memory. */
const MAX_NATS_CLUSTER = 5;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Defaults of every setting, in one place. */
export const LOCAL_CLUSTER_DEFAULTS = Object.freeze({
  nodes: 3,
  controllers: 1,
  natsPort: 4222,
  /** Embedded nats-servers: 1 is a single server, more a JetStream cluster. */
  natsCluster: 1,
  /** Server i's (0-based) client port is natsPort + i; its monitor port is that plus this. */
  monitorPortOffset: 4000,
  /** ...and its cluster (route) port is its client port plus this. */
  clusterPortOffset: 2000,
  dataDir: './.data',
  driver: 'process' as Driver,
  /** The Kubernetes API facade's port (plain HTTP on loopback); 0 starts none. */
  apiserverPort: 8001,
});

export interface LocalClusterConfig {
  /** The URL every service gets: NATS_URL, or the embedded servers' URLs comma-separated. */
  readonly natsUrl: string;
  /** False when NATS_URL was set: start no server. */
  readonly embeddedNats: boolean;
  readonly nodes: number;
  readonly controllers: number;
  /** The first embedded server's client port. */
  readonly natsPort: number;
  /** The first embedded server's monitor port. */
  readonly natsMonitorPort: number;
  /** Embedded servers: 1, or the size of the JetStream cluster. */
  readonly natsCluster: number;
  /** STREAM_REPLICAS for the controllers; undefined leaves the controller's own default (1). */
  readonly streamReplicas: number | undefined;
  /** Absolute. */
  readonly dataDir: string;
  readonly driver: Driver;
  /** Undefined: each service uses its own default. */
  readonly logLevel: LogLevel | undefined;
  /** Port of the Kubernetes API facade; 0: none is started. */
  readonly apiserverPort: number;
  /** AUTH=1: credentials on (DATA_DIR/auth), every process and the API facade require them. */
  readonly auth: boolean;
  /** TLS=1: the embedded servers require TLS from clients, with a CA made in DATA_DIR/tls. */
  readonly tls: boolean;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: LocalClusterConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

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

/** A switch: 1/true/yes or 0/false/no (unset is off). */
function onOff(env: Env, name: string, meaning: string, errors: string[], fallback = false): boolean {
  const raw = nonEmpty(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  errors.push(`${name}=${JSON.stringify(env[name])}: expected 1 (${meaning}) or 0`);
  return false;
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
  const natsCluster = integer(env, 'NATS_CLUSTER', d.natsCluster, 1, MAX_NATS_CLUSTER, errors);
  const driver = oneOf(env, 'DRIVER', DRIVERS, errors) ?? d.driver;
  const logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, errors);
  const apiserverPort = integer(env, 'APISERVER_PORT', d.apiserverPort, 0, 65535, errors);
  const dataDir = resolve(cwd, nonEmpty(env, 'DATA_DIR') ?? d.dataDir);
  const externalUrl = nonEmpty(env, 'NATS_URL');
  // Credentials are on by default for the servers the launcher starts (the safe choice is the easy
  // one: nobody else on the machine can write the log); a running server (NATS_URL) is the user's.
  const auth = onOff(env, 'AUTH', 'credentials on', errors, externalUrl === undefined);
  const tls = onOff(env, 'TLS', 'TLS on the bus', errors);
  if (tls && externalUrl !== undefined) {
    errors.push('TLS=1 makes certificates for the servers the launcher starts, NATS_URL uses running ones: for yours set NATS_TLS_CA (and a tls:// URL) instead');
  }
  const lastMonitorPort = natsPort + d.monitorPortOffset + natsCluster - 1;
  if (lastMonitorPort > 65535) {
    errors.push(
      `NATS_PORT=${natsPort} with NATS_CLUSTER=${natsCluster}: the last monitor port would be ${lastMonitorPort}; ` +
        `use a NATS_PORT of at most ${65535 - d.monitorPortOffset - natsCluster + 1}`,
    );
  }
  if (externalUrl !== undefined && natsCluster > 1) {
    errors.push(`NATS_CLUSTER=${natsCluster} starts servers, NATS_URL uses running ones: set only one of them`);
  }
  // A cluster's streams are replicated on every server (R3 for three) unless STREAM_REPLICAS says otherwise.
  const streamReplicas =
    natsCluster > 1 ? integer(env, 'STREAM_REPLICAS', natsCluster, 1, natsCluster, errors) : undefined;
  if (errors.length > 0) return { ok: false, errors };
  // The scheme is for people reading it: the client follows the server's INFO (tls_required).
  const scheme = tls ? 'tls' : 'nats';
  const natsUrl =
    externalUrl ??
    Array.from({ length: natsCluster }, (_, i) => `${scheme}://127.0.0.1:${natsPort + i}`).join(',');
  return {
    ok: true,
    config: Object.freeze({
      natsUrl,
      embeddedNats: externalUrl === undefined,
      nodes,
      controllers,
      natsPort,
      natsMonitorPort: natsPort + d.monitorPortOffset,
      natsCluster,
      streamReplicas,
      dataDir,
      driver,
      logLevel,
      apiserverPort,
      auth,
      tls,
    }),
  };
}
