import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { decodeEvent, decodeValue, encodeEvent, encodeValue } from '../../libs/codec/mod.js';
import type { DecodeResult } from '../../libs/codec/mod.js';
import { validateEvent } from '../../libs/events/mod.js';
import { EVENT_SAMPLE_LIST, EVENT_SAMPLES } from '../support/event-samples.js';
import { mulberry32 as prng } from '../../libs/agent-runtime/prng.js';


function randomBytes(next: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

/** Whatever the bytes, decoding returns (never throws) a refusal or an event that validates. */
function assertSafeDecode(bytes: Uint8Array, label: string): DecodeResult {
  let result: DecodeResult | undefined;
  assert.doesNotThrow(() => {
    result = decodeEvent(bytes);
  }, label);
  assert.ok(result !== undefined);
  if (result.ok) assert.equal(validateEvent(result.event).ok, true, label);
  else assert.equal(typeof result.reason, 'string', label);
  return result;
}

describe('encodeEvent / decodeEvent', () => {
  it('round-trips one sample of every event type', () => {
    for (const sample of EVENT_SAMPLE_LIST) {
      const bytes = encodeEvent(sample);
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(decodeEvent(bytes), { ok: true, event: sample }, sample.type);
    }
  });

  it('decodes from a plain Uint8Array copy (as the NATS client delivers it)', () => {
    const copy = Uint8Array.from(encodeEvent(EVENT_SAMPLES.PodCreate));
    assert.equal(Object.getPrototypeOf(copy), Uint8Array.prototype);
    assert.deepEqual(decodeEvent(copy), { ok: true, event: EVENT_SAMPLES.PodCreate });
  });

  it('keeps epoch milliseconds exact and decodes 64-bit integers as numbers', () => {
    const bytes = encodeValue({ type: 'ShardAcquired', v: 1, data: { slot: 5n, owner: 'c-1', epoch: 2n ** 40n } });
    assert.deepEqual(decodeEvent(bytes), { ok: true, event: { type: 'ShardAcquired', v: 1, data: { slot: 5, owner: 'c-1', epoch: 2 ** 40 } } });
    const hb = { type: 'Heartbeat', v: 1, data: { node: 'n', incarnation: 'i', sentMs: 1_714_557_600_123 } } as const;
    assert.deepEqual(decodeEvent(encodeEvent(hb)), { ok: true, event: hb });
  });

  it('upcasts a NodeRegistered v0 payload before validating it', () => {
    const bytes = encodeValue({ type: 'NodeRegistered', v: 0, data: { node: 'old-node', labels: { zone: 'a' } } });
    assert.deepEqual(decodeEvent(bytes), {
      ok: true,
      event: {
        type: 'NodeRegistered',
        v: 1,
        data: { node: 'old-node', incarnation: 'legacy', labels: { zone: 'a' }, capacity: {}, allocatable: {} },
      },
    });
  });

  const refused: readonly { readonly name: string; readonly bytes: Uint8Array; readonly reason: string }[] = [
    { name: 'an empty buffer', bytes: new Uint8Array(0), reason: 'not MessagePack: Unexpected end of MessagePack data' },
    {
      name: 'JSON bytes',
      bytes: new TextEncoder().encode(JSON.stringify(EVENT_SAMPLES.NodeReady)),
      reason: 'not MessagePack: Data read, but end of buffer not reached 123',
    },
    { name: 'a reference extension (structured clone is off)', bytes: Uint8Array.from([0xd6, 0x70, 0, 0, 0, 1]), reason: 'not MessagePack: Structured clone extension is disabled' },
    { name: 'a number', bytes: encodeValue(42), reason: 'event: expected object' },
    { name: 'an array', bytes: encodeValue([EVENT_SAMPLES.NodeReady]), reason: 'event: expected object' },
    { name: 'an envelope without data', bytes: encodeValue({ type: 'NodeReady', v: 1 }), reason: 'event.data: expected object' },
    { name: 'data that is a timestamp', bytes: encodeValue({ type: 'NodeReady', v: 1, data: new Date(0) }), reason: 'event.data: expected object' },
    { name: 'data that is binary', bytes: encodeValue({ type: 'NodeReady', v: 1, data: Uint8Array.from([1]) }), reason: 'event.data: expected object' },
    { name: 'a version as a string', bytes: encodeValue({ type: 'NodeReady', v: '1', data: { node: 'n' } }), reason: 'event.v: expected integer' },
    { name: 'an unknown type', bytes: encodeValue({ type: 'NodeExploded', v: 1, data: {} }), reason: 'event.type: unknown event type "NodeExploded"' },
    { name: 'an unknown version', bytes: encodeValue({ ...EVENT_SAMPLES.PodReady, v: 3 }), reason: 'PodReady: unsupported version 3 (current: 1)' },
    { name: 'a field of the wrong type', bytes: encodeValue({ type: 'PodCreate', v: 1, data: { ...EVENT_SAMPLES.PodCreate.data, pod: { ...EVENT_SAMPLES.PodCreate.data.pod, name: 42 } } }), reason: 'PodCreate v1: data.pod.name: expected string' },
    { name: 'a slot beyond 2^53 (int64)', bytes: encodeValue({ type: 'ShardAcquired', v: 1, data: { slot: 2n ** 60n, owner: 'c', epoch: 1 } }), reason: 'ShardAcquired v1: data.slot: expected integer' },
    { name: 'a NaN slot (float64)', bytes: encodeValue({ type: 'ShardAcquired', v: 1, data: { slot: Number.NaN, owner: 'c', epoch: 1 } }), reason: 'ShardAcquired v1: data.slot: expected integer' },
    { name: 'a negative slot', bytes: encodeValue({ type: 'ShardAcquired', v: 1, data: { slot: -4, owner: 'c', epoch: 1 } }), reason: 'ShardAcquired v1: data.slot: must be >= 0' },
    { name: 'a node name as binary', bytes: encodeValue({ type: 'NodeReady', v: 1, data: { node: Uint8Array.from([110]) } }), reason: 'NodeReady v1: data.node: expected string' },
  ];
  for (const { name, bytes, reason } of refused) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(decodeEvent(bytes), { ok: false, reason });
    });
  }

  it('bounds the reason when the decoder quotes what it read', () => {
    const sample = encodeEvent(EVENT_SAMPLES.PodCreate);
    const trailing = new Uint8Array(sample.length + 1);
    trailing.set(sample);
    const result = decodeEvent(trailing);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.reason.startsWith('not MessagePack: Data read, but end of buffer not reached'));
    assert.ok(!result.ok && result.reason.length <= 'not MessagePack: '.length + 201, `${result.ok || result.reason.length}`);
  });

  it('refuses every truncation of every sample as not MessagePack', () => {
    for (const sample of EVENT_SAMPLE_LIST) {
      const bytes = encodeEvent(sample);
      for (let end = 0; end < bytes.length; end++) {
        const result = assertSafeDecode(bytes.subarray(0, end), `${sample.type} cut at ${end}`);
        assert.ok(!result.ok && result.reason.startsWith('not MessagePack: '), `${sample.type} cut at ${end}`);
      }
    }
  });

  it('never throws on random bytes (seeded)', () => {
    const next = prng(0x5eed);
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(next, Math.floor(next() * 96));
      // Half of them start as a map of three entries, to reach past the first byte.
      if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0x83;
      assertSafeDecode(bytes, `random #${i}`);
    }
  });

  it('never throws on corrupted samples (seeded byte flips)', () => {
    const next = prng(42);
    for (const sample of EVENT_SAMPLE_LIST) {
      const bytes = encodeEvent(sample);
      for (let i = 0; i < 200; i++) {
        const corrupted = Uint8Array.from(bytes);
        const flips = 1 + Math.floor(next() * 3);
        for (let f = 0; f < flips; f++) corrupted[Math.floor(next() * corrupted.length)] = Math.floor(next() * 256);
        assertSafeDecode(corrupted, `${sample.type} corruption #${i}`);
      }
    }
  });
});

describe('encodeValue / decodeValue', () => {
  it('round-trips plain snapshot data', () => {
    const snapshot = {
      seq: 123_456,
      takenMs: 1_714_557_600_000,
      nodes: [{ name: 'node-a', labels: { zone: 'a' }, ready: 'True', taints: [] }],
      nested: { empty: {}, list: [1, -2, 3.5, null, true, 'x'] },
    };
    assert.deepEqual(decodeValue(encodeValue(snapshot)), { ok: true, value: snapshot });
  });

  it('decodes a Map as a plain object (snapshot writers convert their Maps)', () => {
    assert.deepEqual(decodeValue(encodeValue(new Map([['node-a', 2]]))), { ok: true, value: { 'node-a': 2 } });
  });

  it('refuses undecodable bytes without throwing', () => {
    assert.deepEqual(decodeValue(new Uint8Array(0)), { ok: false, reason: 'not MessagePack: Unexpected end of MessagePack data' });
    assert.deepEqual(decodeValue(Uint8Array.from([0x92, 0x01])), { ok: false, reason: 'not MessagePack: Unexpected end of MessagePack data' });
  });
});
