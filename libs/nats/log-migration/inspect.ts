// Where a migration stands, read from what is on the server: the log and its layout, and the holding
// stream with its record of the old log and whether its copy is complete.

import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { logLayoutOf, MIGRATION_DONE_SUBJECT, MIGRATION_META_SUBJECT, MIGRATION_STREAM } from '../../topology/legacy-layout.js';
import { LEGACY_LOG_SUBJECTS, LOG_STREAM, LOG_SUBJECTS } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { lastJson, streamInfo } from './stream-lookups.js';
import type { HeldDone, HeldMeta } from './types.js';

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
