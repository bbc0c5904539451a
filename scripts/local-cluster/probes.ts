// Readiness of the embedded servers, from their client port and monitor endpoints: when the
// services may start (every server accepts clients and JetStream has a meta leader) and, in a
// cluster, when the agents may (the controllers have made the streams).
import { connect as tcpConnect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { LEASE_BUCKET, LOG_STREAM } from '../../libs/topology/names.js';
import type { LocalClusterConfig } from './config.js';
import type { NatsMember } from './nats-config.js';

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

/**
 * Probes every member each 100 ms until all are ready, `giveUp()` says stop, or `timeoutMs` has
 * passed; `leader` is the meta leader one of them named last.
 */
export async function waitForServers(
  members: readonly NatsMember[],
  tls: boolean,
  timeoutMs: number,
  giveUp: () => boolean,
): Promise<{ readonly ready: boolean; readonly leader: string | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  let leader: string | undefined;
  while (!ready && !giveUp() && Date.now() < deadline) {
    const states = await Promise.all(members.map((member) => memberReady(member, tls)));
    ready = states.every((state) => state.ready);
    leader = states.find((state) => state.leader !== undefined)?.leader;
    if (!ready) await delay(100);
  }
  return { ready, leader };
}

/**
 * Asks `member`'s monitor endpoint each 100 ms until every TOPOLOGY_STREAMS stream has a leader,
 * `giveUp()` says stop, or `timeoutMs` has passed; true when they all had one.
 */
export async function waitForTopology(member: NatsMember | undefined, timeoutMs: number, giveUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let created = false;
  while (!created && !giveUp() && Date.now() < deadline) {
    const led = member === undefined ? [] : await ledStreams(member.monitorPort);
    created = TOPOLOGY_STREAMS.every((name) => led.includes(name));
    if (!created) await delay(100);
  }
  return created;
}
