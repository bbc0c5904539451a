// Errors the CLI prints for a person: a message to act on, and the exit code.

import type { PermissionRefusal } from '../../libs/auth/permission-refusal.js';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
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
