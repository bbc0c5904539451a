// The agent's report publisher against a real server that goes away and comes back: nothing is
// lost, nothing is duplicated, and the order is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { OrderedPublisher } from '../../libs/nats/ordered-publisher.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { podReportSubject } from '../../libs/topology/names.js';
import { readLog } from '../support/log.js';
import { startNats, type TestNats } from '../support/nats-server.js';

describe('ordered publisher (real nats-server restarted mid-stream)', () => {
  let nats: TestNats;
  let nc: NatsConnection;

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    await ensureTopology(nc);
  });

  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('keeps order and loses nothing across a server restart', { skip: process.env['NATS_URL'] ? 'needs a restartable throwaway server, and NATS_URL is set' : false }, async () => {
    const pub = new OrderedPublisher({ js: jetstream(nc, { timeout: 1000 }), log: pino({ level: 'silent' }), idPrefix: 'test', initialBackoffMs: 20, maxBackoffMs: 200 });
    const ready = (i: number) => ({ type: 'PodNotReady' as const, v: 1 as const, data: { node: 'n1', namespace: 'default', podName: `p${i}`, podUid: `u${i}`, reason: String(i) } });
    const first = Array.from({ length: 20 }, (_, i) => pub.publish(podReportSubject(0, 'n1'), ready(i)));
    await Promise.all(first);
    const restarting = nats.restart!();
    const during = Array.from({ length: 20 }, (_, i) => pub.publish(podReportSubject(0, 'n1'), ready(20 + i)));
    await restarting;
    await Promise.all(during);
    await pub.flush();
    const reasons = (await readLog(nats.url)).flatMap((e) => (e.event.type === 'PodNotReady' ? [Number(e.event.data.reason)] : []));
    assert.deepEqual(reasons, Array.from({ length: 40 }, (_, i) => i), 'every report, once, in order');
  });
});
