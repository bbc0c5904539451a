// Reading the log in order: replay from a sequence until caught up, then keep following live.
// An ordered consumer (ephemeral, flow-controlled, re-created by the client on gaps) delivers
// every message once and in stream order, which is what a fold needs.

import { jetstream, jetstreamManager, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeEvent } from '../codec/codec.js';
import type { Envelope, LogEvent } from '../events/types.js';
import { LOG_STREAM } from '../topology/names.js';
import { checkAuthor } from './authorship.js';

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
const READER_HEARTBEAT_MS = 1_000;

export function envelopeOf(msg: JsMsg, event: LogEvent): Envelope {
  return { seq: msg.seq, subject: msg.subject, timeMs: Number(msg.timestampNanos / 1_000_000n), event };
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
  const js = jetstream(opts.nc);
  const jsm = await jetstreamManager(opts.nc);
  const info = await jsm.streams.info(LOG_STREAM);
  const fromSeq = Math.max(1, opts.fromSeq ?? 1);
  const target = Math.min(info.state.last_seq, opts.untilSeq ?? Number.MAX_SAFE_INTEGER);
  const consumer = await js.consumers.get(LOG_STREAM, {
    ...(opts.filter ? { filter_subjects: opts.filter } : {}),
    ...(fromSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq } : { deliver_policy: DeliverPolicy.All }),
  });

  let last = fromSeq - 1;
  let count = 0;
  let caught = false;
  let resolveCaught!: (v: { seq: number; count: number }) => void;
  const caughtUp = new Promise<{ seq: number; count: number }>((r) => (resolveCaught = r));
  let iter: ConsumerMessages | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const markCaughtUp = (): void => {
    if (caught) return;
    caught = true;
    resolveCaught({ seq: last, count });
  };

  const stop = async (): Promise<void> => {
    markCaughtUp();
    if (iter) await iter.close().catch(() => undefined);
    resolveDone();
  };

  if (target < fromSeq) markCaughtUp();

  iter = await consumer.consume({
    // Short pull expiry and heartbeat: when the server holding this (ephemeral, R1) consumer
    // dies in a cluster, the client notices the missed heartbeats within seconds and re-creates
    // the ordered consumer from the next sequence, instead of after the 30 s default.
    expires: READER_EXPIRES_MS,
    idle_heartbeat: READER_HEARTBEAT_MS,
    callback: (msg: JsMsg) => {
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
  void iter.closed().then(
    () => {
      markCaughtUp();
      resolveDone();
    },
    (err: unknown) => {
      opts.log?.error({ err }, 'log reader stopped');
      markCaughtUp();
      resolveDone();
    },
  );

  if (!caught && opts.filter) {
    // With a filter the stream's last sequence may never be delivered to us: ask the consumer
    // how much is pending for our filter. Caught up only once everything it has delivered has
    // also been folded here (messages may still be on the wire).
    // (delivered.stream_seq is no help: the server advances it past messages the filter skips,
    // so count deliveries instead: consumer_seq is how many this consumer has sent us.)
    const ci = await consumer.info().catch(() => undefined);
    if (ci && ci.num_pending === 0 && ci.delivered.consumer_seq <= count) markCaughtUp();
  }
  // Time travel reads up to a point and stops there.
  if (opts.untilSeq !== undefined) void caughtUp.then(() => stop());

  const lastSeqNow = async (): Promise<number> => (await jsm.streams.info(LOG_STREAM)).state.last_seq;
  return { caughtUp, done, lastSeq: () => last, lastSeqNow, stop };
}
