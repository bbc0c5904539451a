// What a migration is asked (MigrationOptions), what it reports, and the holding stream's records of
// the old log (its first message, HeldMeta, and its last, HeldDone).

import type { StreamConfig } from '@nats-io/jetstream';

export interface MigrationOptions {
  /** Report what would be done; change nothing. */
  readonly dryRun?: boolean;
  /** Go on although controllers are registered as live. */
  readonly force?: boolean;
  /** Progress lines (at a bounded rate) for a person watching a long migration. */
  readonly progress?: (line: string) => void;
  /** Publishes in flight at once (default 1024). */
  readonly inFlight?: number;
  /** Ms between progress lines while copying (default 2000). */
  readonly progressEveryMs?: number;
}

export type MigrationOutcome = 'migrated' | 'nothing-to-do' | 'dry-run';

export interface MigrationReport {
  readonly outcome: MigrationOutcome;
  /** What was done (or would be), for a person. */
  readonly lines: readonly string[];
}

/** The old log as the first message of the holding stream records it. */
export interface HeldMeta {
  readonly v: 1;
  readonly config: StreamConfig;
  readonly created: string;
  readonly state: { readonly messages: number; readonly firstSeq: number; readonly lastSeq: number };
}

export interface HeldDone {
  readonly messages: number;
}
