// Credentials files: one nkey seed per identity, in the `.creds` layout the NATS tools use.
// A file from `nsc` (a user JWT and its seed, for servers in operator mode) works as well.
// Nothing here ever puts a seed or a JWT into an error message or a log line.

import { readFileSync } from 'node:fs';
import { jwtAuthenticator, nkeyAuthenticator, nkeys, type Authenticator } from '@nats-io/transport-node';

export interface UserKey {
  /** The secret seed (`SU...`): whoever holds it can act as this user. */
  readonly seed: string;
  /** The public key (`U...`) the server config names. */
  readonly publicKey: string;
}

export function createUserKey(): UserKey {
  const kp = nkeys.createUser();
  return { seed: new TextDecoder().decode(kp.getSeed()), publicKey: kp.getPublicKey() };
}

/** The text of a `.creds` file holding `key`'s seed, with a header saying whose it is. */
export function formatCreds(key: UserKey, description: string): string {
  return [
    `# daemonset-js credentials: ${description.replace(/[\r\n]/g, ' ')}`,
    `# public key ${key.publicKey}`,
    '# Keep this file secret: whoever holds it can act as this identity on the bus.',
    '',
    '-----BEGIN USER NKEY SEED-----',
    key.seed,
    '------END USER NKEY SEED------',
    '',
  ].join('\n');
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

const SEED_BLOCK = /-{3,}\s*BEGIN USER NKEY SEED\s*-{3,}\s*\n\s*(S[A-Z2-7]+)\s*\n/;
const JWT_BEGIN = /-{3,}\s*BEGIN NATS USER JWT\s*-{3,}/;
const JWT_BLOCK = /-{3,}\s*BEGIN NATS USER JWT\s*-{3,}\s*\n\s*([\w-]+\.[\w-]+\.[\w-]*)\s*\n\s*-{3,}\s*END NATS USER JWT\s*-{3,}/;

/** What gives away a secret where a path was expected (see `looksLikeSecret`). */
const SECRET_SHAPES: readonly RegExp[] = [
  /^\s*S[A-Z2-7]{40,}\s*$/, // a seed on its own, even cut short
  /S[A-Z][A-Z2-7]{50,}/, // a whole seed inside something else (`NATS_CREDS=SU…`, a pasted line)
  /^\s*eyJ[\w-]+\.[\w-]+\./, // a JWT on its own
  /eyJ[\w-]{10,}\.[\w-]{10,}\./, // a JWT inside something else
  /^\s*-{3,}\s*BEGIN /, // a block's first line
  /-{3,}\s*BEGIN [A-Z ]+-{3,}/, // a `.creds` (or PEM) text, also after its `#` comment lines
];

/**
 * Whether a value given where the path of a `.creds` file belongs is itself a secret, so that no
 * message may quote it: an nkey seed (`SU…`, or any `S` + type + base32), a JWT (`eyJ…`), or the
 * pasted text of a `.creds` file. The one rule for the services and dsctl.
 */
export function looksLikeSecret(value: string): boolean {
  return SECRET_SHAPES.some((shape) => shape.test(value));
}

/** The seed in a `.creds` text (seed-only or JWT + seed); throws without quoting the text. */
export function seedOf(text: string, source: string): string {
  const m = SEED_BLOCK.exec(text);
  if (!m) throw new CredentialsError(`${source}: not a credentials file (no USER NKEY SEED block)`);
  const seed = m[1]!;
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed));
  } catch {
    throw new CredentialsError(`${source}: the USER NKEY SEED block does not hold a valid seed`);
  }
  return seed;
}

/**
 * The user JWT in a `.creds` text from `nsc`, read from its own NATS USER JWT block wherever that
 * block stands; undefined for a seed-only file. Throws, without quoting the text, when the block
 * is there but holds no JWT whose claims can be read.
 */
export function jwtOf(text: string, source: string): string | undefined {
  if (!JWT_BEGIN.test(text)) return undefined;
  const m = JWT_BLOCK.exec(text);
  if (!m || subjectOf(m[1]!) === undefined) throw new CredentialsError(`${source}: the NATS USER JWT block does not hold a JWT`);
  return m[1]!;
}

/** The `sub` claim of a JWT (a user JWT's is the user's public nkey), if its claims are JSON. */
function subjectOf(jwt: string): string | undefined {
  try {
    const claims: unknown = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    if (typeof claims !== 'object' || claims === null || !('sub' in claims)) return undefined;
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

/** The public key of the seed in a `.creds` text. */
export function publicKeyOf(text: string, source: string): string {
  return nkeys.fromSeed(new TextEncoder().encode(seedOf(text, source))).getPublicKey();
}

/**
 * An authenticator for a `.creds` text: the JWT and the seed are each taken from their named
 * block, and must belong to one user. (nats.js's `credsAuthenticator` takes the first block as
 * the JWT and the second as the seed, so a file with the seed first would send the seed to the
 * server as the JWT.)
 */
export function authenticatorFromCreds(text: string, source: string): Authenticator {
  const seed = new TextEncoder().encode(seedOf(text, source));
  const jwt = jwtOf(text, source);
  if (jwt === undefined) return nkeyAuthenticator(seed);
  // A JWT names its user by public key; with another user's seed no server would accept the
  // pair, and a server without operator mode would ignore the JWT and admit the seed alone.
  if (subjectOf(jwt) !== nkeys.fromSeed(seed).getPublicKey()) {
    throw new CredentialsError(`${source}: the NATS USER JWT block and the USER NKEY SEED block are of different users`);
  }
  return jwtAuthenticator(jwt, seed);
}

/** An authenticator for the `.creds` file at `path` (read now, so a bad file fails at start). */
export function authenticatorFromCredsFile(path: string): Authenticator {
  if (looksLikeSecret(path)) {
    // Every message below quotes the path, and it would end up in each service's fatal log.
    throw new CredentialsError(
      "cannot read credentials file: the value given looks like a seed, a JWT or a credentials file's text, not a path (not shown)",
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CredentialsError(`cannot read credentials file ${path}${code ? ` (${code})` : ''}`);
  }
  return authenticatorFromCreds(text, path);
}
