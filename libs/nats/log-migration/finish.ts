// Step 4, finish: the fillers purged, the log verified against its copy (started over and refilled
// once more when it does not match), the snapshots of the old layout deleted, the settings restored,
// the holding stream deleted.

import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { MIGRATION_FILLER_SUBJECT, MIGRATION_STREAM } from '../../topology/legacy-layout.js';
import { LOG_STREAM, SNAPSHOT_BUCKET } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { LogMigrationError } from './errors.js';
import { progressLine } from './progress.js';
import { refillLog } from './refill.js';
import { isStreamNotFound } from './stream-lookups.js';
import { finalConfig, restartLog } from './swap.js';
import type { HeldMeta, MigrationOptions } from './types.js';
import { verifyRefilled } from './verify.js';

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
