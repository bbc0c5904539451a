// `dsctl audit`: folds the whole log with the pure audit (libs/core/audit/) and prints the
// breaks of the invariants it finds, as a kubectl-like table or as an AuditReport in JSON.
// Exit 0 only when there is none, 1 when there are, 2 when no audit could be made (bad flags,
// no log, the bus unreachable or refusing): a script can tell "broken" from "not checked".

import { CommanderError, type Command } from 'commander';
import type { NatsConnection } from '@nats-io/transport-node';
import { BREAK_KINDS, breakMeaning, createAudit, DEFAULT_STALL_AFTER_MS, type AuditOptions, type AuditReport } from '../../libs/core/audit/mod.js';
import { dsKey, type State } from '../../libs/core/state.js';
import { permissionRefusal } from '../../libs/auth/permission-refusal.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { loadSnapshot } from '../../libs/nats/snapshots.js';
import { managerOf } from '../../libs/nats/subject-reads.js';
import { readTopology } from '../../libs/nats/topology.js';
import { LOG_STREAM } from '../../libs/topology/names.js';
import { parseSince } from '../../libs/present/events.js';
import { formatGoDuration, parseGoDuration } from '../../libs/present/go-duration.js';
import { GET_TABWRITER, tabwrite } from '../../libs/present/table.js';
import { splitKindName, withBus } from './context.js';
import { busRefusal, CliError } from './errors.js';

export const AUDIT_API_VERSION = 'daemonset-js.io/v1';
export const EXIT_BREAKS = 1;
/** Bad usage, or the log could not be read: no audit was made. */
export const EXIT_NOT_AUDITED = 2;

export interface AuditFlags {
  readonly since?: string;
  readonly for?: string;
  readonly namespace?: string;
  readonly output?: string;
  readonly stallAfter?: string;
}

export type AuditOutput = 'table' | 'json';

/** The flags as the pure audit takes them (all but the slot count, which the log's topology gives). */
export function auditOptionsOf(flags: AuditFlags, nowMs: number): { readonly options: Omit<AuditOptions, 'slots'>; readonly output: AuditOutput } {
  const usage = (message: string): CliError => new CliError(`error: ${message}`, EXIT_NOT_AUDITED);
  let output: AuditOutput = 'table';
  if (flags.output !== undefined) {
    if (flags.output !== 'json') throw usage(`unable to match a printer suitable for the output format "${flags.output}", allowed formats are: json`);
    output = 'json';
  }
  let since: { sinceSeq: number } | { sinceMs: number } | undefined;
  if (flags.since !== undefined) {
    if (/^\d+$/.test(flags.since.trim())) since = { sinceSeq: Number(flags.since.trim()) };
    else {
      const ms = parseSince(flags.since, nowMs);
      if (ms === undefined) throw usage(`--since takes a log sequence number, an RFC 3339 time or a duration such as 10m, not ${JSON.stringify(flags.since)}`);
      since = { sinceMs: ms };
    }
  }
  let ds: string | undefined;
  if (flags.for !== undefined) {
    const parsed = (() => {
      try {
        return splitKindName(flags.for!, undefined);
      } catch (err) {
        throw usage(`--for takes ds/NAME: ${(err as Error).message.replace(/^error: /, '')}`);
      }
    })();
    if (parsed.kind !== 'ds' || !parsed.name) throw usage(`--for takes ds/NAME, not ${JSON.stringify(flags.for)}`);
    ds = dsKey(flags.namespace ?? 'default', parsed.name);
  }
  const stallText = flags.stallAfter ?? formatGoDuration(DEFAULT_STALL_AFTER_MS);
  const stallAfterMs = parseGoDuration(stallText);
  if (stallAfterMs === undefined || stallAfterMs < 0) {
    throw usage(`invalid argument ${JSON.stringify(stallText)} for "--stall-after" flag: a non-negative duration such as 60s or 5m`);
  }
  return { options: { ...since, ...(ds !== undefined ? { ds } : {}), stallAfterMs }, output };
}

/**
 * Reads the log from its first message to its end as of now, auditing it on the way. `note`
 * receives what a person should know about the audit's reach (a purged log).
 */
export async function auditTheLog(nc: NatsConnection, options: Omit<AuditOptions, 'slots'>, note: (line: string) => void = () => undefined): Promise<AuditReport> {
  const settings = await readTopology(nc);
  if (!settings) {
    throw new CliError('error: this server holds no DaemonSet log (the topology was never created): nothing to audit; check --server or NATS_URL', EXIT_NOT_AUDITED);
  }
  // The log's end as of now, and its last message that still exists: a reader waiting for a
  // deleted last sequence would wait for ever, and the deleted tail is a gap to report.
  const info = await (await managerOf(nc)).streams.info(LOG_STREAM, { deleted_details: true });
  // A log purged below a snapshot (README, Retention) starts from that snapshot's state; the
  // events it folds are not judged. Without one, the audit folds what is left, blind to the rest.
  let from: { state: State } | undefined;
  let readFrom: number | undefined;
  if (info.state.first_seq > 1 && info.state.messages > 0) {
    const snap = await loadSnapshot(nc, settings.slots);
    if (snap.found && snap.data.seq >= info.state.first_seq - 1 && snap.data.seq <= info.state.last_seq) {
      from = { state: snap.state };
      readFrom = snap.data.seq + 1;
      note(`note: the log was purged below seq ${info.state.first_seq}; the audit starts from the snapshot at seq ${snap.data.seq} (what it holds is folded, not judged)`);
    } else {
      const why = snap.found ? `the snapshot is at seq ${snap.data.seq}` : snap.reason;
      note(`note: the log was purged below seq ${info.state.first_seq} and no snapshot reaches it (${why}): the audit folds what is left, without what came before`);
    }
  }
  const audit = createAudit({ ...options, slots: settings.slots }, from);
  const endSeq = info.state.last_seq;
  const deleted = new Set(info.state.deleted ?? []);
  let lastPresent = info.state.messages === 0 ? 0 : endSeq;
  while (lastPresent >= info.state.first_seq && deleted.has(lastPresent)) lastPresent--;
  let failure: unknown;
  // The reader's callbacks must not throw: a failure stops the read and is thrown once it has.
  const guarded = (fn: () => void): void => {
    if (failure !== undefined) return;
    try {
      fn();
    } catch (err) {
      failure = err;
    }
  };
  const reader = await openLogReader({
    nc,
    fromSeq: readFrom ?? audit.state.seq + 1,
    untilSeq: Math.max(0, lastPresent),
    onEnvelope: (env) => guarded(() => audit.observe(env)),
    // A message set aside (undecodable, invalid, wrongly authored) is a position seen, not a gap.
    onInvalid: (msg) => guarded(() => audit.skip(msg.seq, Number(msg.timestampNanos / 1_000_000n))),
  });
  await reader.caughtUp;
  await reader.stop();
  if (failure !== undefined) throw failure;
  return audit.finish(endSeq);
}

export function renderAuditJson(r: AuditReport): string {
  const report = {
    apiVersion: AUDIT_API_VERSION,
    kind: 'AuditReport',
    range: { fromSeq: r.range.fromSeq, toSeq: r.range.toSeq },
    events: r.events,
    breaks: r.breaks.map((b) => ({
      kind: b.kind,
      ...(b.ds !== undefined ? { ds: b.ds } : {}),
      ...(b.node !== undefined ? { node: b.node } : {}),
      seqs: [...b.seqs],
      message: b.message,
    })),
  };
  return `${JSON.stringify(report, null, 4)}\n`;
}

/** kubectl's columns (`<none>` for an empty cell), then one summary line. */
export function renderAuditTable(r: AuditReport): string {
  let out = '';
  if (r.breaks.length > 0) {
    const rows = [['KIND', 'DAEMONSET', 'NODE', 'SEQS', 'MESSAGE'].join('\t')];
    for (const b of r.breaks) rows.push([b.kind, b.ds ?? '<none>', b.node ?? '<none>', b.seqs.join(','), b.message].join('\t'));
    out += tabwrite(`${rows.join('\n')}\n`, GET_TABWRITER);
  }
  const range = r.events > 0 ? ` (seq ${r.range.fromSeq}..${r.range.toSeq})` : '';
  const n = r.breaks.length;
  return `${out}audited ${r.events} event${r.events === 1 ? '' : 's'}${range}: ${n} break${n === 1 ? '' : 's'}\n`;
}

/** The exit code of any failure of the audit itself: 2, with the message main() would print. */
function notAudited(err: unknown): CliError {
  if (err instanceof CliError) return err.exitCode === EXIT_NOT_AUDITED ? err : new CliError(err.message, EXIT_NOT_AUDITED);
  const refusal = permissionRefusal(err);
  if (refusal) return new CliError(busRefusal(refusal).message, EXIT_NOT_AUDITED);
  return new CliError(`error: ${err instanceof Error ? err.message : String(err)}`, EXIT_NOT_AUDITED);
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('Fold the log and report every break of the invariants, with the log sequences that show it; exit 0 only when there is none (1: breaks, 2: not audited)')
    .option('--since <when>', 'judge only from a log sequence number, an RFC 3339 time, or a duration ago (10m); earlier events are folded, not judged')
    .option('--for <object>', 'only the breaks of one DaemonSet, e.g. ds/fluentd (sequence gaps are always shown)')
    .option('-n, --namespace <ns>', 'namespace of --for', 'default')
    .option('--stall-after <duration>', 'a rollout idle this long (log time) to the end of the log, with no recorded reason, is stalled', formatGoDuration(DEFAULT_STALL_AFTER_MS))
    .option('-o, --output <format>', 'json')
    .addHelpText('after', `\nBreaks:\n${BREAK_KINDS.map((k) => `  ${k.padEnd(20)}${breakMeaning(k)}`).join('\n')}\n`)
    // Usage errors exit 2 here (1 means "breaks found"); help still exits 0.
    .exitOverride((err) => {
      throw new CommanderError(err.exitCode === 0 ? 0 : EXIT_NOT_AUDITED, err.code, err.message);
    })
    .action(async (flags: AuditFlags) => {
      try {
        const { options, output } = auditOptionsOf(flags, Date.now());
        const report = await withBus(program, (nc) => auditTheLog(nc, options, (line) => process.stderr.write(`${line}\n`)));
        process.stdout.write(output === 'json' ? renderAuditJson(report) : renderAuditTable(report));
        process.exitCode = report.breaks.length > 0 ? EXIT_BREAKS : 0;
      } catch (err) {
        throw notAudited(err);
      }
    });
}
