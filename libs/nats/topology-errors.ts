// The topology's own failures, apart from topology.ts so that the bus-error classifier can name
// them without importing what creates the topology.

import { LOG_STREAM } from '../topology/names.js';
import { MIGRATION_STREAM } from '../topology/legacy-layout.js';

/** The topology cannot be used: a server too old, a setting that is not valid. Waiting does not mend it. */
export class TopologyError extends Error {
  override readonly name: string = 'TopologyError';
}

/** No topology yet: only a controller creates it (see waitForTopology). Waiting mends it. */
export class TopologyMissingError extends Error {
  override readonly name: string = 'TopologyMissingError';
  constructor(message = 'no topology yet: waiting for a controller to create the streams and buckets') {
    super(message);
  }
}

/** The command that carries a log in the old layout over to the current one. */
export const MIGRATE_LOG_COMMAND = 'dsctl migrate-log';

/**
 * DS_LOG is in the layout before per-slot subjects (`ev.>`, `cmd.>`): nothing of this build can
 * read or write it until it is migrated. Waiting does not mend it (a TopologyError).
 */
export class LegacyLogLayoutError extends TopologyError {
  override readonly name: string = 'LegacyLogLayoutError';
  constructor(readonly subjects: readonly string[]) {
    super(
      `the log ${LOG_STREAM} is in the layout before per-slot subjects (${subjects.join(', ')}): ` +
        `stop the controllers and run \`${MIGRATE_LOG_COMMAND}\` to carry it over (every event keeps its sequence, time and ids; \`${MIGRATE_LOG_COMMAND} --dry-run\` shows what it would do)`,
    );
  }
}

/**
 * `dsctl migrate-log` is carrying the log over (or was interrupted): the log is not whole yet.
 * Waiting mends it (the migration finishes, or is re-run and finishes), so it is a kind of
 * TopologyMissingError: a service waits for it, dsctl reports it.
 */
export class LogMigrationInProgressError extends TopologyMissingError {
  override readonly name: string = 'LogMigrationInProgressError';
  constructor(what: string) {
    super(
      `the log ${LOG_STREAM} is being migrated to the current layout (${what}; holding stream ${MIGRATION_STREAM}): ` +
        `wait for \`${MIGRATE_LOG_COMMAND}\` to finish, or run it again if it was interrupted`,
    );
  }
}
