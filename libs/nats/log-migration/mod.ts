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
// from it. The topology checks (../topology.ts) refuse an old log, a log being refilled, and a missing
// log while a holding stream exists, so nothing else writes meanwhile.
//
//   types.ts             the options, the report, the holding stream's records of the old log
//   errors.ts            LogMigrationError and isMigrationRefused
//   inspect.ts           where a migration stands (MigrationStage, inspectMigration)
//   writers.ts           controllers and agents still running, and the refusal while they do
//   copy.ts              1. copyToHolding
//   swap.ts              2. swapLog, and the new log's settings while refilled and after
//   refill.ts            3. refillLog
//   verify.ts            verifyRefilled
//   finish.ts            4. finishMigration (and deleteSnapshots)
//   migrate.ts           migrateLog: the steps from where a run finds things, or a dry run
//   ordered-pipeline.ts  publishing in order with many in flight, each at its sequence
//   ordered-reader.ts    reading a stream in order to its end
//   header-pairs.ts      headers as name/value pairs and back
//   stream-lookups.ts    stream info and last messages where missing is an answer
//   progress.ts          progress lines at a bounded rate

export type { HeldMeta, MigrationOptions, MigrationOutcome, MigrationReport } from './types.js';
export { isMigrationRefused, LogMigrationError } from './errors.js';
export type { MigrationStage } from './inspect.js';
export { inspectMigration } from './inspect.js';
export { liveAgents, liveControllers } from './writers.js';
export { copyToHolding } from './copy.js';
export { swapLog } from './swap.js';
export type { RefillOptions } from './refill.js';
export { refillLog } from './refill.js';
export { verifyRefilled } from './verify.js';
export { deleteSnapshots, finishMigration } from './finish.js';
export { migrateLog } from './migrate.js';
