// The migration's refusals: a LogMigrationError says what was found and what to do; a write the bus
// refuses (the credentials in use may not) is told apart by isMigrationRefused.

import { permissionRefusal } from '../../auth/permission-refusal.js';

/** A migration that cannot go on: what was found and what to do. Nothing was lost. */
export class LogMigrationError extends Error {
  override readonly name = 'LogMigrationError';
}

/** Whether `err` is the bus refusing one of the migration's writes (the credentials in use may not). */
export function isMigrationRefused(err: unknown): boolean {
  return permissionRefusal(err) !== undefined;
}
