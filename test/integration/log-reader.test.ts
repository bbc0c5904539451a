// The ordered-consumer log reader against a real server: it must know when it has caught up,
// with and without a filter, including when nothing (or nothing new) matches the filter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encodeEvent } from '../../libs/codec/codec.js';
import type { Envelope } from '../../libs/events/types.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { LOG_STREAM, lifeSubject, nodeCommandFilter } from '../../libs/topology/names.js';
import { startNats, type TestNats } from '../support/nats-server.js';

describe('log reader (real nats-server)', () => {
  let nats: TestNats;
  let nc: NatsConnection;

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    await ensureTopology(nc);
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) {
      await js.publish(lifeSubject(`n${i}`), encodeEvent({ type: 'NodeReady', v: 1, data: { node: `n${i}` } }));
    }
  });

  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('without a filter: catches up with every message there was, in order', async () => {
    const seen: Envelope[] = [];
    const reader = await openLogReader({ nc, onEnvelope: (e) => seen.push(e) });
    const caught = await reader.caughtUp;
    await reader.stop();
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.equal(caught.seq, 5);
  });

  it('with a filter nothing matches, started mid-log: caught up at once (regression: it used to wait forever)', async () => {
    const reader = await openLogReader({ nc, filter: nodeCommandFilter('n2'), fromSeq: 3, onEnvelope: () => assert.fail('nothing matches') });
    const caught = await Promise.race([reader.caughtUp, new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    await reader.stop();
    assert.notEqual(caught, 'hung');
  });

  it('with a filter: delivers only matching messages and catches up after the last of them', async () => {
    const seen: number[] = [];
    const reader = await openLogReader({ nc, filter: lifeSubject('n3'), onEnvelope: (e) => seen.push(e.seq) });
    await reader.caughtUp;
    await reader.stop();
    assert.deepEqual(seen, [4]);
  });

  it('untilSeq stops at that point of the log (time travel)', async () => {
    const seen: number[] = [];
    const reader = await openLogReader({ nc, untilSeq: 2, onEnvelope: (e) => seen.push(e.seq) });
    await reader.done;
    assert.deepEqual(seen, [1, 2]);
  });

  it('catches up when the last messages of the log were deleted (regression: it waited for a deleted sequence for ever)', async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const kept = await js.publish(lifeSubject('d1'), encodeEvent({ type: 'NodeReady', v: 1, data: { node: 'd1' } }));
    const gone: number[] = [];
    for (const node of ['d2', 'd3']) gone.push((await js.publish(lifeSubject(node), encodeEvent({ type: 'NodeReady', v: 1, data: { node } }))).seq);
    for (const seq of gone) assert.equal(await jsm.streams.deleteMessage(LOG_STREAM, seq, false), true);
    const seen: number[] = [];
    const reader = await openLogReader({ nc, onEnvelope: (e) => seen.push(e.seq) });
    const caught = await Promise.race([reader.caughtUp, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    assert.notEqual(caught, 'hung', 'the reader never caught up');
    assert.equal(await reader.lastSeqNow(), kept.seq, 'the last message that exists');
    await reader.stop();
    assert.equal(seen.at(-1), kept.seq);
  });
});
