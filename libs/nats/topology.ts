// Creating the topology (streams and KV buckets) idempotently, and reading its settings.

import { type JetStreamManager, type StreamConfig, RetentionPolicy, StorageType, DiscardPolicy } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { permissionRefusal } from '../auth/permission-refusal.js';
import { managerOf } from './subject-reads.js';
import {
  CONFIG_BUCKET,
  CONFIG_SLOTS_KEY,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_SUBJECTS,
  DEFAULT_SLOTS,
  HEARTBEAT_STREAM,
  HEARTBEAT_SUBJECTS,
  LEASE_BUCKET,
  LOG_STREAM,
  LOG_SUBJECTS,
} from '../topology/names.js';

export const MIN_SERVER_VERSION = '2.9.0';

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

export interface TopologySettings {
  readonly slots: number;
}

export interface EnsureOptions {
  /** Slot count if the topology is created now; an existing topology keeps its own. */
  readonly slots?: number;
  /** Stream replicas: 1 on one server, 3 in a cluster. */
  readonly replicas?: number;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

export function streamConfigs(replicas: number): (Partial<StreamConfig> & { name: string })[] {
  return [
    {
      name: LOG_STREAM,
      subjects: [...LOG_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: 2 * 60 * 1_000_000_000,
      allow_direct: true,
      num_replicas: replicas,
      max_msg_size: 1024 * 1024,
    },
    {
      name: HEARTBEAT_STREAM,
      subjects: [...HEARTBEAT_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      allow_direct: true,
      num_replicas: replicas,
      max_msg_size: 4096,
    },
    {
      name: DEAD_LETTER_STREAM,
      subjects: [...DEAD_LETTER_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: 7 * 24 * 3600 * 1_000_000_000,
      max_msgs: 100_000,
      num_replicas: replicas,
    },
  ];
}

function checkServer(nc: NatsConnection): void {
  const version = nc.info?.version ?? '0.0.0';
  if (compareVersions(version, MIN_SERVER_VERSION) < 0) {
    throw new TopologyError(`nats-server ${version} is too old: ${MIN_SERVER_VERSION} or newer is required`);
  }
  if (nc.info && nc.info.jetstream === false) {
    throw new TopologyError('JetStream is not enabled on this server: start nats-server with -js');
  }
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
    return;
  } catch (err) {
    if ((err as { code?: number }).code !== 10059 && !(err instanceof Error && /stream not found/i.test(err.message))) throw err;
  }
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    // Another process created it between our info and add: fine.
    if (!(err instanceof Error && /already in use|exists/i.test(err.message))) throw err;
  }
}

/** Creates every stream and bucket that is missing; returns the settings in force. */
export async function ensureTopology(nc: NatsConnection, opts: EnsureOptions = {}): Promise<TopologySettings> {
  checkServer(nc);
  const replicas = opts.replicas ?? 1;
  const jsm = await managerOf(nc);
  for (const cfg of streamConfigs(replicas)) await ensureStream(jsm, cfg);
  const kvm = new Kvm(nc);
  const config = await kvm.create(CONFIG_BUCKET, { history: 1, replicas });
  await kvm.create(LEASE_BUCKET, { history: 1, replicas });
  const wanted = opts.slots ?? DEFAULT_SLOTS;
  try {
    await config.create(CONFIG_SLOTS_KEY, String(wanted));
    return { slots: wanted };
  } catch {
    // Exists already: the first creator's slot count stays.
  }
  // A direct get may be answered by a replica that has not applied the first creator's write yet.
  for (let attempt = 1; ; attempt++) {
    try {
      return await readSettings(config);
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function readSettings(config: KV): Promise<TopologySettings> {
  const entry = await config.get(CONFIG_SLOTS_KEY);
  const slots = entry ? Number.parseInt(entry.string(), 10) : NaN;
  if (!Number.isInteger(slots) || slots < 1) throw new TopologyError(`topology setting ${CONFIG_SLOTS_KEY} is missing or invalid`);
  return { slots };
}

/**
 * Reads the settings of an existing topology without creating anything (the CLI's read path);
 * undefined while there is none. A refusal by the bus's permissions is not "none": it is thrown
 * as it came (a RequestError caused by a PermissionViolationError), so the caller says that the
 * credentials may not read rather than that nothing exists.
 */
export async function readTopology(nc: NatsConnection): Promise<TopologySettings | undefined> {
  checkServer(nc);
  try {
    const kv = await new Kvm(nc).open(CONFIG_BUCKET, { bindOnly: true });
    return await readSettings(kv);
  } catch (err) {
    if (permissionRefusal(err) !== undefined) throw err;
    return undefined;
  }
}

/**
 * Waits until a controller has created the topology. Only controllers create it, because only
 * they know the stream replica count (an agent creating it first would make one-replica streams
 * in a three-server cluster).
 */
export async function waitForTopology(
  nc: NatsConnection,
  opts: { readonly log?: { info(obj: object, msg: string): void }; readonly pollMs?: number; readonly signal?: AbortSignal } = {},
): Promise<TopologySettings> {
  let said = false;
  for (;;) {
    const settings = await readTopology(nc);
    if (settings) return settings;
    if (opts.signal?.aborted) throw new TopologyError('stopped while waiting for the topology');
    if (!said) {
      opts.log?.info({}, 'waiting for a controller to create the topology (streams and buckets)');
      said = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}
