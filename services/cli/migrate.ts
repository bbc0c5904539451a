// dsctl migrate-log: carries a log in the layout before per-slot subjects over to the current one
// (libs/nats/log-migration/). Progress on stderr, the outcome on stdout.

import type { Command } from 'commander';
import { isMigrationRefused, LogMigrationError, migrateLog } from '../../libs/nats/log-migration/mod.js';
import { LOG_STREAM } from '../../libs/topology/names.js';
import { MIGRATION_STREAM } from '../../libs/topology/legacy-layout.js';
import { withBus } from './context.js';
import { CliError } from './errors.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate-log')
    .description(
      `Carry a log written in the layout before per-slot subjects (ev.>, cmd.>) over to the current one (s.>, g.>): every event keeps its sequence, time, payload and ids. Stop the controllers, agents, fleet and apiserver first; an interrupted run is finished by running it again`,
    )
    .option('--dry-run', 'say what would be done, change nothing', false)
    .option('--force', 'go on although controllers are registered as live or agents were heard from lately', false)
    .action(async (flags: { dryRun: boolean; force: boolean }) => {
      const report = await withBus(program, async (nc) => {
        try {
          return await migrateLog(nc, { dryRun: flags.dryRun, force: flags.force, progress: (line) => process.stderr.write(`${line}\n`) });
        } catch (err) {
          if (err instanceof LogMigrationError) throw new CliError(`error: ${err.message}`);
          if (isMigrationRefused(err)) {
            throw new CliError(
              `error: the bus refused a step of the migration (${err instanceof Error ? err.message : String(err)}): it deletes and re-creates ${LOG_STREAM} through a holding stream ${MIGRATION_STREAM}, ` +
                "which no role of `dsctl auth` may do (history writes are the server operator's): run it as a user with full JetStream access; run it again to go on from where it stopped",
            );
          }
          throw err;
        }
      });
      for (const line of report.lines) process.stdout.write(`${line}\n`);
    });
}
