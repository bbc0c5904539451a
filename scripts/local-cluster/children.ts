// The children of the local cluster: what each one runs, with which environment and files.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { APISERVER_TOKEN_FILE, credsPath } from '../../libs/auth/auth-dir.js';
import type { LocalClusterConfig } from './config.js';
import { authDirOf } from './credentials.js';
import type { AuthMaterial } from './credentials.js';
import type { Executables } from './executables.js';
import { NATS_CLUSTER_NAME, natsClusterConf, natsConfPath, natsMembers, natsSecurityConf, natsServerArgs, natsServerConfPath } from './nats-config.js';
import type { BusTlsFiles } from './tls.js';

export type ChildRole = 'nats' | 'controller' | 'apiserver' | 'agent';

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

/** The services' entry files (dist/services/<svc>/main.js) that are not there: the build is missing. */
export function unbuiltEntries(specs: readonly ChildSpec[], exists: (path: string) => boolean): string[] {
  return [...new Set(specs.filter((spec) => spec.role !== 'nats').map((spec) => spec.args[0] ?? ''))].filter((entry) => !exists(entry));
}

/** Makes every child's folder and writes its files (again), before anything starts. */
export async function writeChildFiles(specs: readonly ChildSpec[]): Promise<void> {
  for (const spec of specs) {
    if (spec.dir !== undefined) await mkdir(spec.dir, { recursive: true });
    for (const file of spec.files) {
      await mkdir(dirname(file.path), { recursive: true });
      await writeFile(file.path, file.text, file.mode !== undefined ? { mode: file.mode } : {});
    }
  }
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
