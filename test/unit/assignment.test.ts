import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredSlots, rendezvousOwner } from '../../libs/core/assignment.js';

const SLOTS = 64;
const ownership = (members: string[]): Map<number, string> => {
  const m = new Map<number, string>();
  for (let s = 0; s < SLOTS; s++) m.set(s, rendezvousOwner(s, members)!);
  return m;
};

describe('slot assignment by rendezvous hashing', () => {
  it('every slot has exactly one owner, and every member computes the same split', () => {
    const members = ['controller-1', 'controller-2', 'controller-3'];
    const parts = members.map((me) => desiredSlots(me, members, SLOTS));
    const all = parts.flatMap((p) => [...p]).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: SLOTS }, (_, i) => i));
    // Order of the member list does not matter.
    assert.deepEqual(ownership(members), ownership([...members].reverse()));
  });

  it('spreads slots roughly evenly', () => {
    for (const n of [2, 3, 4, 8]) {
      const members = Array.from({ length: n }, (_, i) => `controller-${i + 1}`);
      for (const me of members) {
        const share = desiredSlots(me, members, SLOTS).size;
        assert.ok(share >= SLOTS / n / 2.5 && share <= (SLOTS / n) * 2.5, `${me} of ${n} owns ${share}`);
      }
    }
  });

  it('a join moves only the slots the newcomer wins; a leave moves only the leaver\'s', () => {
    const before = ownership(['a', 'b', 'c']);
    const joined = ownership(['a', 'b', 'c', 'd']);
    for (let s = 0; s < SLOTS; s++) {
      if (joined.get(s) !== before.get(s)) assert.equal(joined.get(s), 'd', `slot ${s} moved between old members`);
    }
    const left = ownership(['a', 'c']);
    for (let s = 0; s < SLOTS; s++) {
      if (before.get(s) !== 'b') assert.equal(left.get(s), before.get(s), `slot ${s} moved though its owner stayed`);
    }
  });

  it('no members → no owner; one member owns everything', () => {
    assert.equal(rendezvousOwner(3, []), undefined);
    assert.equal(desiredSlots('solo', [], SLOTS).size, SLOTS);
  });
});
