// Reading the log in order: replay from a sequence until caught up, then keep following live.
//
// The reader keeps its own consumer (ack none, in memory, one replica) and re-creates it from the
// next sequence whenever delivery falters: a gap in the consumer's delivery sequence, the
// consumer gone, or missed heartbeats (the server holding it died). The client's ordered
// consumer does the first two but, on nats-server 2.9 in a cluster, waits on consumer-info
// requests to a dead server and never re-creates; here every JetStream call has a short timeout
// and is retried with back-off until it lands on a live server.
//
// A reader may be given a fixed consumer name: an agent reads its commands through one named
// consumer, so its credentials can pin the name and the filter (libs/topology/roles.ts).

import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, nuid, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeEvent } from '../codec/codec.js';
import type { Envelope, LogEvent } from '../events/types.js';
import { HEADER_TIME, LOG_STREAM } from '../topology/names.js';
import { parseTimeHeader } from '../topology/legacy-layout.js';
import { checkAuthor } from './authorship.js';
import { lastSeqOn } from './subject-reads.js';

export interface LogReaderOptions {
  readonly nc: NatsConnection;
  /** One subject filter (nats-server 2.9 takes one); omit for the whole log. */
  readonly filter?: string;
  /** First sequence to deliver; 1 (default) replays from the start. */
  readonly fromSeq?: number;
  /** Deliver nothing after this sequence and stop (time travel); omit to follow live. */
  readonly untilSeq?: number;
  /** Called once per valid message, in order. Must not throw; it is the fold. */
  readonly onEnvelope: (env: Envelope) => void;
  /** Called for a message that does not decode or validate; the reader goes on. */
  readonly onInvalid?: (msg: JsMsg, reason: string) => void;
  readonly log?: Logger;
  /**
   * A fixed consumer name (one reader at a time per name: an existing consumer of that name is
   * replaced). Omitted: a fresh random name.
   */
  readonly consumerName?: string;
}

export interface LogReader {
  /** Resolves when every message that existed when reading started has been delivered. */
  readonly caughtUp: Promise<{ readonly seq: number; readonly count: number }>;
  /** Resolves when reading stops (stop(), untilSeq reached, or a fatal error). */
  readonly done: Promise<void>;
  /** Last sequence delivered (valid or not). */
  lastSeq(): number;
  /** The log's last sequence right now (what a reader must reach to know everything written so far). */
  lastSeqNow(): Promise<number>;
  stop(): Promise<void>;
}

const READER_EXPIRES_MS = 4_000;
/** A filtered reader not yet caught up asks its consumer this often whether anything is left. */
const CAUGHT_UP_CHECK_MS = 500;
const READER_HEARTBEAT_MS = 1_000;
const MISSED_HEARTBEATS_TO_RECREATE = 3;
/** JetStream API calls of the reader: short, because a call that lands on a dead server is retried. */
const API_TIMEOUT_MS = 2_000;
/** Consumer creates: the first tries wait this long (see quickJsm). */
const QUICK_API_TIMEOUT_MS = 1_000;
const QUICK_TRIES = 10;
const RETRY_FIRST_MS = 100;
/** Short: once an election is over, the next try should come soon. */
const RETRY_MAX_MS = 1_000;
/** A named consumer whose reader died goes away after this long unused. */
const INACTIVE_THRESHOLD_MS = 5 * 60_000;
/** An unnamed one is never deleted by its reader: it goes away this long after its last pull. */
const UNNAMED_INACTIVE_THRESHOLD_MS = 30_000;

/**
 * A message's time (ms): its `Ds-Time` header when it has a valid one (a message carried over by
 * dsctl migrate-log keeps the time it was first written), else its stream time.
 */
export function messageTimeMs(msg: JsMsg): number {
  return parseTimeHeader(msg.headers?.get(HEADER_TIME)) ?? Number(msg.timestampNanos / 1_000_000n);
}

export function envelopeOf(msg: JsMsg, event: LogEvent): Envelope {
  return { seq: msg.seq, subject: msg.subject, timeMs: messageTimeMs(msg), event };
}

/** Decodes and validates one log message: a valid LogEvent from the right author, or a reason. */
export function decodeLogMessage(msg: JsMsg): { ok: true; env: Envelope } | { ok: false; reason: string } {
  const r = decodeEvent(msg.data);
  if (!r.ok) return r;
  if (r.event.type === 'Heartbeat') return { ok: false, reason: 'Heartbeat does not belong on the log' };
  const authored = checkAuthor(msg.subject, r.event);
  if (!authored.ok) return authored;
  return { ok: true, env: envelopeOf(msg, r.event) };
}

export async function openLogReader(opts: LogReaderOptions): Promise<LogReader> {
  const js = jetstream(opts.nc, { timeout: API_TIMEOUT_MS });
  const jsm = await jetstreamManager(opts.nc, { timeout: API_TIMEOUT_MS, checkAPI: false });
  // Creating a consumer takes milliseconds, but on nats-server 2.9 a one-replica consumer may be
  // placed on a stream peer that has just died, and then its create is never answered (about
  // one try in two while a peer is down): the first tries give up sooner.
  const quickJsm = await jetstreamManager(opts.nc, { timeout: QUICK_API_TIMEOUT_MS, checkAPI: false });
  /** A fixed name, or a fresh random one per consumer (an old one may linger until it times out). */
  let name = opts.consumerName ?? `rd_${nuid.next()}`;
  const fromSeq = Math.max(1, opts.fromSeq ?? 1);

  let stopped = false;
  let last = fromSeq - 1;
  let count = 0;
  let caught = false;
  let resolveCaught!: (v: { seq: number; count: number }) => void;
  const caughtUp = new Promise<{ seq: number; count: number }>((r) => (resolveCaught = r));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let iter: ConsumerMessages | undefined;
  /** Bumped by every (re)start: callbacks of an older consumer are ignored. */
  let generation = 0;
  let restarting: Promise<void> | undefined;

  const markCaughtUp = (): void => {
    if (caught) return;
    caught = true;
    resolveCaught({ seq: last, count });
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    generation++;
    markCaughtUp();
    const it = iter;
    iter = undefined;
    if (it) await it.close().catch(() => undefined);
    // A named consumer is deleted (its owner may); a random one is left to the server's inactivity
    // threshold, since a read-only identity may not delete consumers.
    if (opts.consumerName !== undefined) void jsm.consumers.delete(LOG_STREAM, name).catch(() => undefined);
    resolveDone();
  };

  const target = Math.min(await retry(() => lastSeqOf(jsm), opts, () => stopped), opts.untilSeq ?? Number.MAX_SAFE_INTEGER);
  if (target < fromSeq) markCaughtUp();

  const config = (start: number): Partial<ConsumerConfig> => ({
    name,
    ...(opts.filter ? { filter_subject: opts.filter } : {}),
    ...(start > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start } : { deliver_policy: DeliverPolicy.All }),
    ack_policy: AckPolicy.None,
    max_deliver: 1,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(opts.consumerName !== undefined ? INACTIVE_THRESHOLD_MS : UNNAMED_INACTIVE_THRESHOLD_MS),
  });

  /** Creates the consumer from the sequence after the last one delivered and starts pulling. */
  const start = async (): Promise<void> => {
    const gen = ++generation;
    const old = iter;
    iter = undefined;
    // Not awaited: closing an iterator whose server died can wait on it. Its callbacks are
    // ignored from now on (their generation is over).
    if (old) void old.close().catch(() => undefined);
    const ci = await retry(
      async (attempt) => {
        const api = attempt <= QUICK_TRIES ? quickJsm : jsm;
        // A consumer of the same name (a previous run, or a replica that lost track of it) is replaced.
        if (opts.consumerName !== undefined) await api.consumers.delete(LOG_STREAM, name).catch(() => undefined);
        // An unnamed reader takes a fresh name for every consumer and every try: an old one may
        // linger until it times out, and a create that timed out may still be placed later.
        if ((gen > 1 || attempt > 1) && opts.consumerName === undefined) name = `rd_${nuid.next()}`;
        return api.consumers.add(LOG_STREAM, config(last + 1));
      },
      opts,
      () => stopped || gen !== generation,
    );
    if (stopped || gen !== generation) return;
    if (gen > 1) opts.log?.info({ consumer: name, fromSeq: last + 1, server: opts.nc.getServer() }, 'log reader: consumer re-created');
    const consumer = js.consumers.getConsumerFromInfo(ci);
    let delivered = 0;
    const it = await consumer.consume({
      // Short pull expiry and heartbeat: a dead server is noticed within seconds.
      expires: READER_EXPIRES_MS,
      idle_heartbeat: READER_HEARTBEAT_MS,
      callback: (msg: JsMsg) => {
        if (gen !== generation) return;
        delivered++;
        if (msg.info.deliverySequence !== delivered) {
          // Something else pulled from our consumer, or the server lost a message to us: start
          // again from the next sequence we have not seen.
          opts.log?.warn({ consumer: name, expected: delivered, got: msg.info.deliverySequence }, 'log reader: gap in delivery, re-creating the consumer');
          restart();
          return;
        }
        if (msg.seq <= last) return;
        if (opts.untilSeq !== undefined && msg.seq > opts.untilSeq) {
          void stop();
          return;
        }
        last = msg.seq;
        count++;
        const r = decodeLogMessage(msg);
        if (r.ok) opts.onEnvelope(r.env);
        else opts.onInvalid?.(msg, r.reason);
        // Unfiltered, caught up means reaching the leader's last sequence as of the start: a
        // consumer on a lagging replica may report nothing pending before it has it all.
        if (!caught && (msg.seq >= target || (opts.filter !== undefined && msg.info.pending === 0))) markCaughtUp();
        if (opts.untilSeq !== undefined && msg.seq >= opts.untilSeq) void stop();
      },
    });
    if (stopped || gen !== generation) {
      await it.close().catch(() => undefined);
      return;
    }
    iter = it;
    void (async () => {
      for await (const s of it.status()) {
        if (gen !== generation) return;
        // A missed heartbeat or two is ordinary (the client re-pulls by itself); three in a row mean
        // the server holding the consumer is gone.
        if ((s.type === 'heartbeats_missed' && s.count >= MISSED_HEARTBEATS_TO_RECREATE) || s.type === 'consumer_deleted' || s.type === 'consumer_not_found' || s.type === 'no_responders') {
          opts.log?.warn({ consumer: name, status: s.type, lastSeq: last }, 'log reader: consumer lost, re-creating it');
          restart();
          return;
        }
      }
    })().catch(() => undefined);
    void it.closed().then(
      () => undefined,
      (err: unknown) => {
        if (gen !== generation || stopped) return;
        opts.log?.warn({ err, consumer: name }, 'log reader: consume failed, re-creating the consumer');
        restart();
      },
    );
    if (!caught && opts.filter) {
      // With a filter the stream's last sequence may never be delivered to us: ask the consumer
      // how much is pending for our filter. Caught up only once everything it has delivered has
      // also been folded here (messages may still be on the wire). Until then, asked again, and
      // the last message stored under the filter is looked up: delivered it, we are caught up
      // whatever the pending counts say (under load, one per-slot reader in a few dozen waited
      // for ever for a delivery whose pending count was 0).
      const check = async (): Promise<void> => {
        const info = await consumer.info().catch(() => undefined);
        if (info && gen === generation && info.num_pending === 0 && info.delivered.consumer_seq <= delivered) markCaughtUp();
        if (caught || gen !== generation) return;
        const lastStored = await lastSeqOn(jsm, opts.filter!).catch(() => undefined);
        if (lastStored !== undefined && gen === generation && last >= lastStored) markCaughtUp();
      };
      await check();
      if (!caught) {
        const timer = setInterval(() => {
          if (caught || stopped || gen !== generation) clearInterval(timer);
          else void check();
        }, CAUGHT_UP_CHECK_MS);
        timer.unref();
      }
    }
  };

  /**
   * After the connection moves to another server, start over from the next sequence. The
   * client's own recovery asks for the consumer's info until it answers and keeps its heartbeat
   * watch off meanwhile; when the consumer lived on the server that died (one replica), that info
   * never comes and the reader would wait silently for ever.
   */
  function watchReconnects(): void {
    const status = opts.nc.status();
    void (async () => {
      for await (const s of status) {
        if (stopped) break;
        if (s.type !== 'reconnect') continue;
        opts.log?.info({ consumer: name, lastSeq: last, server: opts.nc.getServer() }, 'log reader: reconnected, re-creating the consumer');
        restart();
      }
    })().catch(() => undefined);
    // The client's status iterator has stop() (which also unregisters it); the type does not say so.
    void done.then(() => (status as { stop?: () => void }).stop?.());
  }

  const restart = (): void => {
    if (stopped || restarting) return;
    restarting = start()
      .catch((err: unknown) => {
        opts.log?.error({ err, consumer: name }, 'log reader stopped');
        void stop();
      })
      .finally(() => {
        restarting = undefined;
      });
  };

  await start();
  watchReconnects();
  // Time travel reads up to a point and stops there.
  if (opts.untilSeq !== undefined) void caughtUp.then(() => stop());

  const lastSeqNow = (): Promise<number> => retry(() => lastSeqOf(jsm), opts, () => stopped);
  return { caughtUp, done, lastSeq: () => last, lastSeqNow, stop };
}

/**
 * The sequence of the log's last message that still exists. A deleted message keeps its place in
 * `last_seq` (2.9), and a reader waiting to be delivered a deleted last sequence would wait for
 * ever; the deleted sequences are asked for only when there are some (never with credentials on:
 * nobody may delete from the log).
 */
async function lastSeqOf(jsm: JetStreamManager): Promise<number> {
  const { state } = await jsm.streams.info(LOG_STREAM);
  if (!state.num_deleted) return state.last_seq;
  const detailed = (await jsm.streams.info(LOG_STREAM, { deleted_details: true })).state;
  const deleted = new Set(detailed.deleted ?? []);
  let seq = detailed.last_seq;
  while (seq >= detailed.first_seq && deleted.has(seq)) seq--;
  return Math.max(seq, detailed.first_seq - 1);
}

/** JetStream errors that no retry will cure: the stream is missing, or we may not do this. */
function permanent(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  // A filter outside the stream's subjects (e.g. a subject of the layout before per-slot reading)
  // is refused for good: say so rather than retry for ever.
  return /stream not found|permissions violation|PermissionViolation|authorization|not a valid subset/i.test(text);
}

/** Runs `fn` until it succeeds, backing off between failures; gives up on permanent errors. */
async function retry<T>(fn: (attempt: number) => Promise<T>, opts: LogReaderOptions, cancelled: () => boolean): Promise<T> {
  let delay = RETRY_FIRST_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (permanent(err) || cancelled()) throw err;
      if (attempt === 3) opts.log?.warn({ err, attempt }, 'log reader: JetStream not answering, retrying');
      else opts.log?.debug({ err: (err as Error).message, attempt, server: opts.nc.getServer() }, 'log reader: JetStream call failed, retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }
}
