// Recognising a refusal by the bus's permissions (auth.conf) in whatever error carries it.
//
// How @nats-io v3 reports one (test/integration/auth-permissions.test.ts): a request to a subject
// the credentials may not publish to rejects with a RequestError whose cause is the
// PermissionViolationError parsed from the server's `-ERR`; a request whose reply subscription
// (`_INBOX.…`) the credentials may not make rejects the same way, with operation 'subscription'.

import { PermissionViolationError } from '@nats-io/transport-node';

export interface PermissionRefusal {
  readonly operation: 'publish' | 'subscription';
  /** The subject refused, as the server named it. */
  readonly subject: string;
}

const REFUSAL_TEXT = /Permissions Violation for (Publish|Subscription) to "([^"]*)"/;
/** How deep to follow `cause`: a chain longer than this is not one of the client's. */
const MAX_CAUSES = 8;

/** The permission refusal in `err` or its causes; undefined when it is something else. */
export function permissionRefusal(err: unknown): PermissionRefusal | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < MAX_CAUSES && e instanceof Error; depth++) {
    if (e instanceof PermissionViolationError) return { operation: e.operation, subject: e.subject };
    const m = REFUSAL_TEXT.exec(e.message);
    if (m) return { operation: m[1] === 'Publish' ? 'publish' : 'subscription', subject: m[2]! };
    e = e.cause;
  }
  return undefined;
}
