// Which controller should own which slot: rendezvous (highest-random-weight) hashing over the
// live members. Every member computes the same answer from the same member list, load is
// spread evenly, and a join or a leave moves only the slots it must (those the newcomer wins,
// or those the leaver held). PURE.

import { hash53 } from './ids.js';

export function slotWeight(member: string, slot: number): number {
  return hash53(`${member}/${slot}`, 0x5107);
}

/** The member that should own `slot`; undefined when there are none. Ties break by name. */
export function rendezvousOwner(slot: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = slotWeight(m, slot);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** The slots `me` should own among `members` (me included or not: it is added). */
export function desiredSlots(me: string, members: readonly string[], slots: number): Set<number> {
  const all = members.includes(me) ? members : [...members, me];
  const out = new Set<number>();
  for (let s = 0; s < slots; s++) if (rendezvousOwner(s, all) === me) out.add(s);
  return out;
}
