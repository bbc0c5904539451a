// The embedded nats-servers: who they are (members, ports, stores), their command lines and the
// config files the launcher writes for them (a cluster member's routes; the `tls` and
// `authorization` blocks of TLS=1 and AUTH=1).
import { join } from 'node:path';
import { LOCAL_CLUSTER_DEFAULTS } from './config.js';
import type { LocalClusterConfig } from './config.js';
import type { AuthMaterial } from './credentials.js';
import type { BusTlsFiles } from './tls.js';

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

/** The nats-server `tls` block: client connections only (a cluster's routes have their own, which stays off). */
export function natsTlsBlock(files: BusTlsFiles): string {
  return ['tls {', `  cert_file: ${JSON.stringify(files.certFile)}`, `  key_file: ${JSON.stringify(files.keyFile)}`, '  timeout: 2', '}', ''].join('\n');
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
