// Errors the CLI prints for a person: a message to act on, and the exit code.

import type { PermissionRefusal } from '../../libs/auth/permission-refusal.js';

export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/**
 * An apply that wrote some documents and not others. The message says what happened to each, in
 * file order (`daemonset.apps/a created`, `daemonset.apps/b: not applied`, `daemonset.apps/c: not
 * applied (an earlier document failed)`), then the errors; the fields keep them apart, for a
 * caller that prints the applied lines on stdout as kubectl does.
 */
export class ApplyIncompleteError extends CliError {
  override readonly name = 'ApplyIncompleteError';
  /** The lines of the documents that landed or were unchanged (kubectl prints them on stdout). */
  readonly applied: readonly string[];
  readonly notes: readonly string[];
  readonly outcomes: readonly string[];
  readonly failures: readonly string[];
  constructor(report: { readonly applied: readonly string[]; readonly notes: readonly string[]; readonly outcomes: readonly string[]; readonly failures: readonly string[] }) {
    super([...report.notes, ...report.outcomes, ...report.failures].join('\n'));
    this.applied = report.applied;
    this.notes = report.notes;
    this.outcomes = report.outcomes;
    this.failures = report.failures;
  }
}

export function notFound(resource: string, name: string): CliError {
  return new CliError(`Error from server (NotFound): ${resource} "${name}" not found`);
}

/** JetStream API calls that only read (a reader's own consumer and its pulls count as reads). */
const READ_APIS = /^\$JS\.API\.(INFO$|STREAM\.(INFO|NAMES|LIST|MSG\.GET)\b|DIRECT\.GET\b|CONSUMER\.(CREATE|DURABLE\.CREATE|MSG\.NEXT|INFO|NAMES|LIST)\b)/;

/**
 * A refusal by the bus's permissions as dsctl prints it, like kubectl's Forbidden: what was
 * refused (a read or a write, and its subject), and which credentials may do it. A refused reply
 * subscription (`_INBOX.…`) is a read the credentials cannot receive the answer to: the case of a
 * node agent's credentials, whose replies may only arrive under that node's own prefix.
 */
export function busRefusal(refusal: PermissionRefusal): CliError {
  const inbox = refusal.operation === 'subscription' && refusal.subject.startsWith('_INBOX.');
  const read = refusal.operation === 'subscription' || READ_APIS.test(refusal.subject);
  const what = inbox ? 'replies on _INBOX.>' : refusal.subject;
  const why = inbox ? " (a node agent's may read only its own commands)" : '';
  const who = read ? "a viewer's or an admin's credentials may" : "an admin's credentials may";
  return new CliError(`Error from server (Forbidden): the bus refused this ${read ? 'read' : 'write'} (${what}): the credentials in use may not do it${why}; ${who} (dsctl auth list)`);
}
