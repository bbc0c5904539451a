// The whole migration: what is there decides where it starts (or that there is nothing to do); a dry
// run says what would be done; otherwise copy, swap, refill and finish, in turn.

import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { legacyToCurrentSubject, MIGRATION_STREAM } from '../../topology/legacy-layout.js';
import { HEADER_TIME, LOG_STREAM, LOG_SUBJECTS, SNAPSHOT_BUCKET } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { copyToHolding } from './copy.js';
import { LogMigrationError } from './errors.js';
import { finishMigration } from './finish.js';
import { inspectMigration } from './inspect.js';
import { progressLine } from './progress.js';
import { refillLog } from './refill.js';
import { swapLog } from './swap.js';
import type { HeldMeta, MigrationOptions, MigrationReport } from './types.js';
import { refuseWhileLive, writersStillRunning } from './writers.js';

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
