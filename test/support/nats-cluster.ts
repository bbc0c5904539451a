// A throwaway JetStream cluster of real nats-server processes for one test file: free loopback
// ports, a temporary store per server, the same config files `npm start` writes for NATS_CLUSTER.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { natsClusterConf, natsConfPath, natsUrlOf } from '../../scripts/local-cluster/nats-config.js';
import type { NatsMember } from '../../scripts/local-cluster/nats-config.js';
import { metaLeaderOf } from '../../scripts/local-cluster/probes.js';
import { NATS_INSTALL_HINT, freePort, natsServerBinary, portAccepts, terminate } from './nats-server.js';
import { tempDir } from './temp-dir.js';

export interface TestNatsCluster {
  /** One client URL per server, nats-1 first. */
  readonly urls: readonly string[];
  /** Every URL comma-separated: NATS_URL for the services and dsctl. */
  readonly url: string;
  /** nats-1..nats-N, in the order of `urls`. */
  readonly names: readonly string[];
  /** Each server's monitor endpoint (`http://127.0.0.1:<port>`), for /jsz, /connz, /healthz. */
  readonly monitorUrls: readonly string[];
  /** SIGKILL server `i` (0-based, as in `urls`); resolves once it is gone. */
  kill9(i: number): Promise<void>;
  /**
   * Starts server `i` again on the same ports and store (killing it first if it runs); resolves
   * once it accepts clients and knows the JetStream meta leader.
   */
  restart(i: number): Promise<void>;
  /** Stops the servers one by one and removes their stores. */
  stop(): Promise<void>;
}

const CLUSTER_NAME = 'test';
const READY_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

/** Servers alive right now, killed if the test process exits without stopping them. */
const liveServers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

/** Starts `n` clustered nats-servers with JetStream and waits until every one knows the meta leader. */
export async function startNatsCluster(n = 3): Promise<TestNatsCluster> {
  const binary = natsServerBinary();
  if (binary === undefined) throw new Error(NATS_INSTALL_HINT);
  if (!Number.isInteger(n) || n < 1) throw new Error(`startNatsCluster(${n}): expected a positive whole number`);
  const root = await tempDir('nats-cluster-test-');
  let lastError: unknown = undefined;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    // Another process may take a port between freePort() and the server binding it: try again with new ones.
    const members = await allocateMembers(n, join(root, `attempt-${attempt}`));
    const servers = members.map((member) => new ClusterServer(binary, member));
    try {
      for (const member of members) {
        await mkdir(member.storeDir, { recursive: true });
        await writeFile(natsConfPath(member), natsClusterConf(CLUSTER_NAME, member, members));
      }
      for (const server of servers) server.start();
      await Promise.all(servers.map((server) => server.ready()));
      return clusterHandle(servers, root);
    } catch (error) {
      lastError = error;
      for (const server of servers) await server.terminate('SIGKILL');
    }
  }
  await rm(root, { recursive: true, force: true });
  throw new Error(`a ${n}-server nats cluster did not start after ${START_ATTEMPTS} attempts`, { cause: lastError });
}

async function allocateMembers(n: number, root: string): Promise<NatsMember[]> {
  const ports = new Set<number>();
  while (ports.size < 3 * n) ports.add(await freePort());
  const [...list] = ports;
  return Array.from({ length: n }, (_, i) => ({
    name: `nats-${i + 1}`,
    host: '127.0.0.1',
    clientPort: list[3 * i] ?? 0,
    clusterPort: list[3 * i + 1] ?? 0,
    monitorPort: list[3 * i + 2] ?? 0,
    storeDir: join(root, `nats-${i + 1}`),
  }));
}

function clusterHandle(servers: readonly ClusterServer[], root: string): TestNatsCluster {
  const at = (i: number): ClusterServer => {
    const server = servers[i];
    if (server === undefined) throw new RangeError(`no server ${i}: the cluster has ${servers.length} (0-based)`);
    return server;
  };
  const urls = servers.map((server) => natsUrlOf(server.member));
  return {
    urls,
    url: urls.join(','),
    names: servers.map((server) => server.member.name),
    monitorUrls: servers.map((server) => `http://${server.member.host}:${server.member.monitorPort}`),
    kill9: async (i) => at(i).terminate('SIGKILL'),
    async restart(i) {
      const server = at(i);
      await server.terminate('SIGKILL');
      server.start();
      await server.ready();
    },
    async stop() {
      // nats-server exits 0 on SIGINT (1 on SIGTERM).
      for (const server of servers) await server.terminate('SIGINT');
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** One member process, started and restarted from the same config file. */
class ClusterServer {
  private child: ChildProcess | undefined;
  private exited: string | undefined;
  private readonly stderrTail: string[] = [];

  constructor(
    private readonly binary: string,
    readonly member: NatsMember,
  ) {}

  start(): void {
    const child = spawn(this.binary, ['-c', natsConfPath(this.member)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = undefined;
    liveServers.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail.push(...chunk.split('\n').filter((line) => line !== ''));
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
    });
    child.once('exit', (code, signal) => {
      liveServers.delete(child);
      if (this.child === child) this.exited = `exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
    });
    child.once('error', (error) => {
      if (this.child === child) this.exited = `could not be spawned: ${error.message}`;
    });
  }

  /** Resolves once the client port accepts and /jsz names a meta leader; throws if the server exits or the time is up. */
  async ready(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && this.exited === undefined) {
      if ((await portAccepts(this.member.clientPort)) && (await this.metaLeader()) !== undefined) return;
      await delay(25);
    }
    const why = this.exited ?? `had no JetStream meta leader within ${READY_TIMEOUT_MS} ms`;
    throw new Error(`${this.member.name} (nats-server -c ${natsConfPath(this.member)}) ${why}:\n${this.stderrTail.join('\n')}`);
  }

  private async metaLeader(): Promise<string | undefined> {
    try {
      const url = `http://${this.member.host}:${this.member.monitorPort}/jsz`;
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return response.ok ? metaLeaderOf(await response.json()) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Signals the process and waits for it to exit (SIGKILL after a grace time); nothing when it is not running. */
  async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await terminate(child, signal);
  }
}

