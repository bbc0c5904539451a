// Creating the topology (streams and KV buckets) idempotently, and reading its settings. A log in
// the layout before per-slot subjects, or one dsctl migrate-log is carrying over, is refused with
// what to do (LegacyLogLayoutError, LogMigrationInProgressError).

import { type JetStreamManager, type StreamConfig, type StreamInfo, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, DiscardPolicy } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { permissionRefusal } from '../auth/permission-refusal.js';
import { retryUntilReady } from '../runtime/retry.js';
import { classifyBusError } from './bus-errors.js';
import { isWrongLastSequence } from './publish.js';
import { managerOf } from './subject-reads.js';
import { LegacyLogLayoutError, LogMigrationInProgressError, TopologyError, TopologyMissingError } from './topology-errors.js';
import { logLayoutOf, MIGRATION_IN_PROGRESS_DESCRIPTION, MIGRATION_STREAM } from '../topology/legacy-layout.js';
import {
  CONFIG_BUCKET,
  CONFIG_SLOTS_KEY,
  DEAD_LETTER_STREAM,
  DEAD_LETTERS_PER_CLASS,
  DEAD_LETTER_SUBJECTS,
  DEFAULT_SLOTS,
  HEARTBEAT_STREAM,
  HEARTBEAT_SUBJECTS,
  LEASE_BUCKET,
  LOG_STREAM,
  LOG_SUBJECTS,
} from '../topology/names.js';

export const MIN_SERVER_VERSION = '2.9.0';

export { LegacyLogLayoutError, LogMigrationInProgressError, TopologyError, TopologyMissingError };

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
      max_msgs_per_subject: DEAD_LETTERS_PER_CLASS,
      discard: DiscardPolicy.Old,
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
    // nats.js's own class for it: a server may be restarted with JetStream (bus-errors.ts).
    throw new jserrors.JetStreamNotEnabled('JetStream is not enabled on this server: start nats-server with -js');
  }
}

function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 10059 || (err instanceof Error && /stream not found/i.test(err.message));
}

/**
 * Refuses a log this build cannot use: one in the layout before per-slot subjects, or one that
 * `dsctl migrate-log` is refilling.
 */
function checkLogStream(info: StreamInfo): void {
  if (logLayoutOf(info.config.subjects) === 'legacy') throw new LegacyLogLayoutError(info.config.subjects ?? []);
  if (info.config.description === MIGRATION_IN_PROGRESS_DESCRIPTION) throw new LogMigrationInProgressError(`${LOG_STREAM} is being refilled`);
}

/** With no log stream: refuses when a migration holds the log's messages (it deleted DS_LOG to re-create it). */
async function checkNoMigrationHolding(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.info(MIGRATION_STREAM);
  } catch (err) {
    if (isStreamNotFound(err)) return;
    // An agent's credentials may read the log's info only: it cannot tell, and waits on the log as before.
    if (permissionRefusal(err) !== undefined) return;
    throw err;
  }
  throw new LogMigrationInProgressError(`${LOG_STREAM} is not there while its messages are held`);
}

/**
 * The log stream's layout checked (checkLogStream); false when there is no log stream (and no
 * migration holding its messages).
 */
async function checkLog(jsm: JetStreamManager): Promise<boolean> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(LOG_STREAM);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await checkNoMigrationHolding(jsm);
    return false;
  }
  checkLogStream(info);
  return true;
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  if (cfg.name === LOG_STREAM) {
    if (await checkLog(jsm)) return;
  } else {
    try {
      await jsm.streams.info(cfg.name);
      return;
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
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
  } catch (err) {
    // Exists already: the first creator's slot count stays. Anything else (a full store, an
    // election) is the caller's to wait out or report.
    if (!isWrongLastSequence(err)) throw err;
  }
  // A direct get may be answered by a replica that has not applied the first creator's write yet.
  for (let attempt = 1; ; attempt++) {
    const settings = await readSettings(config);
    if (settings) return settings;
    if (attempt >= 20) throw new TopologyError(`topology setting ${CONFIG_SLOTS_KEY} is missing`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The settings; undefined while the entry is not written yet; a TopologyError when it is not valid. */
async function readSettings(config: KV): Promise<TopologySettings | undefined> {
  const entry = await config.get(CONFIG_SLOTS_KEY);
  if (!entry || entry.operation !== 'PUT') return undefined;
  const slots = Number.parseInt(entry.string(), 10);
  if (!Number.isInteger(slots) || slots < 1) throw new TopologyError(`topology setting ${CONFIG_SLOTS_KEY} is invalid: ${JSON.stringify(entry.string().slice(0, 32))}`);
  return { slots };
}

/**
 * Reads the settings of an existing topology without creating anything (the CLI's read path);
 * undefined while there is none. A refusal by the bus's permissions is not "none": it is thrown
 * as it came (a RequestError caused by a PermissionViolationError), so the caller says that the
 * credentials may not read rather than that nothing exists. A log this build cannot read is
 * thrown as a LegacyLogLayoutError or a LogMigrationInProgressError, whose message says what to do.
 */
export async function readTopology(nc: NatsConnection): Promise<TopologySettings | undefined> {
  checkServer(nc);
  let settings: TopologySettings | undefined;
  try {
    const kv = await new Kvm(nc).open(CONFIG_BUCKET, { bindOnly: true });
    settings = await readSettings(kv);
  } catch (err) {
    if (permissionRefusal(err) !== undefined) throw err;
    return undefined;
  }
  // A log this build cannot read is not "a topology": say what it is and what to do.
  if (settings) await checkLog(await managerOf(nc));
  return settings;
}

/**
 * The settings of the topology a controller created, for a service that waits for it: undefined
 * only when there is none yet (no config bucket, or no entry in it). Every other failure is thrown
 * as it came (JetStream not enabled, no leader, a timeout, a refusal) for the caller to classify
 * (bus-errors.ts): readTopology's "none" would hide why.
 */
export async function probeTopology(nc: NatsConnection): Promise<TopologySettings | undefined> {
  checkServer(nc);
  const kv = await new Kvm(nc).open(CONFIG_BUCKET, { bindOnly: true });
  let settings: TopologySettings | undefined;
  try {
    settings = await readSettings(kv);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  }
  // A log in the old layout is terminal (LegacyLogLayoutError); one being migrated is waited for.
  if (settings) await checkLog(await managerOf(nc));
  return settings;
}

/**
 * Waits until a controller has created the topology. Only controllers create it, because only
 * they know the stream replica count (an agent creating it first would make one-replica streams
 * in a three-server cluster). Waits out, too, a JetStream that is not enabled or has no leader
 * yet, with the services' one retry loop (retryUntilReady: back-off, 'waiting for JetStream' with
 * the reason at a bounded rate); throws at once what waiting cannot mend (classifyBusError).
 */
export function waitForTopology(nc: NatsConnection, opts: { readonly log?: Logger; readonly signal?: AbortSignal } = {}): Promise<TopologySettings> {
  return retryUntilReady(
    async () => {
      const settings = await probeTopology(nc);
      if (!settings) throw new TopologyMissingError();
      return settings;
    },
    {
      log: opts.log ?? pino({ level: 'silent' }),
      waitingMsg: 'waiting for JetStream',
      readyMsg: 'JetStream ready',
      classify: classifyBusError,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}
