// patientRequests against a real nats-server: a JetStream API request (or a publish with a
// Nats-Msg-Id) that meets nobody yet is sent again until someone answers; anything else fails
// at once as before; the deadline holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { mayRepeat, patientRequests, temporarilyUnavailable, transient } from '../../libs/nats/patient-requests.js';
import { startNats, type TestNats } from '../support/nats-server.js';

describe('patientRequests (real nats-server)', () => {
  let nats: TestNats;
  let responder: NatsConnection;
  let client: NatsConnection;
  const retries: string[] = [];
  /** Subjects nobody answers at first, with the reply a responder gives once the client has retried. */
  const answerAfterRetry = new Map<string, string>();

  before(async () => {
    nats = await startNats({ jetstream: false });
    responder = await connect({ servers: nats.url });
    client = patientRequests(await connect({ servers: nats.url }), {
      attemptMs: 300,
      deadlineMs: 3_000,
      onRetry: (subject, attempt) => {
        retries.push(`${subject}#${attempt}`);
        const reply = answerAfterRetry.get(subject);
        if (reply === undefined) return;
        // The first try found no responder; one subscribes now, before the next try (100 ms on).
        answerAfterRetry.delete(subject);
        responder.subscribe(subject, { max: 1, callback: (_err, msg) => void msg.respond(reply) });
        void responder.flush();
      },
    });
  });

  after(async () => {
    await client?.close();
    await responder?.close();
    await nats?.stop();
  });

  /** Answers `subject` once, with `reply`, once the client has retried it at least once. */
  const answerLater = (subject: string, reply: string): void => {
    answerAfterRetry.set(subject, reply);
  };

  it('a $JS.API request with no responder yet is retried until one answers', async () => {
    const subject = '$JS.API.STREAM.INFO.PATIENCE_A';
    answerLater(subject, '{"ok":true}');
    const reply = await client.request(subject, '', { timeout: 5_000 });
    assert.equal(reply.string(), '{"ok":true}');
    assert.ok(retries.filter((r) => r.startsWith(`${subject}#`)).length >= 1);
  });

  it('a publish with a Nats-Msg-Id is retried too', async () => {
    const subject = 'ev.patience.b';
    answerLater(subject, 'stored');
    const h = headers();
    h.set('Nats-Msg-Id', 'b-1');
    const reply = await client.request(subject, 'x', { timeout: 5_000, headers: h });
    assert.equal(reply.string(), 'stored');
  });

  it('a publish without an id is sent once: no responders fails at once', async () => {
    const before = retries.length;
    await assert.rejects(client.request('ev.patience.c', 'x', { timeout: 5_000 }), (err: Error) => /no responders/i.test(`${err.message} ${String(err.cause)}`));
    assert.equal(retries.length, before, 'no retry');
  });

  it('gives up at the deadline with the last error', async () => {
    const started = Date.now();
    await assert.rejects(client.request('$JS.API.STREAM.INFO.NOBODY', '', { timeout: 5_000 }), (err: Error) => transient(err));
    const took = Date.now() - started;
    assert.ok(took >= 2_000 && took < 6_000, `gave up after ${took} ms (deadline 3000 ms)`);
  });

  it('a 503 "temporarily unavailable" answer is retried; any other error answer is returned as it is', async () => {
    const subject = '$JS.API.STREAM.INFO.PATIENCE_D';
    let n = 0;
    const sub = responder.subscribe(subject, {
      max: 2,
      callback: (_err, msg) => void msg.respond(++n === 1 ? '{"error":{"code":503,"description":"JetStream system temporarily unavailable"}}' : '{"ok":2}'),
    });
    await responder.flush();
    assert.equal((await client.request(subject, '', { timeout: 5_000 })).string(), '{"ok":2}');
    await sub.closed;
    const notFound = '$JS.API.STREAM.INFO.PATIENCE_E';
    responder.subscribe(notFound, { max: 1, callback: (_err, msg) => void msg.respond('{"error":{"code":404,"err_code":10059,"description":"stream not found"}}') });
    await responder.flush();
    assert.match((await client.request(notFound, '', { timeout: 5_000 })).string(), /stream not found/);
  });
});

describe('what may be repeated (table)', () => {
  const withId = headers();
  withId.set('Nats-Msg-Id', 'x');
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ['stream info', '$JS.API.STREAM.INFO.DS_LOG', true],
    ['direct get', '$JS.API.DIRECT.GET.DS_LOG', true],
    ['consumer create (named)', '$JS.API.CONSUMER.CREATE.DS_LOG.rd_x', true],
    ['a pull (its replies come to a subscription, not to request)', '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.rd_x', false],
    ['a publish without an id', 's.1.ds.default.x', false],
  ];
  for (const [what, subject, expected] of cases) {
    it(`${what}: ${expected ? 'repeated' : 'sent once'}`, () => assert.equal(mayRepeat(subject, undefined), expected));
  }
  it('a publish with a Nats-Msg-Id: repeated', () => assert.equal(mayRepeat('s.1.ds.default.x', { timeout: 1, headers: withId }), true));
  it('transient: timeouts and no responders, also as a cause; not a permission error', () => {
    assert.deepEqual(
      [new Error('timeout'), Object.assign(new Error('x', { cause: Object.assign(new Error('no responders: a'), { name: 'NoRespondersError' }) })), new Error('Permissions Violation for Publish to "x"')].map(transient),
      [true, true, false],
    );
  });
  it('temporarilyUnavailable reads only JetStream API answers', () => {
    const reply = (text: string) => ({ data: new TextEncoder().encode(text) }) as Parameters<typeof temporarilyUnavailable>[1];
    assert.deepEqual(
      [
        temporarilyUnavailable('$JS.API.STREAM.INFO.X', reply('{"error":{"code":503}}')),
        temporarilyUnavailable('$JS.API.STREAM.INFO.X', reply('{"error":{"code":404}}')),
        temporarilyUnavailable('ev.x', reply('{"error":{"code":503}}')),
        temporarilyUnavailable('$JS.API.STREAM.INFO.X', reply('not json')),
      ],
      [true, false, false, false],
    );
  });
});
