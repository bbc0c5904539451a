// Expectations (ControllerExpectations): commands published but not yet seen in the log hold
// back the next reconcile of their DaemonSet, until observed, lowered, or expired (5 min).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { EXPECTATIONS_TTL_MS, clearFor, expect, lower, newExpectations, observe, satisfied } from '../../libs/core/expectations.js';

const T = 1_000_000;

describe('expectations', () => {
  it('nothing expected: satisfied', () => {
    assert.equal(satisfied(newExpectations(), 'ns/a', T), true);
  });

  it('expecting no ids records nothing', () => {
    const x = newExpectations();
    expect(x, 'ns/a', [], T);
    assert.equal(x.pending.size, 0);
    assert.equal(satisfied(x, 'ns/a', T), true);
  });

  it('unsatisfied until every id is observed; observe returns the DaemonSet', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1', 'c2'], T);
    assert.equal(satisfied(x, 'ns/a', T), false);
    assert.equal(satisfied(x, 'ns/b', T), true, 'other DaemonSets are not held');
    assert.equal(observe(x, 'c1'), 'ns/a');
    assert.equal(satisfied(x, 'ns/a', T), false);
    assert.equal(observe(x, 'c2'), 'ns/a');
    assert.equal(satisfied(x, 'ns/a', T), true);
    assert.equal(x.pending.size, 0);
    assert.equal(x.byId.size, 0);
  });

  it('observing an unknown or already observed id is a no-op', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1'], T);
    assert.equal(observe(x, 'zz'), undefined);
    assert.equal(observe(x, 'c1'), 'ns/a');
    assert.equal(observe(x, 'c1'), undefined);
  });

  it('lower drops ids that were never published', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1', 'c2', 'c3'], T);
    lower(x, ['c2', 'c3']);
    assert.deepEqual([...x.pending.get('ns/a')!.ids], ['c1']);
    lower(x, ['c1']);
    assert.equal(satisfied(x, 'ns/a', T), true);
  });

  it('expire after the TTL (strictly more than 5 min), and are forgotten', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1'], T);
    assert.equal(EXPECTATIONS_TTL_MS, 300_000);
    assert.equal(satisfied(x, 'ns/a', T + EXPECTATIONS_TTL_MS), false);
    assert.equal(satisfied(x, 'ns/a', T + EXPECTATIONS_TTL_MS + 1), true);
    assert.equal(x.pending.size, 0);
    assert.equal(x.byId.size, 0);
    assert.equal(observe(x, 'c1'), undefined, 'a late echo after expiry is harmless');
  });

  it('a new expect renews the timestamp (SetExpectations)', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1'], T);
    expect(x, 'ns/a', ['c2'], T + 200_000);
    assert.equal(satisfied(x, 'ns/a', T + EXPECTATIONS_TTL_MS + 1), false);
    assert.equal(satisfied(x, 'ns/a', T + 200_000 + EXPECTATIONS_TTL_MS + 1), true);
  });

  it('clearFor forgets a DaemonSet (deleted or re-created)', () => {
    const x = newExpectations();
    expect(x, 'ns/a', ['c1'], T);
    expect(x, 'ns/b', ['c2'], T);
    clearFor(x, 'ns/a');
    assert.equal(satisfied(x, 'ns/a', T), true);
    assert.equal(satisfied(x, 'ns/b', T), false);
    assert.equal(observe(x, 'c1'), undefined);
    clearFor(x, 'ns/none');
  });
});
