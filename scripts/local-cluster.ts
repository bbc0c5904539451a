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
// | NATS_CLUSTER| 1              | embedded servers; N > 1: a JetStream cluster nats-1..nats-N on  |
// |             |                | client ports NATS_PORT.., routes +2000.., monitors +4000..; the |
// |             |                | controllers get STREAM_REPLICAS=N and everyone all N URLs; the  |
// |             |                | agents start once the controllers have made the streams       |
// | DATA_DIR    | ./.data        | nats store in DATA_DIR/nats (DATA_DIR/nats-<i> in a cluster),  |
// |             |                | agent state in DATA_DIR/agents/*                               |
// | DRIVER      | process        | the agents' runtime driver: process or sim                     |
// | LOG_LEVEL   | (services')    | passed to every service                                        |
// | AUTH        | 1 (0 with      | credentials on. `dsctl auth init` writes DATA_DIR/auth (kept   |
// |             |  NATS_URL)     | across starts); the server refuses connections without them;   |
// |             |                | each process gets its own NATS_CREDS; the API facade a token;  |
// |             |                | dsctl finds the admin's through DATA_DIR/context.json          |
// | TLS         | 0              | 1: the embedded servers require TLS from clients (routes stay  |
// |             |                | plain). openssl makes a CA and a certificate for 127.0.0.1 and |
// |             |                | localhost in DATA_DIR/tls (kept across starts); every process  |
// |             |                | gets tls:// URLs and NATS_TLS_CA. Not with NATS_URL            |
// Any other variable (HEARTBEAT_INTERVAL_MS, SIM_*_DELAY_MS, ...) passes through to the services;
// STREAM_REPLICAS too, except that in a cluster the launcher checks it (1..N) and defaults it to N.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { APISERVER_TOKEN_FILE, AUTH_CONF, credsPath, initAuthDir, readApiserverToken } from '../libs/auth/auth-dir.js';
import { CONTEXT_FILE, writeContext } from '../libs/nats/bus-context.js';
import { ChildLedger, reapLeftovers } from './child-ledger.js';

/** The launcher's record of its running children, in DATA_DIR (see child-ledger.ts). */
const LEDGER_FILE = 'launcher-children.json';
import { redactUrl } from '../libs/nats/connect.js';
import { LEASE_BUCKET, LOG_STREAM } from '../libs/topology/names.js';

export type Driver = 'process' | 'sim';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ChildRole = 'nats' | 'controller' | 'apiserver' | 'agent';

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

/** The credentials folder `npm start` writes when AUTH=1. */
export function authDirOf(config: LocalClusterConfig): string {
  return join(config.dataDir, 'auth');
}

/** What the launcher read from the credentials folder (AUTH=1). */
export interface AuthMaterial {
  /** The nats-server `authorization` block (auth.conf). */
  readonly authorization: string;
  /** The API facade's bearer token, for the kubeconfig. */
  readonly token: string;
  /**
   * The API facade's self-signed TLS certificate and key (PEM files): kubectl sends a token only
   * to an https:// server. The certificate also goes into the kubeconfig as its CA.
   */
  readonly apiserverTls?: { readonly certFile: string; readonly keyFile: string; readonly certPem: string };
}

/** The openssl command line that makes the API facade's self-signed certificate for 127.0.0.1. */
export function apiserverCertArgs(certFile: string, keyFile: string): string[] {
  return [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
    '-subj', '/CN=daemonset-js apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ];
}

/** The bus's TLS files `npm start` makes when TLS=1, all in DATA_DIR/tls, all mode 0600. */
export interface BusTlsFiles {
  /** The self-signed CA every client trusts (NATS_TLS_CA). */
  readonly caFile: string;
  /** The CA's key: kept to sign the server certificate again when it is missing. */
  readonly caKeyFile: string;
  /** The servers' certificate, for IP:127.0.0.1 and DNS:localhost, signed by the CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** The folder of the bus's TLS files (TLS=1). */
export function tlsDirOf(config: LocalClusterConfig): string {
  return join(config.dataDir, 'tls');
}

export function busTlsFiles(config: LocalClusterConfig): BusTlsFiles {
  const dir = tlsDirOf(config);
  return { caFile: join(dir, 'ca.crt'), caKeyFile: join(dir, 'ca.key'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

const EC_KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;
const CERT_DAYS = '825';

/** The openssl command line that makes the bus's self-signed CA. */
export function busCaArgs(files: BusTlsFiles): string[] {
  return [
    'req', '-x509', ...EC_KEY_ARGS, '-days', CERT_DAYS, '-subj', '/CN=daemonset-js local CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', files.caKeyFile, '-out', files.caFile,
  ];
}

/** The openssl command line that makes the servers' key and certificate request. */
export function busServerRequestArgs(files: BusTlsFiles, csrFile: string): string[] {
  return ['req', ...EC_KEY_ARGS, '-subj', '/CN=daemonset-js nats-server', '-keyout', files.keyFile, '-out', csrFile];
}

/**
 * The extensions of the servers' certificate. nats.js connects to an IP address with an empty TLS
 * server name, and Node then checks the certificate against `localhost`: hence DNS:localhost too.
 */
export const BUS_SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';

/** The openssl command line that signs the servers' request with the CA (`extFile` holds BUS_SERVER_EXTENSIONS). */
export function busServerSignArgs(files: BusTlsFiles, csrFile: string, extFile: string): string[] {
  return [
    'x509', '-req', '-in', csrFile, '-CA', files.caFile, '-CAkey', files.caKeyFile, '-CAcreateserial',
    '-days', CERT_DAYS, '-extfile', extFile, '-out', files.certFile,
  ];
}

/** The nats-server `tls` block: client connections only (a cluster's routes have their own, which stays off). */
export function natsTlsBlock(files: BusTlsFiles): string {
  return ['tls {', `  cert_file: ${JSON.stringify(files.certFile)}`, `  key_file: ${JSON.stringify(files.keyFile)}`, '  timeout: 2', '}', ''].join('\n');
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

/** A kubeconfig for the local facade: plain HTTP on loopback; with AUTH=1 the facade's bearer token. */
export function kubeconfigText(server: string, token?: string, caPem?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: daemonset-js',
    caPem === undefined
      ? `  cluster: { server: "${server}" }`
      : `  cluster: { server: "${server}", certificate-authority-data: "${Buffer.from(caPem).toString('base64')}" }`,
    'contexts:',
    '- name: daemonset-js',
    '  context: { cluster: daemonset-js, user: daemonset-js }',
    'current-context: daemonset-js',
    'users:',
    '- name: daemonset-js',
    ...(token === undefined ? ['  user: {}'] : ['  user:', `    token: ${JSON.stringify(token)}`]),
    '',
  ].join('\n');
}

export function kubeconfigPath(config: LocalClusterConfig): string {
  return join(config.dataDir, 'kubeconfig');
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
  /** Files written (again) before the launcher starts the child: a clustered nats-server's config. */
  readonly files: readonly ChildFile[];
}

export interface ChildFile {
  /** Absolute. */
  readonly path: string;
  readonly text: string;
  /** File mode; 0o600 for anything holding a secret. */
  readonly mode?: number;
}

export interface Executables {
  /** Node itself (process.execPath). */
  readonly node: string;
  readonly natsServer: string | undefined;
  /** The dist/ folder holding services/<svc>/main.js. */
  readonly distDir: string;
}

/** One embedded nats-server: its name, loopback ports and store. */
export interface NatsMember {
  readonly name: string;
  readonly host: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  /** The route port other members dial; undefined for a lone server. */
  readonly clusterPort: number | undefined;
  /** Absolute: JetStream keeps its files in `<storeDir>/jetstream`; a member's config file is here too. */
  readonly storeDir: string;
}

/** The cluster name every member of the embedded cluster shares. */
export const NATS_CLUSTER_NAME = 'local';

/**
 * The servers to start: none when NATS_URL was set; `nats` (store DATA_DIR/nats) for one;
 * `nats-1`..`nats-N` (stores DATA_DIR/nats-<i>) for a cluster, server i (1-based) on client port
 * NATS_PORT+i-1, route port that +2000 and monitor port that +4000.
 */
export function natsMembers(config: LocalClusterConfig): NatsMember[] {
  if (!config.embeddedNats) return [];
  const d = LOCAL_CLUSTER_DEFAULTS;
  if (config.natsCluster === 1) {
    return [{
      name: 'nats',
      host: '127.0.0.1',
      clientPort: config.natsPort,
      monitorPort: config.natsMonitorPort,
      clusterPort: undefined,
      storeDir: join(config.dataDir, 'nats'),
    }];
  }
  return Array.from({ length: config.natsCluster }, (_, i) => ({
    name: `nats-${i + 1}`,
    host: '127.0.0.1',
    clientPort: config.natsPort + i,
    monitorPort: config.natsPort + d.monitorPortOffset + i,
    clusterPort: config.natsPort + d.clusterPortOffset + i,
    storeDir: join(config.dataDir, `nats-${i + 1}`),
  }));
}

export function natsUrlOf(member: NatsMember, tls = false): string {
  return `${tls ? 'tls' : 'nats'}://${member.host}:${member.clientPort}`;
}

/** Where a clustered member's config file goes. */
export function natsConfPath(member: NatsMember): string {
  return join(member.storeDir, 'nats.conf');
}

/**
 * The nats-server config file of one member of a JetStream cluster: its own server_name (JetStream
 * in a cluster needs one, stable across restarts), loopback listeners, its own store, the shared
 * cluster name and a route to every other member. Strings are JSON-quoted, which the NATS config
 * format reads as they are.
 */
export function natsClusterConf(clusterName: string, self: NatsMember, members: readonly NatsMember[]): string {
  if (self.clusterPort === undefined) throw new Error(`${self.name} has no cluster port`);
  const routes = members
    .filter((member) => member.name !== self.name)
    .map((member) => {
      if (member.clusterPort === undefined) throw new Error(`${member.name} has no cluster port`);
      return `    ${JSON.stringify(`nats-route://${member.host}:${member.clusterPort}`)}`;
    });
  return [
    `# ${self.name} of the ${members.length}-server JetStream cluster ${JSON.stringify(clusterName)}.`,
    '# Written by scripts/local-cluster.ts before every start: edits here are lost.',
    `server_name: ${JSON.stringify(self.name)}`,
    `listen: ${JSON.stringify(`${self.host}:${self.clientPort}`)}`,
    `http: ${JSON.stringify(`${self.host}:${self.monitorPort}`)}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(self.storeDir)}`,
    '}',
    'cluster {',
    `  name: ${JSON.stringify(clusterName)}`,
    `  listen: ${JSON.stringify(`${self.host}:${self.clusterPort}`)}`,
    '  routes: [',
    ...routes,
    '  ]',
    '}',
    '',
  ].join('\n');
}

/**
 * The config file of a lone embedded server with AUTH=1 or TLS=1: only what the flags cannot say,
 * the `tls` and `authorization` blocks. `auth-server.conf` with AUTH=1 (TLS or not), else
 * `tls-server.conf`; undefined when neither is on.
 */
export function natsServerConfPath(config: LocalClusterConfig): string | undefined {
  if (!config.auth && !config.tls) return undefined;
  return join(config.dataDir, 'nats', config.auth ? 'auth-server.conf' : 'tls-server.conf');
}

/** The blocks every embedded server's config gets on top of its own: `tls` (TLS=1), then `authorization` (AUTH=1). */
export function natsSecurityConf(auth: AuthMaterial | undefined, tls: BusTlsFiles | undefined): string {
  return [tls ? natsTlsBlock(tls) : '', auth ? auth.authorization : ''].filter((text) => text !== '').join('\n');
}

/** The command line of a lone embedded server. */
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

/**
 * The JetStream meta leader a server's `/jsz` monitor response names, or undefined while there is
 * none (a clustered server answers before the election; a lone server has no meta_cluster at all).
 */
export function metaLeaderOf(jsz: unknown): string | undefined {
  if (typeof jsz !== 'object' || jsz === null || !('meta_cluster' in jsz)) return undefined;
  const meta = jsz.meta_cluster;
  if (typeof meta !== 'object' || meta === null || !('leader' in meta)) return undefined;
  return typeof meta.leader === 'string' && meta.leader !== '' ? meta.leader : undefined;
}

/**
 * The streams a server's `/jsz?streams=true` response lists that can take messages: those with an
 * elected leader (a clustered stream lists `cluster.leader`; one without cluster info is a lone
 * server's). Empty when it lists none.
 */
export function ledStreamsOf(jsz: unknown): string[] {
  if (typeof jsz !== 'object' || jsz === null || !('account_details' in jsz) || !Array.isArray(jsz.account_details)) return [];
  const names: string[] = [];
  for (const account of jsz.account_details as unknown[]) {
    if (typeof account !== 'object' || account === null || !('stream_detail' in account) || !Array.isArray(account.stream_detail)) continue;
    for (const stream of account.stream_detail as unknown[]) {
      if (typeof stream !== 'object' || stream === null || !('name' in stream) || typeof stream.name !== 'string') continue;
      const cluster = 'cluster' in stream ? stream.cluster : undefined;
      const leader = typeof cluster === 'object' && cluster !== null && 'leader' in cluster ? cluster.leader : undefined;
      if (cluster === undefined || (typeof leader === 'string' && leader !== '')) names.push(stream.name);
    }
  }
  return names;
}

/** What the controllers create first and last (libs/nats/topology.ts ensureTopology): the log, then the lease bucket. */
export const TOPOLOGY_STREAMS: readonly string[] = [LOG_STREAM, `KV_${LEASE_BUCKET}`];

/**
 * Whether the agents wait for the controllers to create the streams first: in a cluster, since an
 * agent that finds no topology creates it with one replica (it does not read STREAM_REPLICAS).
 */
export function agentsWaitForTopology(config: LocalClusterConfig): boolean {
  return config.embeddedNats && config.natsCluster > 1 && config.controllers > 0 && config.nodes > 0;
}

/** Every child of the cluster, in start order: nats (when embedded), controllers, agents. */
export function childSpecs(config: LocalClusterConfig, exe: Executables, auth?: AuthMaterial, tls?: BusTlsFiles): ChildSpec[] {
  if (config.auth && auth === undefined) throw new Error('AUTH=1 needs the credentials folder read first');
  if (config.tls && tls === undefined) throw new Error('TLS=1 needs the TLS files made first');
  const authDir = authDirOf(config);
  const creds = (env: Record<string, string>, id: Parameters<typeof credsPath>[1]): Record<string, string> =>
    config.auth ? { ...env, NATS_CREDS: credsPath(authDir, id) } : env;
  const common: Record<string, string> = { NATS_URL: config.natsUrl };
  if (tls) common['NATS_TLS_CA'] = tls.caFile;
  if (config.logLevel !== undefined) common['LOG_LEVEL'] = config.logLevel;
  const specs: ChildSpec[] = [];
  const members = natsMembers(config);
  const security = natsSecurityConf(auth, tls);
  const loneConf = natsServerConfPath(config);
  for (const member of members) {
    const clustered = member.clusterPort !== undefined;
    specs.push({
      name: member.name,
      role: 'nats',
      command: exe.natsServer ?? 'nats-server',
      args: clustered ? ['-c', natsConfPath(member)] : [...natsServerArgs(config), ...(loneConf !== undefined ? ['-c', loneConf] : [])],
      env: {},
      dir: member.storeDir,
      stopSignal: 'SIGINT',
      files: clustered
        ? [{ path: natsConfPath(member), text: `${natsClusterConf(NATS_CLUSTER_NAME, member, members)}${security !== '' ? `\n${security}` : ''}` }]
        : loneConf !== undefined
          ? [{ path: loneConf, text: security }]
          : [],
    });
  }
  const controllerEnv: Record<string, string> =
    config.streamReplicas === undefined ? common : { ...common, STREAM_REPLICAS: String(config.streamReplicas) };
  for (let i = 1; i <= config.controllers; i++) {
    specs.push({
      name: `controller-${i}`,
      role: 'controller',
      command: exe.node,
      args: [join(exe.distDir, 'services', 'controller', 'main.js')],
      env: creds({ ...controllerEnv, CONTROLLER_ID: `controller-${i}` }, { role: 'controller' }),
      dir: undefined,
      stopSignal: 'SIGTERM',
      files: [],
    });
  }
  if (config.apiserverPort > 0) {
    specs.push({
      name: 'apiserver',
      role: 'apiserver',
      command: exe.node,
      args: [join(exe.distDir, 'services', 'apiserver', 'main.js')],
      env: creds(
        {
          ...common,
          APISERVER_HOST: '127.0.0.1',
          APISERVER_PORT: String(config.apiserverPort),
          ...(auth ? { APISERVER_TOKEN_FILE: join(authDir, APISERVER_TOKEN_FILE) } : {}),
          ...(auth?.apiserverTls ? { APISERVER_TLS_CERT_FILE: auth.apiserverTls.certFile, APISERVER_TLS_KEY_FILE: auth.apiserverTls.keyFile } : {}),
        },
        { role: 'apiserver' },
      ),
      dir: undefined,
      stopSignal: 'SIGTERM',
      files: [
        {
          path: kubeconfigPath(config),
          text: auth?.apiserverTls
            ? kubeconfigText(`https://127.0.0.1:${config.apiserverPort}`, auth.token, auth.apiserverTls.certPem)
            : kubeconfigText(`http://127.0.0.1:${config.apiserverPort}`),
          mode: 0o600,
        },
      ],
    });
  }
  for (let i = 1; i <= config.nodes; i++) {
    const dataDir = join(config.dataDir, 'agents', `node-${i}`);
    specs.push({
      name: `node-${i}`,
      role: 'agent',
      command: exe.node,
      args: [join(exe.distDir, 'services', 'agent', 'main.js')],
      env: creds({ ...common, NODE_NAME: `node-${i}`, NODE_LABELS: '', DATA_DIR: dataDir, DRIVER: config.driver }, { role: 'agent', node: `node-${i}` }),
      dir: dataDir,
      stopSignal: 'SIGTERM',
      files: [],
    });
  }
  return specs;
}

/** Agents first (they deregister), then the API facade and controllers, then the server they all talk to. */
export const STOP_ORDER: readonly ChildRole[] = ['agent', 'apiserver', 'controller', 'nats'];

/**
 * The children to stop, as groups stopped one after the other (a group's members at once), in
 * STOP_ORDER: all agents, all controllers, then each nats-server alone, so a cluster loses one
 * member at a time and the last ones still serve whatever the first ones were finishing.
 */
export function stopPlan(specs: readonly ChildSpec[]): string[][] {
  const plan: string[][] = [];
  for (const role of STOP_ORDER) {
    const names = specs.filter((spec) => spec.role === role).map((spec) => spec.name);
    if (names.length === 0) continue;
    if (role === 'nats') plan.push(...names.map((name) => [name]));
    else plan.push(names);
  }
  return plan;
}

/** Launcher-only variables, not passed to the services (STREAM_REPLICAS is, but set explicitly in a cluster). */
const LAUNCHER_VARS = ['NODES', 'CONTROLLERS', 'NATS_PORT', 'NATS_CLUSTER', 'DATA_DIR', 'DRIVER', 'AUTH', 'TLS', 'NATS_CREDS'];

/**
 * The bus's TLS settings, which the launcher decides for the servers it starts: one left in the
 * shell (from an earlier TLS=1 "try:" line, say) must not reach a child talking to a plain server.
 */
const BUS_TLS_VARS = ['NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'];

/** The launcher's environment without its own settings: the base every child's env is laid over. */
export function childBaseEnv(config: LocalClusterConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...env };
  for (const name of [...LAUNCHER_VARS, ...(config.embeddedNats ? BUS_TLS_VARS : [])]) delete base[name];
  return base;
}

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

/**
 * What to put before `npx dsctl` to reach this cluster. The embedded cluster's bus context
 * (DATA_DIR/context.json) names the URL, the admin's credentials and the CA: dsctl reads it from
 * `.data` of the folder it runs in, or from DSCTL_CONTEXT.
 */
function tryPrefix(config: LocalClusterConfig, urlPrefix: string): string {
  if (config.embeddedNats) {
    const path = contextFileOf(config);
    return path === resolve(process.cwd(), '.data', CONTEXT_FILE) ? '' : `DSCTL_CONTEXT=${path} `;
  }
  return `${urlPrefix}${config.auth ? `NATS_CREDS=${credsPath(authDirOf(config), { role: 'admin' })} ` : ''}`;
}

/** Where the launcher writes the bus context of the servers it starts. */
export function contextFileOf(config: LocalClusterConfig): string {
  return join(config.dataDir, CONTEXT_FILE);
}

/** What the launcher prints before it starts anything: where NATS is and how to reach it. */
export function banner(config: LocalClusterConfig): string {
  const members = natsMembers(config);
  // An external NATS_URL may carry a password or a token (nats://user:pass@host): never print it.
  const natsUrl = redactUrl(config.natsUrl);
  const urlPrefix = config.natsUrl === 'nats://127.0.0.1:4222' ? '' : `NATS_URL=${natsUrl} `;
  const natsLines = !config.embeddedNats
    ? [`  NATS:         ${natsUrl} (from NATS_URL; no server started)`]
    : members.length === 1
      ? [`  NATS:         ${natsUrl} (embedded nats-server, store in ${join(config.dataDir, 'nats')})`]
      : [
          `  NATS:         ${members.length}-server JetStream cluster ${JSON.stringify(NATS_CLUSTER_NAME)}, streams R${config.streamReplicas ?? 1}, ` +
            `stores in ${join(config.dataDir, 'nats-<i>')}`,
          ...members.map(
            (member) => `                ${member.name}  ${natsUrlOf(member, config.tls)}  (routes :${member.clusterPort ?? '-'}, monitor http://${member.host}:${member.monitorPort})`,
          ),
        ];
  return [
    '',
    'daemonset-js local cluster',
    ...natsLines,
    `  controllers:  ${config.controllers}`,
    `  agents:       ${config.nodes} (driver ${config.driver}, state in ${join(config.dataDir, 'agents')})`,
    `  try:          ${tryPrefix(config, urlPrefix)}npx dsctl get nodes`,
    ...(config.tls
      ? [`  TLS:          clients must trust ${busTlsFiles(config).caFile} (NATS_TLS_CA); the servers' certificate is for 127.0.0.1 and localhost`]
      : []),
    ...(config.auth
      ? [
          `  credentials:  ${authDirOf(config)} (a connection without credentials is refused; viewer.creds reads only; AUTH=0 to run without)`,
          ...(config.embeddedNats ? [] : [`                your server must include ${join(authDirOf(config), AUTH_CONF)} and be reloaded`]),
        ]
      : []),
    ...(config.apiserverPort > 0
      ? [`  kubectl:      KUBECONFIG=${kubeconfigPath(config)} kubectl get ds -A   (API facade on http${config.auth ? 's' : ''}://127.0.0.1:${config.apiserverPort}${config.auth ? ', bearer token in the kubeconfig' : ''})`]
      : []),
    '  stop:         Ctrl-C (twice to kill at once)',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The running launcher: everything below does I/O.

const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;
const TOPOLOGY_TIMEOUT_MS = 30_000;

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

/** Runs openssl; returns why it failed, or undefined when it worked. */
function openssl(args: readonly string[]): string | undefined {
  const made = spawnSync('openssl', [...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (made.error !== undefined) return made.error.message;
  return made.status === 0 ? undefined : made.stderr.trim() || `openssl ${args[0] ?? ''} exited with code ${made.status ?? made.signal ?? '?'}`;
}

/**
 * Makes the bus's CA and the servers' certificate where they are missing. Both are kept across
 * starts, like the credentials, so a client's NATS_TLS_CA stays valid; a missing server pair is
 * signed again by the CA there is. Every file ends up 0600 in a 0700 folder. Returns why it
 * failed, or undefined.
 */
function ensureBusTls(files: BusTlsFiles): string | undefined {
  const dir = dirname(files.caFile);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const newCa = !existsSync(files.caFile) || !existsSync(files.caKeyFile);
  if (newCa) {
    const failed = openssl(busCaArgs(files));
    if (failed !== undefined) return failed;
  }
  if (newCa || !existsSync(files.certFile) || !existsSync(files.keyFile)) {
    const csrFile = join(dir, 'server.csr');
    const extFile = join(dir, 'server.ext');
    writeFileSync(extFile, BUS_SERVER_EXTENSIONS, { mode: 0o600 });
    const failed = openssl(busServerRequestArgs(files, csrFile)) ?? openssl(busServerSignArgs(files, csrFile, extFile));
    rmSync(csrFile, { force: true });
    rmSync(extFile, { force: true });
    if (failed !== undefined) return failed;
  }
  for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o600);
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
    private readonly ledger?: ChildLedger,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    // SUPERVISOR_PID: a service whose launcher died (kill -9) stops by itself (libs/runtime/parent-watch.ts).
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...this.spec.env, SUPERVISOR_PID: String(process.pid) };
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
    if (child.pid !== undefined) this.ledger?.record(this.spec.name, child.pid);
    this.log(`started ${this.spec.name} (pid ${child.pid ?? '?'})`);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ledger?.forget(this.spec.name);
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

/** The meta leader a clustered server knows of (2.9's /healthz says ok before there is one). */
async function metaLeader(monitorPort: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz`, { signal: AbortSignal.timeout(1_000) });
    return response.ok ? metaLeaderOf(await response.json()) : undefined;
  } catch {
    return undefined;
  }
}

/** The streams with a leader a server knows of, from its monitor endpoint; empty when it does not answer. */
async function ledStreams(monitorPort: number): Promise<string[]> {
  try {
    const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz?streams=true`, { signal: AbortSignal.timeout(1_000) });
    return response.ok ? ledStreamsOf(await response.json()) : [];
  } catch {
    return [];
  }
}

/**
 * A server accepts clients and its JetStream works: healthy alone, or knowing the meta leader in a
 * cluster. With TLS the client port is not probed (the server would log every probe as a failed
 * handshake); /healthz answers ok only once the server is ready for connections anyway.
 */
async function memberReady(member: NatsMember, tls: boolean): Promise<{ readonly ready: boolean; readonly leader: string | undefined }> {
  if (!(await (tls ? jetStreamHealthy(member.monitorPort) : portAccepts(member.clientPort)))) return { ready: false, leader: undefined };
  if (member.clusterPort === undefined) return { ready: await jetStreamHealthy(member.monitorPort), leader: undefined };
  const leader = await metaLeader(member.monitorPort);
  return { ready: leader !== undefined, leader };
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
  let auth: AuthMaterial | undefined;
  if (config.auth) {
    // Idempotent: existing keys are kept, missing ones (a new NODES count) are added.
    const dir = authDirOf(config);
    initAuthDir(dir, Array.from({ length: config.nodes }, (_, i) => `node-${i + 1}`));
    let apiserverTls: AuthMaterial['apiserverTls'];
    if (config.apiserverPort > 0) {
      const certFile = join(dir, 'apiserver-tls.crt');
      const keyFile = join(dir, 'apiserver-tls.key');
      if (!existsSync(certFile) || !existsSync(keyFile)) {
        const failed = openssl(apiserverCertArgs(certFile, keyFile));
        if (failed !== undefined) {
          process.stderr.write(
            `local-cluster: with credentials on (AUTH, on by default) the launcher serves the API facade over HTTPS (kubectl sends its token to nothing else), and openssl could not make its certificate: ${failed}\n` +
              'Install openssl (apt-get install openssl), or start without the facade (APISERVER_PORT=0) or without credentials (AUTH=0).\n',
          );
          return 1;
        }
        chmodSync(keyFile, 0o600);
      }
      apiserverTls = { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
    }
    auth = { authorization: readFileSync(join(dir, AUTH_CONF), 'utf8'), token: readApiserverToken(dir) ?? '', ...(apiserverTls ? { apiserverTls } : {}) };
  }
  let busTls: BusTlsFiles | undefined;
  if (config.tls) {
    busTls = busTlsFiles(config);
    const failed = ensureBusTls(busTls);
    if (failed !== undefined) {
      process.stderr.write(
        `local-cluster: TLS=1 makes a CA and the servers' certificate with openssl, which failed: ${failed}\n` +
          'Install openssl (apt-get install openssl), or start without TLS.\n',
      );
      return 1;
    }
  }
  const specs = childSpecs(config, { node: process.execPath, natsServer, distDir }, auth, busTls);
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
  const baseEnv = childBaseEnv(config, process.env);
  await mkdir(config.dataDir, { recursive: true });
  // What a launcher killed with -9 left running on this DATA_DIR (its nats-server above all) goes first.
  const ledgerPath = join(config.dataDir, LEDGER_FILE);
  const reaped = await reapLeftovers(ledgerPath, STOP_GRACE_MS);
  if (reaped.length > 0) log(`stopped what an earlier launcher left running: ${reaped.join(', ')}`);
  const ledger = new ChildLedger(ledgerPath);
  const children = specs.map((spec) => new SupervisedChild(spec, baseEnv, print, log, ledger));
  // The children are detached: if the launcher dies some other way, take them along.
  process.on('exit', () => {
    for (const child of children) child.kill();
  });

  let stopping: Promise<number> | undefined;
  const stopAll = async (): Promise<number> => {
    let clean = true;
    for (const names of stopPlan(specs)) {
      const group = children.filter((child) => names.includes(child.spec.name));
      log(`stopping ${names.join(', ')}`);
      const results = await Promise.all(group.map((child) => child.stop(STOP_GRACE_MS)));
      clean &&= results.every(Boolean);
    }
    ledger.clear();
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

  for (const spec of specs) {
    if (spec.dir !== undefined) await mkdir(spec.dir, { recursive: true });
    for (const file of spec.files) {
      await mkdir(dirname(file.path), { recursive: true });
      await writeFile(file.path, file.text, file.mode !== undefined ? { mode: file.mode } : {});
    }
  }
  if (config.embeddedNats) {
    // Paths only, never secrets; an external NATS_URL (which may carry a password) is not written.
    await mkdir(config.dataDir, { recursive: true });
    await writeContext(config.dataDir, {
      server: config.natsUrl,
      ...(config.auth ? { creds: credsPath(authDirOf(config), { role: 'admin' }) } : {}),
      ...(config.tls ? { tlsCa: busTlsFiles(config).caFile } : {}),
      writtenBy: `npm start (DATA_DIR ${config.dataDir})`,
    });
  }
  process.stdout.write(`${banner(config)}\n`);

  const nats = children.filter((child) => child.spec.role === 'nats');
  if (nats.length > 0) {
    const members = natsMembers(config);
    // Cluster members are started together: none has a meta leader until a majority can vote.
    let failed: string | undefined;
    for (const server of nats) {
      server.restartOnExit = false;
      server.onUnexpectedExit = () => {
        failed ??= server.spec.name;
      };
      server.start();
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    let leader: string | undefined;
    while (!ready && failed === undefined && stopping === undefined && Date.now() < deadline) {
      const states = await Promise.all(members.map((member) => memberReady(member, config.tls)));
      ready = states.every((state) => state.ready);
      leader = states.find((state) => state.leader !== undefined)?.leader;
      if (!ready) await delay(100);
    }
    if (stopping !== undefined) return done;
    if (!ready) {
      const ports = members.flatMap((member) => [member.clientPort, member.clusterPort, member.monitorPort]).filter((port) => port !== undefined);
      log(
        failed !== undefined
          ? `${failed} exited before accepting connections: is one of the ports ${ports.join(', ')} in use? Set NATS_PORT, or NATS_URL to use a running server.`
          : members.length === 1
            ? `nats-server did not accept connections on port ${config.natsPort} within ${formatMs(READY_TIMEOUT_MS)}`
            : `the nats-servers did not all accept connections and agree on a JetStream meta leader within ${formatMs(READY_TIMEOUT_MS)}`,
      );
      for (const server of nats) await server.stop(STOP_GRACE_MS);
      return 1;
    }
    for (const server of nats) {
      server.restartOnExit = true;
      server.onUnexpectedExit = undefined;
    }
    log(
      members.length === 1
        ? `nats-server is ready at ${config.natsUrl}`
        : `nats cluster is ready at ${config.natsUrl} (JetStream meta leader ${leader ?? '?'})`,
    );
  }
  if (stopping === undefined) for (const child of children) if (child.spec.role === 'controller' || child.spec.role === 'apiserver') child.start();
  if (stopping === undefined && agentsWaitForTopology(config)) {
    const first = natsMembers(config)[0];
    log(`waiting for the controllers to create the streams with ${config.streamReplicas ?? 1} replicas before starting the agents`);
    const deadline = Date.now() + TOPOLOGY_TIMEOUT_MS;
    let created = false;
    while (!created && stopping === undefined && Date.now() < deadline) {
      const led = first === undefined ? [] : await ledStreams(first.monitorPort);
      created = TOPOLOGY_STREAMS.every((name) => led.includes(name));
      if (!created) await delay(100);
    }
    if (stopping === undefined && !created) {
      log(`${TOPOLOGY_STREAMS.join(', ')} did not all have a leader within ${formatMs(TOPOLOGY_TIMEOUT_MS)}: starting the agents anyway (an agent that finds no streams creates them unreplicated)`);
    }
  }
  if (stopping === undefined) for (const child of children) if (child.spec.role === 'agent') child.start();
  return done;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // With no children (NATS_URL set, NODES=0, CONTROLLERS=0) nothing else keeps Node running until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const code = await main();
  clearInterval(keepAlive);
  process.exit(code);
}
