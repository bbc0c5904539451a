// The controller's sight of the bus: lost on a disconnect or an unanswered round trip, restored by
// the next one; liveness counts every node's grace from the moment sight came back.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SightTracker } from '../../services/controller/bus-sight.js';

describe('SightTracker', () => {
  it('sees from its start: a full grace for every node from then', () => {
    assert.equal(new SightTracker(1000).sightSinceMs(), 1000);
  });

  it('blind between a loss and the next restore; then sight counts from the restore', () => {
    const t = new SightTracker(1000);
    t.lost(5000);
    assert.equal(t.sightSinceMs(), undefined);
    assert.equal(t.restored(9000), 4000, 'the gap it ends');
    assert.equal(t.sightSinceMs(), 9000);
  });

  it('a second loss during a gap keeps the first loss time', () => {
    const t = new SightTracker(0);
    t.lost(100);
    t.lost(700);
    assert.equal(t.restored(1000), 900);
  });

  it('a restore without a loss changes nothing (a round trip answered in time)', () => {
    const t = new SightTracker(0);
    assert.equal(t.restored(5000), 0);
    assert.equal(t.sightSinceMs(), 0);
  });
});
