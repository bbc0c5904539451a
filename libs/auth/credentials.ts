// Credentials files: one nkey seed per identity, in the `.creds` layout the NATS tools use.
// A file from `nsc` (a user JWT and its seed, for servers in operator mode) works as well.
// Nothing here ever puts a seed into an error message or a log line.

import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, nkeys, type Authenticator } from '@nats-io/transport-node';

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
const JWT_BLOCK = /BEGIN NATS USER JWT/;

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

/** The public key of the seed in a `.creds` text. */
export function publicKeyOf(text: string, source: string): string {
  return nkeys.fromSeed(new TextEncoder().encode(seedOf(text, source))).getPublicKey();
}

/** An authenticator for the `.creds` file at `path` (read now, so a bad file fails at start). */
export function authenticatorFromCredsFile(path: string): Authenticator {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CredentialsError(`cannot read credentials file ${path}${code ? ` (${code})` : ''}`);
  }
  const seed = seedOf(text, path);
  if (JWT_BLOCK.test(text)) return credsAuthenticator(new TextEncoder().encode(text));
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}
