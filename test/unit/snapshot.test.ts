import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeValue, encodeValue } from '../../libs/codec/codec.js';
import { fromSnapshot, toSnapshot, SNAPSHOT_FORMAT } from '../../libs/core/snapshot.js';
import { Scenario, addNodes, dsApplied } from '../support/scenario.js';

function busyState() {
  const s = new Scenario().given(addNodes(0, 4), dsApplied('foo'), dsApplied('bar'));
  s.step('foo');
  s.step('bar');
  return s.state;
}

describe('snapshots of the folded state', () => {
  it('round-trips through MessagePack to a deep-equal state (derived indexes rebuilt)', () => {
    const state = busyState();
    assert.ok(state.pods.size >= 8 && state.podsByOwner.size === 2);
    const bytes = encodeValue(toSnapshot(state, { slots: 64, streamCreated: '2026-01-01T00:00:00Z' }));
    const decoded = decodeValue(bytes);
    assert.ok(decoded.ok);
    const r = fromSnapshot(decoded.value);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepStrictEqual(r.state, state);
    assert.equal(r.data.seq, state.seq);
  });

  it('refuses what is not a snapshot of this format, with a reason', () => {
    const good = toSnapshot(busyState(), { slots: 64, streamCreated: 'x' });
    const slotPart = good.parts.find((p) => p.part !== 'global')!;
    const withPart = (change: Record<string, unknown>): unknown => ({ ...good, parts: good.parts.map((p) => (p === slotPart ? { ...p, ...change } : p)) });
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...good, format: SNAPSHOT_FORMAT + 1 }, /format 3, expected 2/],
      [{ ...good, format: 1 }, /format 1, expected 2/],
      [{ ...good, parts: 'x' }, /missing parts/],
      [withPart({ seq: 'x' }), /missing seq/],
      [withPart({ part: 'x' }), /neither global nor a slot/],
      [withPart({ pods: {} }), /missing collections/],
      [withPart({ daemonSets: [{ createsByNode: 5 }] }), /unreadable/],
    ];
    for (const [value, reason] of cases) {
      const r = fromSnapshot(value);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, reason);
    }
  });
});
