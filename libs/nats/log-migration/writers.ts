// What still writes to the log: controllers registered as live, agents heard from lately. A migration
// refuses to start while any run, unless forced.

import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { MEMBERS_BUCKET } from '../../topology/names.js';
import { readLastHeartbeats } from '../heartbeats.js';
import { LogMigrationError } from './errors.js';
import { isStreamNotFound } from './stream-lookups.js';
import type { MigrationOptions } from './types.js';

/** The controllers registered as live (their member entries have not expired). */
export async function liveControllers(nc: NatsConnection): Promise<string[]> {
  // open() binds without looking: status() asks whether the bucket is there.
  const kv = await new Kvm(nc).open(MEMBERS_BUCKET);
  try {
    await kv.status();
  } catch (err) {
    if (isStreamNotFound(err)) return [];
    throw err;
  }
  const ids = new Set<string>();
  for await (const key of await kv.keys()) ids.add(key);
  const out: string[] = [];
  for (const id of [...ids].sort()) {
    const e = await kv.get(id);
    if (!e || e.operation !== 'PUT') continue;
    let where = '';
    try {
      const info = e.json<{ host?: unknown; pid?: unknown }>();
      if (typeof info.host === 'string' && typeof info.pid === 'number') where = ` (pid ${info.pid} on ${info.host})`;
    } catch {
      // not the member format: named by its key alone
    }
    out.push(`${id}${where}`);
  }
  return out;
}

/** How recent a node's last heartbeat must be for its agent to count as running (agents beat every 10 s by default). */
const AGENT_LIVE_MS = 30_000;

/** The nodes whose agents have sent a heartbeat lately (they write pod reports to the log). */
export async function liveAgents(nc: NatsConnection, nowMs: number): Promise<string[]> {
  let last: Map<string, number>;
  try {
    last = await readLastHeartbeats(nc);
  } catch (err) {
    if (isStreamNotFound(err)) return [];
    throw err;
  }
  return [...last.entries()]
    .filter(([, ms]) => nowMs - ms < AGENT_LIVE_MS)
    .map(([node, ms]) => `${node} (${Math.max(0, Math.round((nowMs - ms) / 1000))} s ago)`)
    .sort();
}

/** What still runs and writes to the log: controllers registered as live, agents heard from lately. */
export async function writersStillRunning(nc: NatsConnection): Promise<string[]> {
  const controllers = await liveControllers(nc);
  const agents = await liveAgents(nc, Date.now());
  return [
    ...(controllers.length > 0 ? [`controllers registered as live: ${controllers.join(', ')}`] : []),
    ...(agents.length > 0 ? [`agents heard from lately (their last heartbeat): ${agents.join(', ')}`] : []),
  ];
}

export async function refuseWhileLive(nc: NatsConnection, opts: MigrationOptions, lines: string[]): Promise<void> {
  const running = await writersStillRunning(nc);
  if (running.length === 0) return;
  if (opts.force) {
    lines.push(...running.map((r) => `${r} (gone on with --force)`));
    return;
  }
  throw new LogMigrationError(
    `${running.join('; ')}. Stop every controller, agent, fleet and apiserver first (a controller stopped without a clean shutdown leaves the list when its entry in ${MEMBERS_BUCKET} expires; an agent counts as running for ${AGENT_LIVE_MS / 1000} s after its last heartbeat), or pass --force if they are gone`,
  );
}
