// Wake-ups become clock ticks on the log, and none is lost: one that comes due while its slot is
// held but not usable is deferred, a tick that cannot be published is retried or deferred, and a
// tick in flight holds back another for the same slot until it is folded.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';

import { SlotClock } from '../../services/controller/slot-clock.js';
import { eventually } from '../support/eventually.js';

interface Harness {
  readonly clock: SlotClock;
  readonly ticks: [number, string][];
  readonly deferred: unknown[];
  owned: Set<number>;
  held: Set<number>;
  failNext: number;
}

function harness(slotOf: Record<string, number> = { 'default/a': 1, 'default/b': 2 }): Harness {
  const h: Harness = { ticks: [], deferred: [], owned: new Set([1, 2]), held: new Set([1, 2]), failNext: 0, clock: undefined as unknown as SlotClock };
  (h as { clock: SlotClock }).clock = new SlotClock({
    log: pino({ level: 'silent' }),
    slotOf: (key) => slotOf[key],
    owns: (slot) => h.owned.has(slot),
    holds: (slot) => h.held.has(slot),
    defer: (target) => h.deferred.push(target),
    publishTick: async (slot, reason) => {
      if (h.failNext > 0) {
        h.failNext--;
        throw new Error('no responders');
      }
      h.ticks.push([slot, reason]);
    },
  });
  return h;
}

describe('SlotClock', () => {
  it('a wake-up of an owned slot becomes one tick of that slot when due', async () => {
    const h = harness();
    h.clock.wakeAt('default/a', Date.now() + 30);
    await eventually(() => assert.deepEqual(h.ticks, [[1, 'wake']]));
    h.clock.stop();
  });

  it('a wake-up due while its slot is held but not usable is deferred, not dropped (issue 19)', async () => {
    const h = harness();
    h.owned.delete(1);
    h.clock.wakeAt('default/a', Date.now() + 20);
    await eventually(() => assert.deepEqual(h.deferred, [{ key: 'default/a' }]));
    assert.deepEqual(h.ticks, []);
    h.clock.stop();
  });

  it('a wake-up of a slot no longer held, or of a DaemonSet gone, is dropped', async () => {
    const h = harness();
    h.owned.delete(2);
    h.held.delete(2);
    h.clock.wakeAt('default/b', Date.now() + 20);
    h.clock.wakeAt('default/gone', Date.now() + 20);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual([h.ticks, h.deferred], [[], []]);
    h.clock.stop();
  });

  it('an earlier wake-up replaces a later one; a later one is ignored', async () => {
    const h = harness();
    const t0 = Date.now();
    h.clock.wakeAt('default/a', t0 + 60_000);
    h.clock.wakeAt('default/a', t0 + 30);
    h.clock.wakeAt('default/a', t0 + 90_000);
    await eventually(() => assert.equal(h.ticks.length, 1));
    h.clock.stop();
  });

  it('one tick in flight per slot, until it is folded back', async () => {
    const h = harness();
    h.clock.tick(1, 'x');
    h.clock.tick(1, 'y');
    h.clock.tick(2, 'z');
    await eventually(() => assert.deepEqual(h.ticks, [[1, 'x'], [2, 'z']]));
    h.clock.ticked(1);
    h.clock.tick(1, 'again');
    await eventually(() => assert.deepEqual(h.ticks.at(-1), [1, 'again']));
    h.clock.stop();
  });

  it('a tick that cannot be published is retried while the slot is usable', async () => {
    const h = harness();
    h.failNext = 1;
    h.clock.tick(1, 'wake');
    await eventually(() => assert.deepEqual(h.ticks, [[1, 'wake']]), { timeoutMs: 5000 });
    h.clock.stop();
  });

  it('a failed tick whose slot stopped being usable meanwhile defers the whole slot (issue 19)', async () => {
    const h = harness();
    h.failNext = 1;
    h.clock.tick(1, 'wake');
    await new Promise((r) => setTimeout(r, 20));
    h.owned.delete(1); // the lease lapsed during the outage
    await eventually(() => assert.deepEqual(h.deferred, [{ slot: 1 }]), { timeoutMs: 5000 });
    assert.deepEqual(h.ticks, []);
    h.clock.stop();
  });
});
