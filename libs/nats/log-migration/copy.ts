// Step 1, copy: DS_LOG -> DS_LOG_MIGRATION (`migration.<old subject>`), between a first message that
// records the old stream's configuration and state and a last one that says the copy is complete.

import { jetstream, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  heldHeaders,
  HEADER_HELD_SEQ,
  heldSubject,
  legacyToCurrentSubject,
  MIGRATION_DONE_SUBJECT,
  MIGRATION_META_SUBJECT,
  MIGRATION_STREAM,
  MIGRATION_SUBJECTS,
  parseTimeHeader,
} from '../../topology/legacy-layout.js';
import { HEADER_TIME, LOG_STREAM } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { LogMigrationError } from './errors.js';
import { headerPairs, toHeaders } from './header-pairs.js';
import { DEFAULT_IN_FLIGHT, OrderedPipeline } from './ordered-pipeline.js';
import { readInOrder } from './ordered-reader.js';
import { progressLine } from './progress.js';
import { streamInfo } from './stream-lookups.js';
import type { HeldDone, HeldMeta, MigrationOptions } from './types.js';

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
