// `npm start`: a local cluster of separate processes — an embedded nats-server (unless NATS_URL is
// set), CONTROLLERS controllers, the API facade and NODES agents — with prefixed logs, restart on
// crash with back-off (like compose's `restart: unless-stopped`) and an ordered stop on Ctrl-C.
// The settings it reads are listed in config.ts. Run through scripts/local-cluster.ts
// (dist/scripts/local-cluster.js).
//
// main: parse the settings, prepare (nats-server found, credentials and certificates, the build
// there), stop what an earlier launcher left running, write the children's files and the bus
// context, then start nats (and wait until it serves), the controllers and the facade, and the
// agents (in a cluster once the streams exist); a signal stops them all in stopPlan's order.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credsPath } from '../../libs/auth/auth-dir.js';
import { writeContext } from '../../libs/nats/bus-context.js';
import { banner } from './banner.js';
import { ChildLedger, LEDGER_FILE, reapLeftovers } from './child-ledger.js';
import { childBaseEnv, childSpecs, unbuiltEntries, writeChildFiles } from './children.js';
import type { ChildSpec } from './children.js';
import { parseLocalClusterConfig } from './config.js';
import type { LocalClusterConfig } from './config.js';
import { authDirOf, prepareAuth } from './credentials.js';
import type { AuthMaterial } from './credentials.js';
import { findNatsServer, missingNatsServerHelp } from './executables.js';
import { formatMs, linePrefixer } from './log-lines.js';
import type { Print } from './log-lines.js';
import { natsMembers } from './nats-config.js';
import { agentsWaitForTopology, TOPOLOGY_STREAMS, waitForServers, waitForTopology } from './probes.js';
import { stopPlan, SupervisedChild } from './supervisor.js';
import { busTlsFiles, ensureBusTls } from './tls.js';
import type { BusTlsFiles } from './tls.js';

const STOP_GRACE_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;
const TOPOLOGY_TIMEOUT_MS = 30_000;

/** Everything checked and made before a child starts, or the exit code when something is missing. */
function prepare(config: LocalClusterConfig): ChildSpec[] | number {
  // main.js is dist/scripts/local-cluster/main.js.
  const distDir = fileURLToPath(new URL('../..', import.meta.url));
  const natsServer = config.embeddedNats ? findNatsServer(process.env['PATH']) : undefined;
  if (config.embeddedNats && natsServer === undefined) {
    process.stderr.write(`${missingNatsServerHelp()}\n`);
    return 1;
  }
  let auth: AuthMaterial | undefined;
  if (config.auth) {
    const prepared = prepareAuth(config);
    if (!prepared.ok) {
      process.stderr.write(
        `local-cluster: with credentials on (AUTH, on by default) the launcher serves the API facade over HTTPS (kubectl sends its token to nothing else), and openssl could not make its certificate: ${prepared.failed}\n` +
          'Install openssl (apt-get install openssl), or start without the facade (APISERVER_PORT=0) or without credentials (AUTH=0).\n',
      );
      return 1;
    }
    auth = prepared.auth;
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
  const missing = unbuiltEntries(specs, existsSync);
  if (missing.length > 0) {
    process.stderr.write(`local-cluster: not built: ${missing.join(', ')} (run \`npm run build\`)\n`);
    return 1;
  }
  return specs;
}

export async function main(): Promise<number> {
  const parsed = parseLocalClusterConfig(process.env, process.cwd());
  if (!parsed.ok) {
    process.stderr.write(`local-cluster: bad settings:\n${parsed.errors.map((error) => `  ${error}`).join('\n')}\n`);
    return 1;
  }
  const config = parsed.config;
  const specs = prepare(config);
  if (typeof specs === 'number') return specs;

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

  await writeChildFiles(specs);
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
    const { ready, leader } = await waitForServers(members, config.tls, READY_TIMEOUT_MS, () => failed !== undefined || stopping !== undefined);
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
    log(`waiting for the controllers to create the streams with ${config.streamReplicas ?? 1} replicas before starting the agents`);
    const created = await waitForTopology(natsMembers(config)[0], TOPOLOGY_TIMEOUT_MS, () => stopping !== undefined);
    if (stopping === undefined && !created) {
      log(`${TOPOLOGY_STREAMS.join(', ')} did not all have a leader within ${formatMs(TOPOLOGY_TIMEOUT_MS)}: starting the agents anyway (an agent that finds no streams creates them unreplicated)`);
    }
  }
  if (stopping === undefined) for (const child of children) if (child.spec.role === 'agent') child.start();
  return done;
}

/** Runs the launcher until it has stopped, then exits with its code. */
export async function runLauncher(): Promise<never> {
  // With no children (NATS_URL set, NODES=0, CONTROLLERS=0) nothing else keeps Node running until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  const code = await main();
  clearInterval(keepAlive);
  process.exit(code);
}
