// What the launcher prints before it starts anything: where NATS is and how to reach the cluster.
import { join, resolve } from 'node:path';
import { AUTH_CONF, credsPath } from '../../libs/auth/auth-dir.js';
import { CONTEXT_FILE } from '../../libs/nats/bus-context.js';
import { redactUrl } from '../../libs/nats/connect.js';
import { kubeconfigPath } from './children.js';
import type { LocalClusterConfig } from './config.js';
import { authDirOf } from './credentials.js';
import { NATS_CLUSTER_NAME, natsMembers, natsUrlOf } from './nats-config.js';
import { busTlsFiles } from './tls.js';

/** Where the launcher writes the bus context of the servers it starts. */
export function contextFileOf(config: LocalClusterConfig): string {
  return join(config.dataDir, CONTEXT_FILE);
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
