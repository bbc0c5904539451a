// A JetStream store that refuses to store: the server's store is full (its `max_file_store`, or
// the disk), the account's JetStream limit is reached, or a stream is at its own limit with
// `discard: new`. The server says only "insufficient resources"; StoreFullError says which of
// these it is, how full (from the account info and the stream infos), and what to do.
//
// Measured on nats-server 2.9.10: the server refuses a write once the store is already over its
// limit (the write that crosses it is stored), so every later write is refused until space is
// freed; the account info carries the account's limits (-1 when it has none, the server's then
// apply) but not the server's, which only its operator (or its configuration) knows.

import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { JetStreamApiError } from '@nats-io/jetstream';

/** Which limit refused the write. */
export type StoreLimit = 'server' | 'account' | 'stream';

export interface StoreRefusal {
  readonly limit: StoreLimit;
  /** The JetStream API error code. */
  readonly code: number;
  /** What to do about it, in one sentence. */
  readonly advice: string;
}

/** The JetStream API codes of a refusal for lack of space (nats-server errors.json). */
export const STORE_CODES = Object.freeze({
  /** JSAccountResourcesExceededErr, 400: "resource limits exceeded for account". */
  accountLimits: 10002,
  /** JSInsufficientResourcesErr, 503: "insufficient resources" (the server's store limit). */
  insufficientResources: 10023,
  /** JSMemoryResourcesExceededErr, 500: "insufficient memory resources available". */
  memoryExceeded: 10028,
  /** JSStorageResourcesExceededErr, 500: "insufficient storage resources available" (a stream's max_bytes does not fit). */
  storageExceeded: 10047,
  /** JSStreamStoreFailedF, 503: "{err}": a stream at its own limit says "maximum bytes exceeded" or "maximum messages exceeded". */
  streamStoreFailed: 10077,
});

const ADVICE: Record<StoreLimit, string> = {
  server:
    "free space on the server (purge the DS_DLQ stream, remove streams or buckets no longer used), or raise max_file_store in the server's jetstream block and restart it; the log stream DS_LOG is the source of truth and must not be given limits that discard old events",
  account: "raise the account's JetStream limit (max_file in the account's jetstream block of the server configuration), or free space in the account's streams",
  stream: "raise the stream's own limit (max_bytes / max_msgs), or purge what it no longer needs",
};

/** The refusal for lack of space in `err` itself (not its causes); undefined when it is something else. */
export function storeRefusal(err: unknown): StoreRefusal | undefined {
  if (!(err instanceof JetStreamApiError)) return undefined;
  const limit = limitOf(err.code, err.message);
  return limit === undefined ? undefined : { limit, code: err.code, advice: ADVICE[limit] };
}

function limitOf(code: number, message: string): StoreLimit | undefined {
  switch (code) {
    case STORE_CODES.insufficientResources:
    case STORE_CODES.memoryExceeded:
    case STORE_CODES.storageExceeded:
      return 'server';
    case STORE_CODES.accountLimits:
      return 'account';
    case STORE_CODES.streamStoreFailed:
      // 10077 carries the store's own error as its description; only these two are about space.
      return /maximum (bytes|messages) exceeded/i.test(message) ? 'stream' : undefined;
    default:
      return undefined;
  }
}

/** How full the store was when it refused (as far as the account can see). */
export interface StoreUsage {
  /** Bytes the account stores on file, and its own limit (-1: none, the server's applies). */
  readonly accountBytes?: number;
  readonly accountLimitBytes?: number;
  /** The stream the refused subject belongs to. */
  readonly stream?: { readonly name: string; readonly bytes: number; readonly messages: number; readonly maxBytes: number; readonly maxMsgs: number };
  /** The account's largest streams, largest first (at most three). */
  readonly largest?: readonly { readonly name: string; readonly bytes: number }[];
}

export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
  readonly limit: StoreLimit;
  readonly code: number;
  constructor(
    readonly subject: string,
    refusal: StoreRefusal,
    readonly usage: StoreUsage,
    cause: unknown,
  ) {
    super(describe(subject, refusal, usage, cause), { cause });
    this.limit = refusal.limit;
    this.code = refusal.code;
  }
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

function describe(subject: string, refusal: StoreRefusal, usage: StoreUsage, cause: unknown): string {
  const said = cause instanceof Error ? cause.message : String(cause);
  const where = usage.stream ? ` (stream ${usage.stream.name})` : '';
  const what: string[] = [];
  if (refusal.limit === 'stream' && usage.stream) {
    const s = usage.stream;
    const limits = [s.maxBytes > 0 ? `max_bytes ${formatBytes(s.maxBytes)}` : '', s.maxMsgs > 0 ? `max_msgs ${s.maxMsgs}` : ''].filter((x) => x !== '').join(', ');
    what.push(`stream ${s.name} is at its own limit${limits ? ` (${limits})` : ''}: it holds ${formatBytes(s.bytes)} in ${s.messages} messages`);
  } else if (refusal.limit === 'account') {
    const limit = usage.accountLimitBytes !== undefined && usage.accountLimitBytes > 0 ? ` of its limit of ${formatBytes(usage.accountLimitBytes)}` : '';
    what.push(`the account's JetStream storage is full${usage.accountBytes !== undefined ? `: it uses ${formatBytes(usage.accountBytes)}${limit}` : ''}`);
  } else {
    const own = usage.accountLimitBytes !== undefined && usage.accountLimitBytes > 0 ? `, within an account limit of ${formatBytes(usage.accountLimitBytes)}` : ', with no account limit of its own';
    what.push(
      `the server's JetStream store is full${usage.accountBytes !== undefined ? ` (this account stores ${formatBytes(usage.accountBytes)}${own}, so the server's max_file_store, or its disk, is what is reached)` : ''}`,
    );
  }
  if (usage.largest?.length) what.push(`largest streams: ${usage.largest.map((s) => `${s.name} ${formatBytes(s.bytes)}`).join(', ')}`);
  return `JetStream refused to store a message on ${subject}${where}: ${said} (${refusal.code}): ${what.join('; ')}. To go on: ${refusal.advice}`;
}

/** One NATS subject filter (`*`, `>`) against a subject. */
function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** Account and stream figures are read at most this often per client (a full store refuses every write). */
const USAGE_CACHE_MS = 5_000;
const usageCache = new WeakMap<object, { readonly atMs: number; readonly usage: Promise<{ accountBytes: number; accountLimitBytes: number; streams: StreamInfo[] }> }>();

async function readUsage(jsm: JetStreamManager): Promise<{ accountBytes: number; accountLimitBytes: number; streams: StreamInfo[] }> {
  const account = await jsm.getAccountInfo();
  const streams: StreamInfo[] = [];
  for await (const si of jsm.streams.list()) streams.push(si);
  return { accountBytes: account.storage, accountLimitBytes: account.limits.max_storage, streams };
}

/**
 * Turns a refusal for lack of space into a StoreFullError with the figures the account can read;
 * any other error is returned as it is. The figures are read once per client per few seconds,
 * and their absence (a read refused too) leaves the message without them.
 */
export async function explainStoreRefusal(js: JetStreamClient, subject: string, err: unknown): Promise<unknown> {
  const refusal = storeRefusal(err);
  if (!refusal) return err;
  let usage: StoreUsage = {};
  try {
    const now = Date.now();
    let cached = usageCache.get(js);
    if (!cached || now - cached.atMs > USAGE_CACHE_MS) {
      const fresh = { atMs: now, usage: js.jetstreamManager(false).then(readUsage) };
      fresh.usage.catch(() => usageCache.delete(js));
      usageCache.set(js, fresh);
      cached = fresh;
    }
    const u = await cached.usage;
    const own = u.streams.find((si) => (si.config.subjects ?? []).some((f) => subjectMatches(f, subject)));
    const largest = [...u.streams].sort((a, b) => b.state.bytes - a.state.bytes).slice(0, 3).filter((si) => si.state.bytes > 0);
    usage = {
      accountBytes: u.accountBytes,
      accountLimitBytes: u.accountLimitBytes,
      ...(own
        ? { stream: { name: own.config.name, bytes: own.state.bytes, messages: own.state.messages, maxBytes: own.config.max_bytes ?? -1, maxMsgs: own.config.max_msgs ?? -1 } }
        : {}),
      largest: largest.map((si) => ({ name: si.config.name, bytes: si.state.bytes })),
    };
  } catch {
    // The figures are a help, not the point: the refusal is reported without them.
  }
  return new StoreFullError(subject, refusal, usage, err);
}
