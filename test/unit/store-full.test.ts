// storeRefusal and StoreFullError: which limit refused a write (by JetStream API code), and a
// message that says what is full and what to do. The server-wide case against a real server is
// in test/integration/store-full.test.ts; the account and stream cases were measured on 2.9.10
// (10002 "resource limits exceeded for account", 10077 "maximum bytes exceeded").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { formatBytes, storeRefusal, StoreFullError } from '../../libs/nats/store-full.js';

const apiError = (status: number, errCode: number, description: string): JetStreamApiError => new JetStreamApiError({ code: status, err_code: errCode, description });

describe('storeRefusal', () => {
  const cases: readonly [string, JetStreamApiError, string | undefined][] = [
    ['insufficient resources (10023): the server', apiError(503, 10023, 'insufficient resources'), 'server'],
    ['insufficient storage resources available (10047): the server', apiError(500, 10047, 'insufficient storage resources available'), 'server'],
    ['resource limits exceeded for account (10002): the account', apiError(400, 10002, 'resource limits exceeded for account'), 'account'],
    ['maximum bytes exceeded (10077): the stream', apiError(503, 10077, 'maximum bytes exceeded'), 'stream'],
    ['maximum messages exceeded (10077): the stream', apiError(503, 10077, 'maximum messages exceeded'), 'stream'],
    ['another store failure (10077): not about space', apiError(503, 10077, 'some other store error'), undefined],
    ['wrong last sequence (10071): not about space', apiError(400, 10071, 'wrong last sequence: 3'), undefined],
  ];
  for (const [name, err, limit] of cases) {
    it(name, () => assert.equal(storeRefusal(err)?.limit, limit));
  }
  it('an error that is not a JetStream API error', () => assert.equal(storeRefusal(new Error('insufficient resources')), undefined));
});

describe('StoreFullError', () => {
  it('the account limit: how much of it is used, and to raise it', () => {
    const cause = apiError(400, 10002, 'resource limits exceeded for account');
    const err = new StoreFullError('g.node.n1', storeRefusal(cause)!, { accountBytes: 1_021_190, accountLimitBytes: 1_048_576, stream: { name: 'DS_LOG', bytes: 900_000, messages: 30, maxBytes: -1, maxMsgs: -1 } }, cause);
    assert.equal(
      err.message,
      "JetStream refused to store a message on g.node.n1 (stream DS_LOG): resource limits exceeded for account (10002): the account's JetStream storage is full: it uses 997 KiB of its limit of 1 MiB. To go on: raise the account's JetStream limit (max_file in the account's jetstream block of the server configuration), or free space in the account's streams",
    );
  });

  it("a stream's own limit: which, and to raise or purge it", () => {
    const cause = apiError(503, 10077, 'maximum bytes exceeded');
    const err = new StoreFullError('lim.x', storeRefusal(cause)!, { stream: { name: 'LIM', bytes: 90_234, messages: 3, maxBytes: 100_000, maxMsgs: -1 } }, cause);
    assert.equal(
      err.message,
      'JetStream refused to store a message on lim.x (stream LIM): maximum bytes exceeded (10077): stream LIM is at its own limit (max_bytes 97.7 KiB): it holds 88.1 KiB in 3 messages. To go on: raise the stream\'s own limit (max_bytes / max_msgs), or purge what it no longer needs',
    );
  });

  it('without figures (they could not be read) it still says what to do', () => {
    const cause = apiError(503, 10023, 'insufficient resources');
    const err = new StoreFullError('ev.x', storeRefusal(cause)!, {}, cause);
    assert.match(err.message, /^JetStream refused to store a message on ev\.x: insufficient resources \(10023\): the server's JetStream store is full\. To go on: free space on the server/);
    assert.equal(err.cause, cause);
  });

  it('formatBytes', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 1_048_576, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1 KiB', '1.5 KiB', '1 MiB', '5 GiB']);
  });
});
