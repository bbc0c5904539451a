// dsctl migrate-log: carries a log written in the layout before per-slot subjects (`ev.>`, `cmd.>`)
// over to the current one (`s.>`, `g.>`), every message at its sequence, with its stream time (as a
// `Ds-Time` header), its payload byte for byte and its headers.
//
// nats-server 2.9 can neither rename a stream nor transform subjects, and two streams cannot bind
// overlapping subjects, so the log goes through a holding stream:
//
//   1. copy   DS_LOG -> DS_LOG_MIGRATION (`migration.<old subject>`), after a first message that
//             records the old stream's configuration and state and before a last one that says the
//             copy is complete; the old log must not change meanwhile (checked twice).
//   2. swap   delete DS_LOG; create it with the new subjects and the old settings (marked "in
//             progress" in its description, limits lifted and a short duplicate window while it fills).
//   3. refill every held message back at its old sequence (many in flight, each ack checked), a
//             filler on MIGRATION_FILLER_SUBJECT for every sequence the old log no longer held.
//   4. finish purge the fillers, verify every message against its copy (sequence, subject, payload,
//             headers, time), delete the snapshots (of the old layout), restore the settings, delete
//             the holding stream.
//
// Every step can be interrupted: a second run looks at what is there (inspectMigration) and goes on
// from it. The topology checks (topology.ts) refuse an old log, a log being refilled, and a missing
// log while a holding stream exists, so nothing else writes meanwhile.

import {
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { permissionRefusal } from '../auth/permission-refusal.js';
import {
  heldHeaders,
  HEADER_HELD_SEQ,
  heldSubject,
  legacyToCurrentSubject,
  logLayoutOf,
  MIGRATION_DONE_SUBJECT,
  MIGRATION_FILLER_SUBJECT,
  MIGRATION_IN_PROGRESS_DESCRIPTION,
  MIGRATION_META_SUBJECT,
  MIGRATION_STREAM,
  MIGRATION_SUBJECTS,
  oldSubjectOfHeld,
  parseTimeHeader,
  restoredHeaders,
  type HeaderPairs,
} from '../topology/legacy-layout.js';
import { HEADER_TIME, LEGACY_LOG_SUBJECTS, LOG_STREAM, LOG_SUBJECTS, MEMBERS_BUCKET, SNAPSHOT_BUCKET } from '../topology/names.js';
import { readLastHeartbeats } from './heartbeats.js';
import { managerOf } from './subject-reads.js';

/** A migration that cannot go on: what was found and what to do. Nothing was lost. */
export class LogMigrationError extends Error {
  override readonly name = 'LogMigrationError';
}

export interface MigrationOptions {
  /** Report what would be done; change nothing. */
  readonly dryRun?: boolean;
  /** Go on although controllers are registered as live. */
  readonly force?: boolean;
  /** Progress lines (at a bounded rate) for a person watching a long migration. */
  readonly progress?: (line: string) => void;
  /** Publishes in flight at once (default 1024). */
  readonly inFlight?: number;
  /** Ms between progress lines while copying (default 2000). */
  readonly progressEveryMs?: number;
}

export type MigrationOutcome = 'migrated' | 'nothing-to-do' | 'dry-run';

export interface MigrationReport {
  readonly outcome: MigrationOutcome;
  /** What was done (or would be), for a person. */
  readonly lines: readonly string[];
}

/** The old log as the first message of the holding stream records it. */
export interface HeldMeta {
  readonly v: 1;
  readonly config: StreamConfig;
  readonly created: string;
  readonly state: { readonly messages: number; readonly firstSeq: number; readonly lastSeq: number };
}

interface HeldDone {
  readonly messages: number;
}

/** Where a migration stands, read from what is on the server. */
export type MigrationStage =
  | { readonly stage: 'no-log' }
  | { readonly stage: 'current' }
  /** The old log, not (completely) copied yet; `staleHolding`: a holding stream to start over. */
  | { readonly stage: 'legacy'; readonly log: StreamInfo; readonly staleHolding: boolean }
  /** The old log and its complete copy: the swap comes next. */
  | { readonly stage: 'held'; readonly log: StreamInfo; readonly meta: HeldMeta }
  /** The old log deleted, its copy complete: create the new log and refill it. */
  | { readonly stage: 'recreate'; readonly meta: HeldMeta }
  /** The new log, (partly) refilled from the copy. */
  | { readonly stage: 'refill'; readonly log: StreamInfo; readonly meta: HeldMeta }
  | { readonly stage: 'stuck'; readonly reason: string };

const DEFAULT_IN_FLIGHT = 1024;
/** The new log's duplicate window while it is refilled: a Nats-Msg-Id the old log holds twice (written more than its window apart) is free again this soon. */
const REFILL_DUPLICATE_WINDOW_NS = 1_000_000_000;
/** How long the server may remember a message id at that window (its purge runs once per window). */
const DUPLICATE_MEMORY_MS = 2_500;
/** Refills that start the new log over before giving up. */
const REFILL_ATTEMPTS = 3;
const API_TIMEOUT_MS = 10_000;

// ---- reading what is there --------------------------------------------------------------------

function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 10059 || (err instanceof Error && /stream not found/i.test(err.message));
}

function isNoMessage(err: unknown): boolean {
  return (err as { code?: number }).code === 10037 || (err instanceof Error && /no message found/i.test(err.message));
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isStreamNotFound(err)) return undefined;
    throw err;
  }
}

async function lastJson<T>(jsm: JetStreamManager, stream: string, subject: string): Promise<T | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    return m ? m.json<T>() : undefined;
  } catch (err) {
    if (isNoMessage(err)) return undefined;
    throw err;
  }
}

/** The holding stream's record of the old log, and whether its copy is complete. */
async function readHolding(jsm: JetStreamManager, hold: StreamInfo): Promise<{ meta?: HeldMeta; complete: boolean }> {
  const meta = await lastJson<HeldMeta>(jsm, MIGRATION_STREAM, MIGRATION_META_SUBJECT);
  const done = await lastJson<HeldDone>(jsm, MIGRATION_STREAM, MIGRATION_DONE_SUBJECT);
  // Complete: the meta, every message, the done marker, nothing else.
  const complete = meta !== undefined && done !== undefined && done.messages === meta.state.messages && hold.state.messages === meta.state.messages + 2;
  return { ...(meta ? { meta } : {}), complete };
}

/** Where a migration stands (see MigrationStage). */
export async function inspectMigration(nc: NatsConnection): Promise<MigrationStage> {
  const jsm = await managerOf(nc);
  const log = await streamInfo(jsm, LOG_STREAM);
  const hold = await streamInfo(jsm, MIGRATION_STREAM);
  const held = hold ? await readHolding(jsm, hold) : undefined;
  const layout = log ? logLayoutOf(log.config.subjects) : undefined;
  if (log && layout === 'legacy') {
    // A complete copy of this very log (same stream, same state) lets the swap go on; anything else is copied again.
    const same = held?.complete && held.meta && held.meta.created === log.created && held.meta.state.lastSeq === log.state.last_seq && held.meta.state.messages === log.state.messages;
    if (same && held.meta) return { stage: 'held', log, meta: held.meta };
    return { stage: 'legacy', log, staleHolding: hold !== undefined };
  }
  if (!log) {
    if (!hold) return { stage: 'no-log' };
    if (held?.complete && held.meta) return { stage: 'recreate', meta: held.meta };
    return { stage: 'stuck', reason: `there is no ${LOG_STREAM}, and the holding stream ${MIGRATION_STREAM} has no complete copy of it (${hold.state.messages} messages): look at it by hand before anything else` };
  }
  if (layout === 'current') {
    if (!hold) return { stage: 'current' };
    if (held?.complete && held.meta) return { stage: 'refill', log, meta: held.meta };
    return { stage: 'stuck', reason: `${LOG_STREAM} is in the current layout, and the holding stream ${MIGRATION_STREAM} has no complete copy (${hold.state.messages} messages): not a migration this command left; look at it by hand` };
  }
  return { stage: 'stuck', reason: `${LOG_STREAM} binds ${JSON.stringify(log.config.subjects)}: neither the current layout (${LOG_SUBJECTS.join(', ')}) nor the one before per-slot subjects (${LEGACY_LOG_SUBJECTS.join(', ')})` };
}

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

// ---- a throttle for progress lines -------------------------------------------------------------

function progressLine(opts: MigrationOptions): (line: string, force?: boolean) => void {
  const every = opts.progressEveryMs ?? 2_000;
  let last = 0;
  return (line, force = false) => {
    if (!opts.progress) return;
    const now = Date.now();
    if (!force && now - last < every) return;
    last = now;
    opts.progress(`migrate-log: ${line}`);
  };
}

// ---- publishing in order with many in flight --------------------------------------------------

/**
 * Publishes in the order given, up to `window` at a time, and checks that each lands at exactly
 * the sequence it was meant for. No `expect` header: the server would store it with the message
 * (the carried messages keep only their own headers). One connection delivers in order and a
 * stream stores in the order it receives, so a message lands elsewhere only when one before it was
 * refused or lost: the first such failure is kept, and the caller starts the stream over.
 */
class OrderedPipeline {
  private readonly inFlight: Promise<void>[] = [];
  private failure: unknown;

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly window: number,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one message that must land at `seq`; waits while the window is full. */
  async send(subject: string, data: Uint8Array, seq: number, headers?: MsgHdrs): Promise<void> {
    const p = this.js.publish(subject, data, { timeout: API_TIMEOUT_MS, ...(headers ? { headers } : {}) }).then(
      (ack: PubAck) => {
        if (ack.stream !== this.stream) this.failure ??= new MisplacedError(`${subject} went to stream ${ack.stream}, not ${this.stream}`);
        else if (ack.duplicate) this.failure ??= new MisplacedError(`the message for sequence ${seq} was taken for a duplicate of sequence ${ack.seq} (the same Nats-Msg-Id within the duplicate window)`);
        else if (ack.seq !== seq) this.failure ??= new MisplacedError(`the message for sequence ${seq} landed at ${ack.seq}`);
      },
      (err: unknown) => {
        this.failure ??= err;
      },
    );
    this.inFlight.push(p);
    if (this.inFlight.length >= this.window) await this.inFlight.shift();
  }

  /** Waits for every publish in flight; the first failure, if any. */
  async settle(): Promise<unknown> {
    await Promise.all(this.inFlight.splice(0));
    return this.failure;
  }
}

/** A message that did not land at its sequence: the stream must be started over. */
class MisplacedError extends Error {
  override readonly name = 'MisplacedError';
}

function headerPairs(h: MsgHdrs | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (!h) return out;
  for (const k of h.keys()) for (const v of h.values(k)) out.push([k, v]);
  return out;
}

function toHeaders(pairs: HeaderPairs): MsgHdrs | undefined {
  if (pairs.length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of pairs) h.append(k, v);
  return h;
}

/** One stream read in order with an ordered consumer: next() until the end as it is when reached. */
interface OrderedReader {
  next(): Promise<JsMsg | undefined>;
  close(): Promise<void>;
}

async function openOrderedReader(nc: NatsConnection, stream: string, fromSeq: number): Promise<OrderedReader> {
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) });
  const messages = await consumer.consume({ max_messages: 1024 });
  const it = messages[Symbol.asyncIterator]();
  let ended = false;
  return {
    async next() {
      if (ended) return undefined;
      const r = await it.next();
      if (r.done) {
        ended = true;
        return undefined;
      }
      if (r.value.info.pending === 0) ended = true;
      return r.value;
    },
    async close() {
      ended = true;
      // The iterator first: close() waits for it to finish, and it is suspended at its last message.
      await it.return?.(undefined);
      await messages.close().catch(() => undefined);
    },
  };
}

/**
 * Reads a stream in order from `fromSeq`, calling `onMessage` (which may wait: it is the
 * back-pressure) until the stream's end, or until `onMessage` returns false. The stream must hold
 * a message at or after `fromSeq`.
 */
async function readInOrder(nc: NatsConnection, stream: string, fromSeq: number, onMessage: (m: JsMsg) => Promise<boolean>): Promise<void> {
  const reader = await openOrderedReader(nc, stream, fromSeq);
  try {
    for (let m = await reader.next(); m !== undefined; m = await reader.next()) {
      if (!(await onMessage(m))) break;
    }
  } finally {
    await reader.close();
  }
}

// ---- 1. copy -----------------------------------------------------------------------------------

function ms(nanos: bigint): number {
  return Number(nanos / 1_000_000n);
}

/** Copies the old log into a new holding stream; throws (and removes the holding stream) when a subject has no place in the new layout or the log changed meanwhile. */
export async function copyToHolding(nc: NatsConnection, log: StreamInfo, opts: MigrationOptions = {}): Promise<HeldMeta> {
  const jsm = await managerOf(nc);
  const say = progressLine(opts);
  if (await streamInfo(jsm, MIGRATION_STREAM)) await jsm.streams.delete(MIGRATION_STREAM);
  const meta: HeldMeta = {
    v: 1,
    config: log.config,
    created: log.created,
    state: { messages: log.state.messages, firstSeq: log.state.first_seq, lastSeq: log.state.last_seq },
  };
  await jsm.streams.add({
    name: MIGRATION_STREAM,
    subjects: [...MIGRATION_SUBJECTS],
    storage: log.config.storage,
    num_replicas: log.config.num_replicas,
    description: `dsctl migrate-log: a copy of ${LOG_STREAM} while it is re-created`,
  });
  const pipe = new OrderedPipeline(jetstream(nc), MIGRATION_STREAM, opts.inFlight ?? DEFAULT_IN_FLIGHT);
  const refused: string[] = [];
  let refusedCount = 0;
  let copied = 0;
  try {
    await pipe.send(MIGRATION_META_SUBJECT, new TextEncoder().encode(JSON.stringify(meta)), 1);
    if (log.state.messages > 0) {
      say(`copying ${log.state.messages} messages of ${LOG_STREAM} to ${MIGRATION_STREAM}`, true);
      await readInOrder(nc, LOG_STREAM, 1, async (m) => {
        const mapped = legacyToCurrentSubject(m.subject);
        if (!mapped.ok) {
          refusedCount++;
          if (refused.length < 10) refused.push(`seq ${m.seq}: ${mapped.reason}`);
          return true;
        }
        // After a refusal, only counting the others; after a failure, nothing.
        if (refusedCount > 0 || pipe.failed) return !pipe.failed;
        const own = heldHeaders(headerPairs(m.headers)).filter(([k]) => k !== HEADER_TIME);
        const time = parseTimeHeader(m.headers?.get(HEADER_TIME)) ?? ms(m.timestampNanos);
        copied++;
        await pipe.send(heldSubject(m.subject), m.data, copied + 1, toHeaders([...own, [HEADER_TIME, String(time)], [HEADER_HELD_SEQ, String(m.seq)]]));
        say(`copied ${copied}/${log.state.messages}`);
        return true;
      });
    }
    const failure = await pipe.settle();
    if (failure) throw failure;
    if (refusedCount > 0) {
      throw new LogMigrationError(
        `${refusedCount} message(s) of ${LOG_STREAM} have subjects with no place in the new layout, so nothing was changed:\n  ${refused.join('\n  ')}` +
          (refusedCount > refused.length ? `\n  … and ${refusedCount - refused.length} more` : ''),
      );
    }
    const now = await jsm.streams.info(LOG_STREAM);
    if (copied !== log.state.messages || now.state.last_seq !== log.state.last_seq || now.state.messages !== log.state.messages) {
      throw new LogMigrationError(
        `${LOG_STREAM} changed while it was copied (${log.state.messages} messages up to ${log.state.last_seq} when the copy began, ${now.state.messages} up to ${now.state.last_seq} now, ${copied} copied): ` +
          'something still writes to it; stop every controller, agent, fleet and apiserver, then run dsctl migrate-log again',
      );
    }
    const done: HeldDone = { messages: copied };
    const ack = await jetstream(nc).publish(MIGRATION_DONE_SUBJECT, new TextEncoder().encode(JSON.stringify(done)));
    if (ack.seq !== copied + 2) throw new LogMigrationError(`${MIGRATION_STREAM}: its last message landed at ${ack.seq}, not ${copied + 2}`);
    say(`copied ${copied} messages to ${MIGRATION_STREAM}`, true);
    return meta;
  } catch (err) {
    // The old log is untouched: the holding stream goes, so the next run starts clean.
    await pipe.settle();
    await jsm.streams.delete(MIGRATION_STREAM).catch(() => undefined);
    throw err;
  }
}

// ---- 2. swap -----------------------------------------------------------------------------------

/** The new log's configuration while it is refilled: the old settings, the new subjects, marked, limits lifted. */
function refillConfig(meta: HeldMeta): StreamConfig {
  return {
    ...meta.config,
    subjects: [...LOG_SUBJECTS],
    description: MIGRATION_IN_PROGRESS_DESCRIPTION,
    duplicate_window: Math.min(meta.config.duplicate_window || REFILL_DUPLICATE_WINDOW_NS, REFILL_DUPLICATE_WINDOW_NS),
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
  };
}

/**
 * The new log's configuration once refilled: the old settings with the new subjects. The old
 * description is named even when it had none: an update is merged over the current settings
 * (nats.js), and an absent one would keep the in-progress mark.
 */
function finalConfig(meta: HeldMeta): StreamConfig {
  return { ...meta.config, subjects: [...LOG_SUBJECTS], description: meta.config.description as string };
}

/** Deletes the old log (after checking once more that it is what was copied) and creates the new one, empty. */
export async function swapLog(nc: NatsConnection, meta: HeldMeta, opts: MigrationOptions = {}): Promise<void> {
  const jsm = await managerOf(nc);
  const log = await streamInfo(jsm, LOG_STREAM);
  if (log) {
    if (logLayoutOf(log.config.subjects) !== 'legacy' || log.created !== meta.created || log.state.last_seq !== meta.state.lastSeq || log.state.messages !== meta.state.messages) {
      throw new LogMigrationError(`${LOG_STREAM} is no longer what was copied to ${MIGRATION_STREAM} (${log.state.messages} messages up to ${log.state.last_seq}, copied ${meta.state.messages} up to ${meta.state.lastSeq}): run dsctl migrate-log again to copy it anew`);
    }
    await jsm.streams.delete(LOG_STREAM);
    progressLine(opts)(`deleted the old ${LOG_STREAM} (its messages are in ${MIGRATION_STREAM})`, true);
  }
  await jsm.streams.add(refillConfig(meta));
}

/** Starts the new log over: deleted and created empty again (only ever the new layout, while the copy is held). */
async function restartLog(jsm: JetStreamManager, meta: HeldMeta): Promise<void> {
  const log = await streamInfo(jsm, LOG_STREAM);
  if (log && logLayoutOf(log.config.subjects) !== 'current') throw new LogMigrationError(`${LOG_STREAM} is not in the new layout: will not start it over`);
  if (log) await jsm.streams.delete(LOG_STREAM);
  await jsm.streams.add(refillConfig(meta));
}

// ---- 3. refill ---------------------------------------------------------------------------------

export interface RefillOptions extends MigrationOptions {
  /** Stop once the log reaches this old sequence (the rest is refilled by the next run). */
  readonly untilSeq?: number;
}

/**
 * Nats-Msg-Ids sent in the last moments: the server takes a second message with the same id for a
 * duplicate (and does not store it) while it remembers the first, for up to two duplicate windows.
 */
class RecentIds {
  private readonly sent = new Map<string, number>();

  /** Ms to wait before `id` may be sent again (0: now). */
  waitFor(id: string, nowMs: number): number {
    for (const [old, at] of this.sent) {
      if (nowMs - at < DUPLICATE_MEMORY_MS) break;
      this.sent.delete(old);
    }
    const at = this.sent.get(id);
    return at === undefined ? 0 : Math.max(0, at + DUPLICATE_MEMORY_MS - nowMs);
  }

  add(id: string, nowMs: number): void {
    this.sent.delete(id);
    this.sent.set(id, nowMs);
  }
}

/**
 * Carries the held messages back into the new log at their old sequences, from where the log ends
 * (what an interrupted run left is kept; the full check after the refill catches a bad one). A
 * message that does not land at its sequence starts the new log over, a few times at most.
 */
export async function refillLog(nc: NatsConnection, meta: HeldMeta, opts: RefillOptions = {}): Promise<{ fillers: number; dropped: Map<string, number> }> {
  const jsm = await managerOf(nc);
  const js = jetstream(nc);
  const say = progressLine(opts);
  const until = Math.min(opts.untilSeq ?? meta.state.lastSeq, meta.state.lastSeq);
  let fillers = 0;
  let dropped = new Map<string, number>();
  for (let attempt = 1; ; attempt++) {
    const log = await jsm.streams.info(LOG_STREAM);
    let next = log.state.last_seq + 1;
    if (next > until) return { fillers, dropped };
    say(`refilling ${LOG_STREAM} from sequence ${next} up to ${until}`, true);
    const pipe = new OrderedPipeline(js, LOG_STREAM, opts.inFlight ?? DEFAULT_IN_FLIGHT);
    const recent = new RecentIds();
    const runDropped = new Map<string, number>();
    const fill = async (upTo: number): Promise<void> => {
      for (; next <= upTo && !pipe.failed; next++) {
        await pipe.send(MIGRATION_FILLER_SUBJECT, new Uint8Array(0), next);
        fillers++;
      }
    };
    await readInOrder(nc, MIGRATION_STREAM, 2, async (m) => {
      const old = oldSubjectOfHeld(m.subject);
      if (old === undefined) return false; // the done marker
      const seq = Number(m.headers?.get(HEADER_HELD_SEQ));
      if (!Number.isSafeInteger(seq) || seq < 1) throw new LogMigrationError(`${MIGRATION_STREAM} seq ${m.seq}: no ${HEADER_HELD_SEQ} header`);
      if (seq < next) return true; // refilled by an earlier run
      if (seq > until || pipe.failed) return false;
      const mapped = legacyToCurrentSubject(old);
      if (!mapped.ok) throw new LogMigrationError(`${MIGRATION_STREAM} seq ${m.seq}: ${mapped.reason}`);
      await fill(seq - 1);
      const restored = restoredHeaders(headerPairs(m.headers));
      for (const d of restored.dropped) runDropped.set(d, (runDropped.get(d) ?? 0) + 1);
      const id = restored.headers.find(([k]) => k === 'Nats-Msg-Id')?.[1];
      if (id !== undefined) {
        const wait = recent.waitFor(id, Date.now());
        if (wait > 0) {
          // The old log holds this id twice (written further apart than its window): the server must forget the first.
          say(`sequence ${seq} repeats the Nats-Msg-Id ${JSON.stringify(id)} of a message just carried: waiting ${wait} ms for the server to forget it`, true);
          await pipe.settle();
          await new Promise((r) => setTimeout(r, wait));
        }
        recent.add(id, Date.now());
      }
      if (pipe.failed) return false;
      await pipe.send(mapped.subject, m.data, seq, toHeaders(restored.headers));
      next = seq + 1;
      say(`refilled up to sequence ${seq} of ${meta.state.lastSeq}`);
      return true;
    });
    // Sequences after the last held message that the old log no longer held.
    await fill(until);
    const failure = await pipe.settle();
    dropped = runDropped;
    if (!failure) continue;
    if (attempt >= REFILL_ATTEMPTS) throw failure;
    say(`a message did not land at its sequence (${failure instanceof Error ? failure.message : String(failure)}): starting ${LOG_STREAM} over`, true);
    await restartLog(jsm, meta);
    fillers = 0;
  }
}

// ---- 4. finish ---------------------------------------------------------------------------------

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks the refilled log (fillers purged) against the copy, message by message: each held message
 * at its old sequence with its subject mapped, its payload and its carried headers, nothing else up
 * to the old last sequence, which is the log's (or before it, when written to since).
 */
export async function verifyRefilled(nc: NatsConnection, meta: HeldMeta): Promise<string[]> {
  const jsm = await managerOf(nc);
  const info = await jsm.streams.info(LOG_STREAM);
  const problems: string[] = [];
  const note = (p: string): void => {
    if (problems.length < 10) problems.push(p);
  };
  if (info.state.last_seq < meta.state.lastSeq) note(`the log ends at ${info.state.last_seq}, the old one at ${meta.state.lastSeq}`);
  if (info.state.last_seq === meta.state.lastSeq && info.state.messages !== meta.state.messages) note(`the log holds ${info.state.messages} messages, the old one ${meta.state.messages}`);
  if (meta.state.messages === 0 || info.state.messages === 0) return problems;
  const held = await openOrderedReader(nc, MIGRATION_STREAM, 2);
  const log = await openOrderedReader(nc, LOG_STREAM, 1);
  try {
    let l = await log.next();
    for (let h = await held.next(); h !== undefined; h = await held.next()) {
      const old = oldSubjectOfHeld(h.subject);
      if (old === undefined) break;
      const seq = Number(h.headers?.get(HEADER_HELD_SEQ));
      const mapped = legacyToCurrentSubject(old);
      while (l !== undefined && l.seq < seq) {
        note(`sequence ${l.seq} (${l.subject}) was not in the old log`);
        l = await log.next();
      }
      if (l === undefined || l.seq !== seq) {
        note(`sequence ${seq} (${old}) is missing`);
        continue;
      }
      if (!mapped.ok || l.subject !== mapped.subject) note(`sequence ${seq}: subject ${l.subject}, expected ${mapped.ok ? mapped.subject : mapped.reason}`);
      else if (!sameBytes(l.data, h.data)) note(`sequence ${seq}: the payload differs`);
      else {
        const want = JSON.stringify(restoredHeaders(headerPairs(h.headers)).headers);
        const got = JSON.stringify(headerPairs(l.headers));
        if (want !== got) note(`sequence ${seq}: headers ${got}, expected ${want}`);
      }
      l = await log.next();
    }
    for (; l !== undefined && l.seq <= meta.state.lastSeq; l = await log.next()) note(`sequence ${l.seq} (${l.subject}) was not in the old log`);
  } finally {
    await held.close();
    await log.close();
  }
  return problems;
}

/** Deletes every snapshot object (they are of the old layout; controllers write new ones). */
export async function deleteSnapshots(nc: NatsConnection): Promise<number> {
  let store;
  try {
    store = await new Objm(nc).open(SNAPSHOT_BUCKET);
  } catch (err) {
    if (isStreamNotFound(err) || (err instanceof Error && /not found/i.test(err.message))) return 0;
    throw err;
  }
  let n = 0;
  for (const info of await store.list()) {
    await store.delete(info.name);
    n++;
  }
  return n;
}

/**
 * Purges the fillers and verifies the log against the copy; when it does not match, starts it over
 * and refills it once more. Then deletes the snapshots, restores the settings (which clears the
 * in-progress mark) and deletes the holding stream.
 */
export async function finishMigration(nc: NatsConnection, meta: HeldMeta, opts: MigrationOptions = {}): Promise<{ snapshots: number }> {
  const jsm = await managerOf(nc);
  const say = progressLine(opts);
  for (let attempt = 1; ; attempt++) {
    await jsm.streams.purge(LOG_STREAM, { filter: MIGRATION_FILLER_SUBJECT });
    const problems = await verifyRefilled(nc, meta);
    if (problems.length === 0) break;
    if (attempt >= 2) throw new LogMigrationError(`the refilled ${LOG_STREAM} does not match its copy in ${MIGRATION_STREAM}, which is kept:\n  ${problems.join('\n  ')}`);
    say(`the refilled ${LOG_STREAM} does not match its copy (${problems[0]}): starting it over`, true);
    await restartLog(jsm, meta);
    await refillLog(nc, meta, opts);
  }
  say(`verified every message of ${LOG_STREAM} against ${MIGRATION_STREAM}`, true);
  const snapshots = await deleteSnapshots(nc);
  await jsm.streams.update(LOG_STREAM, finalConfig(meta));
  await jsm.streams.delete(MIGRATION_STREAM);
  return { snapshots };
}

// ---- the whole migration -----------------------------------------------------------------------

function describeSettings(c: StreamConfig): string {
  const window = c.duplicate_window ? `${c.duplicate_window / 1e9} s` : 'default';
  return `${c.storage} storage, ${c.num_replicas} replica(s), duplicate window ${window}, max message size ${c.max_msg_size}`;
}

/** Old family → its message count and subjects, from the log's per-subject counts. */
async function familySummary(jsm: JetStreamManager): Promise<{ lines: string[]; refused: string[] }> {
  const info = await jsm.streams.info(LOG_STREAM, { subjects_filter: '>' });
  const families = new Map<string, { subjects: number; messages: number; to: string }>();
  const refused: string[] = [];
  for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
    const mapped = legacyToCurrentSubject(subject);
    if (!mapped.ok) {
      refused.push(`${mapped.reason} (${count} message(s))`);
      continue;
    }
    const t = subject.split('.');
    const from = t[0] === 'cmd' ? 'cmd.<slot>.…' : `ev.${t[1]}.…`; // every old subject has tokens after its family
    // `s.<slot>.<family>` or `g.<family>`, then `.…` when names follow.
    const tokens = mapped.subject.split('.');
    const head = tokens[0] === 's' ? ['s', '<slot>', tokens[2]!] : tokens.slice(0, 2);
    const to = head.join('.') + (tokens.length > head.length ? '.…' : '');
    const f = families.get(from) ?? { subjects: 0, messages: 0, to };
    f.subjects++;
    f.messages += count;
    families.set(from, f);
  }
  const lines = [...families.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([from, f]) => `  ${from} -> ${f.to}: ${f.messages} message(s) on ${f.subjects} subject(s)`);
  return { lines, refused };
}

/** What still runs and writes to the log: controllers registered as live, agents heard from lately. */
async function writersStillRunning(nc: NatsConnection): Promise<string[]> {
  const controllers = await liveControllers(nc);
  const agents = await liveAgents(nc, Date.now());
  return [
    ...(controllers.length > 0 ? [`controllers registered as live: ${controllers.join(', ')}`] : []),
    ...(agents.length > 0 ? [`agents heard from lately (their last heartbeat): ${agents.join(', ')}`] : []),
  ];
}

async function refuseWhileLive(nc: NatsConnection, opts: MigrationOptions, lines: string[]): Promise<void> {
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

/**
 * Carries a log in the old layout over to the current one, or goes on with an interrupted
 * migration. A log already in the current layout is left alone (outcome 'nothing-to-do').
 */
export async function migrateLog(nc: NatsConnection, opts: MigrationOptions = {}): Promise<MigrationReport> {
  const jsm = await managerOf(nc);
  const say = progressLine(opts);
  const lines: string[] = [];
  const found = await inspectMigration(nc);
  switch (found.stage) {
    case 'no-log':
      return { outcome: 'nothing-to-do', lines: [`there is no log ${LOG_STREAM} here: nothing to migrate`] };
    case 'current':
      return { outcome: 'nothing-to-do', lines: [`the log ${LOG_STREAM} is already in the current layout (${LOG_SUBJECTS.join(', ')}): nothing to migrate`] };
    case 'stuck':
      throw new LogMigrationError(found.reason);
    default:
      break;
  }
  const meta = 'meta' in found ? found.meta : undefined;
  if (opts.dryRun) {
    if (found.stage === 'legacy') {
      const { state: s, config } = found.log;
      const gaps = s.last_seq - s.messages;
      const summary = await familySummary(jsm);
      lines.push(
        `${LOG_STREAM} is in the layout before per-slot subjects (${(config.subjects ?? []).join(', ')}): ${s.messages} message(s), sequences up to ${s.last_seq} (${gaps} without a message)`,
        `would copy them to ${MIGRATION_STREAM}, delete ${LOG_STREAM}, create it with subjects ${LOG_SUBJECTS.join(', ')} and its settings (${describeSettings(config)}),`,
        `carry every message back at its sequence with its time (${HEADER_TIME}), payload and ids (${gaps} filler(s) for the sequences without a message, purged after),`,
        `delete the snapshots in ${SNAPSHOT_BUCKET}, then delete ${MIGRATION_STREAM}`,
        'subjects:',
        ...summary.lines,
      );
      if (summary.refused.length > 0) lines.push(`would refuse: ${summary.refused.length} subject(s) with no place in the new layout:`, ...summary.refused.map((r) => `  ${r}`));
      if (found.staleHolding) lines.push(`would first delete an incomplete ${MIGRATION_STREAM} left by an earlier run`);
    } else {
      lines.push(`a migration was interrupted (${found.stage === 'held' ? 'the copy is complete, the old log not yet replaced' : found.stage === 'recreate' ? `the old log is deleted, its copy in ${MIGRATION_STREAM} is complete` : `the new log is being refilled from ${MIGRATION_STREAM}`}): would go on from there`);
    }
    const running = await writersStillRunning(nc);
    lines.push(running.length === 0 ? 'still running: no controller registered as live, no agent heard from lately' : `still running (stop them first, or --force): ${running.join('; ')}`);
    return { outcome: 'dry-run', lines };
  }
  await refuseWhileLive(nc, opts, lines);
  let held: HeldMeta;
  if (found.stage === 'legacy') {
    if (found.staleHolding) say(`deleting an incomplete ${MIGRATION_STREAM} left by an earlier run`, true);
    held = await copyToHolding(nc, found.log, opts);
  } else {
    held = meta!;
    say(`going on with an interrupted migration (${found.stage})`, true);
  }
  if (found.stage === 'legacy' || found.stage === 'held' || found.stage === 'recreate') await swapLog(nc, held, opts);
  const { fillers, dropped } = await refillLog(nc, held, opts);
  const { snapshots } = await finishMigration(nc, held, opts);
  lines.push(
    `the log ${LOG_STREAM} is in the current layout (${LOG_SUBJECTS.join(', ')}): ${held.state.messages} message(s) carried over at their sequences (last ${held.state.lastSeq}), each with its time in ${HEADER_TIME}`,
  );
  const gaps = held.state.lastSeq - held.state.messages;
  if (gaps > 0) lines.push(`${gaps} sequence(s) without a message in the old log stay without one (${fillers} filled in this run, then purged)`);
  if (dropped.size > 0) lines.push(`publish preconditions not carried: ${[...dropped.entries()].map(([k, n]) => `${k} (${n})`).join(', ')}`);
  lines.push(`${snapshots} snapshot object(s) deleted from ${SNAPSHOT_BUCKET} (controllers write new ones); ${MIGRATION_STREAM} deleted`);
  return { outcome: 'migrated', lines };
}

/** Whether `err` is the bus refusing one of the migration's writes (the credentials in use may not). */
export function isMigrationRefused(err: unknown): boolean {
  return permissionRefusal(err) !== undefined;
}
