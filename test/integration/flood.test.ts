// What a flood of garbage on the log costs (issue 19, finding 7), against a real nats-server and
// the controller in this process: every garbage message is folded past and counted, but only a
// burst and then a steady rate of them are copied to DS_DLQ, and the dead letters of another class
// written before the flood are still there after it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { encodeEvent } from '../../libs/codec/codec.js';
import { DEFAULT_COPY_BUDGET } from '../../libs/nats/dead-letter.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { DEAD_LETTER_STREAM, deadLetterSubject, nodeAdminSubject, nodeSubject } from '../../libs/topology/names.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';

const FLOOD = 3000;

describe('a flood of garbage on the log (real nats-server, controller in process)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let controller: ControllerHandle;

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'flood-it', SLOTS: '4' }), pino({ level: 'silent' }));
    await publishEvent(js, { subject: nodeSubject('n1'), event: { ...EVENT_SAMPLES.NodeRegistered, data: { ...EVENT_SAMPLES.NodeRegistered.data, node: 'n1' } } });
  });

  after(async () => {
    await controller?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it(`${FLOOD} garbage messages: all folded past, copies bounded by the budget, an earlier dead letter of another class kept`, async () => {
    // One forged message first: NodeReady for n2 on n1's subject (class wrong-author).
    const forged = await js.publish(nodeSubject('n1'), encodeEvent({ type: 'NodeRegistered', v: 1, data: { ...EVENT_SAMPLES.NodeRegistered.data, node: 'n2' } }));
    const wrongAuthor = deadLetterSubject('controller', 'wrong-author');
    const jsm = await jetstreamManager(nc);
    await eventually(async () => assert.ok(await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: wrongAuthor })), { message: 'the forged message set aside' });

    const started = Date.now();
    const garbage = new Uint8Array([0xc1, 0xc1, 0xc1]); // 0xc1 is never valid MessagePack
    const acks = [];
    for (let i = 0; i < FLOOD; i++) acks.push(js.publish(nodeSubject(`flood-${i % 50}`), garbage));
    const last = (await Promise.all(acks)).reduce((m, a) => Math.max(m, a.seq), 0);
    await eventually(() => assert.ok(controller.state.seq >= last, `folded to ${controller.state.seq} of ${last}`), { timeoutMs: 30_000 });
    const seconds = (Date.now() - started) / 1000;

    const copies = (await jsm.streams.info(DEAD_LETTER_STREAM, { subjects_filter: '>' })).state.subjects ?? {};
    const notMsgpack = copies[deadLetterSubject('controller', 'not-msgpack')] ?? 0;
    const bound = DEFAULT_COPY_BUDGET.burst + Math.ceil(seconds * DEFAULT_COPY_BUDGET.perSecond) + 1;
    assert.ok(notMsgpack >= DEFAULT_COPY_BUDGET.burst, `a burst is copied (${notMsgpack})`);
    assert.ok(notMsgpack <= bound, `${notMsgpack} copies of ${FLOOD} garbage messages in ${seconds.toFixed(1)} s (bound ${bound})`);
    const kept = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { last_by_subj: wrongAuthor });
    assert.ok(kept, 'the earlier dead letter of another class is still there');
    assert.ok(forged.seq < last);

    // Still live: a label change on a real node is folded.
    await publishEvent(js, { subject: nodeAdminSubject('n1'), event: { type: 'NodeLabelsSet', v: 1, data: { node: 'n1', source: 'admin', labels: { zone: 'b' } } } });
    await eventually(() => assert.equal(controller.state.nodes.get('n1')?.labels['zone'], 'b'));
  });
});
