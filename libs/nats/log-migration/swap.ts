// Step 2, swap: the old log deleted, the new one created with the old settings (marked in progress,
// limits lifted, a short duplicate window while it is refilled); and the settings it gets back after.

import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { logLayoutOf, MIGRATION_IN_PROGRESS_DESCRIPTION, MIGRATION_STREAM } from '../../topology/legacy-layout.js';
import { LOG_STREAM, LOG_SUBJECTS } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { LogMigrationError } from './errors.js';
import { progressLine } from './progress.js';
import { streamInfo } from './stream-lookups.js';
import type { HeldMeta, MigrationOptions } from './types.js';

/** The new log's duplicate window while it is refilled: a Nats-Msg-Id the old log holds twice (written more than its window apart) is free again this soon. */
const REFILL_DUPLICATE_WINDOW_NS = 1_000_000_000;

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
export function finalConfig(meta: HeldMeta): StreamConfig {
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
export async function restartLog(jsm: JetStreamManager, meta: HeldMeta): Promise<void> {
  const log = await streamInfo(jsm, LOG_STREAM);
  if (log && logLayoutOf(log.config.subjects) !== 'current') throw new LogMigrationError(`${LOG_STREAM} is not in the new layout: will not start it over`);
  if (log) await jsm.streams.delete(LOG_STREAM);
  await jsm.streams.add(refillConfig(meta));
}
