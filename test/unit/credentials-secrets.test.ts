// Issue #8: no credential in logs or errors. A seed, a JWT or a `.creds` text given where a path
// belongs is never quoted, and a `.creds` file's JWT and seed are taken from their named blocks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nkeys } from '@nats-io/transport-node';
import {
  authenticatorFromCreds,
  authenticatorFromCredsFile,
  createUserKey,
  CredentialsError,
  formatCreds,
  jwtOf,
  looksLikeSecret,
} from '../../libs/auth/credentials.js';

const key = createUserKey();
/** A user JWT's three parts; the signature is not checked here (the server checks it). */
function userJwt(subject: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'ed25519-nkey' })}.${part({ sub: subject, nats: { type: 'user' } })}.c2lnbmF0dXJlLW9mLXRoZS1hY2NvdW50`;
}
const JWT = userJwt(key.publicKey);
const jwtBlock = (jwt: string): string => `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n`;
const JWT_BLOCK = jwtBlock(JWT);
const SEED_BLOCK = `-----BEGIN USER NKEY SEED-----\n${key.seed}\n------END USER NKEY SEED------\n`;
const NOT_SHOWN = "cannot read credentials file: the value given looks like a seed, a JWT or a credentials file's text, not a path (not shown)";

describe('looksLikeSecret', () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['a seed (NATS_CREDS=<seed>)', key.seed, true],
    ['a seed with a trailing newline', `${key.seed}\n`, true],
    ['a seed cut short', key.seed.slice(0, 45), true],
    ['a seed after a variable name', `NATS_CREDS=${key.seed}`, true],
    ['a JWT', JWT, true],
    ['a JWT after a variable name', `jwt=${JWT}`, true],
    ["a seed-only .creds file's text (it starts with # comments)", formatCreds(key, 'admin'), true],
    ['an nsc .creds text', `${JWT_BLOCK}\n${SEED_BLOCK}`, true],
    ["a block's first line alone", '-----BEGIN USER NKEY SEED', true],
    ['an absolute path', '/d/auth/admin.creds', false],
    ['a relative path', './auth/nodes/node-1.creds', false],
    ['a path with capitals', '/home/SUSAN/NATS/ADMIN.creds', false],
    ['a Windows path', 'C:\\Users\\ops\\admin.creds', false],
    ['a path with eyJ in it', '/tmp/eyJ.creds', false],
  ];
  for (const [what, value, secret] of cases) {
    it(`${what}: ${secret ? 'a secret' : 'a path'}`, () => assert.equal(looksLikeSecret(value), secret));
  }
});

describe('authenticatorFromCredsFile never quotes a secret given as the path', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['the seed itself', key.seed],
    ['a JWT', JWT],
    ["a .creds file's text", formatCreds(key, 'admin')],
  ];
  for (const [what, value] of cases) {
    it(what, () => {
      assert.throws(
        () => authenticatorFromCredsFile(value),
        (err: unknown) => err instanceof CredentialsError && err.message === NOT_SHOWN && !err.message.includes(value.trim().slice(0, 16)),
      );
    });
  }

  it('an ordinary path that is not there is still named, with the error code', () => {
    assert.throws(() => authenticatorFromCredsFile('/nonexistent-daemonset-js/admin.creds'), {
      name: 'CredentialsError',
      message: 'cannot read credentials file /nonexistent-daemonset-js/admin.creds (ENOENT)',
    });
  });
});

describe('authenticatorFromCreds takes the JWT and the seed from their named blocks', () => {
  const nonce = 'p5bz3cLmJ2sTn1qE';

  /** The signature must be the seed's over the nonce. */
  function assertSignedBySeed(sig: string | undefined): void {
    assert.ok(sig !== undefined && sig !== '', 'there is a signature');
    assert.ok(nkeys.fromPublic(key.publicKey).verify(new TextEncoder().encode(nonce), nkeys.decode(sig)), 'the nonce is signed with the seed');
  }

  const orders: ReadonlyArray<readonly [string, string]> = [
    ['JWT block, then seed block (as nsc writes it)', `# nsc\n${JWT_BLOCK}\n# seed\n${SEED_BLOCK}`],
    ['seed block, then JWT block', `${SEED_BLOCK}\n${JWT_BLOCK}`],
    ['seed block, then JWT block, CRLF line ends', `${SEED_BLOCK}\n${JWT_BLOCK}`.replace(/\n/g, '\r\n')],
  ];
  for (const [what, text] of orders) {
    it(`${what}: sends the JWT as the JWT and signs with the seed`, () => {
      const auth = authenticatorFromCreds(text, 'user.creds')(nonce);
      assert.ok(auth !== undefined && 'jwt' in auth && 'sig' in auth);
      assert.equal(auth.jwt, JWT);
      assert.notEqual(auth.jwt, key.seed);
      assert.equal(auth.nkey, key.publicKey);
      assertSignedBySeed(auth.sig);
    });
  }

  it('a seed-only file authenticates with the nkey alone, and no JWT', () => {
    const auth = authenticatorFromCreds(formatCreds(key, 'admin'), 'admin.creds')(nonce);
    assert.ok(auth !== undefined && 'nkey' in auth && 'sig' in auth);
    assert.equal('jwt' in auth, false);
    assert.equal(auth.nkey, key.publicKey);
    assertSignedBySeed(auth.sig);
  });

  it('jwtOf reads the JWT block wherever it stands, and a seed-only text has none', () => {
    assert.equal(jwtOf(`${SEED_BLOCK}${JWT_BLOCK}`, 'user.creds'), JWT);
    assert.equal(jwtOf(SEED_BLOCK, 'seed.creds'), undefined);
  });

  const refused: ReadonlyArray<readonly [string, string, string]> = [
    ['a JWT block holding a seed', `${SEED_BLOCK}\n${jwtBlock(key.seed)}`, 'bad.creds: the NATS USER JWT block does not hold a JWT'],
    [
      'a JWT block whose claims are not JSON',
      `${SEED_BLOCK}\n${jwtBlock('eyJ0eXAiOiJKV1QifQ.bm90LWpzb24.c2ln')}`,
      'bad.creds: the NATS USER JWT block does not hold a JWT',
    ],
    [
      "another user's JWT (a server without operator mode would ignore it and admit the seed)",
      `${SEED_BLOCK}\n${jwtBlock(userJwt(createUserKey().publicKey))}`,
      'bad.creds: the NATS USER JWT block and the USER NKEY SEED block are of different users',
    ],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what}, quoting neither block`, () => {
      assert.throws(() => authenticatorFromCreds(text, 'bad.creds'), { name: 'CredentialsError', message });
    });
  }
});
