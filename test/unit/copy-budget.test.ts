// The dead-letter copy budget: a burst per class, then a steady rate; classes apart.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { CopyBudget } from '../../libs/nats/dead-letter.js';

describe('CopyBudget', () => {
  it('allows the burst at once, then refuses until time refills it', () => {
    const b = new CopyBudget({ burst: 3, perSecond: 2 });
    assert.deepEqual([1, 2, 3, 4].map(() => b.take('not-msgpack', 0)), [true, true, true, false]);
    assert.equal(b.take('not-msgpack', 400), false, '0.8 of a token after 400 ms');
    assert.equal(b.take('not-msgpack', 500), true, 'one token after 500 ms at 2/s');
    assert.equal(b.skipped, 2);
  });

  it('keeps classes apart: a flood of one class leaves the others their burst', () => {
    const b = new CopyBudget({ burst: 2, perSecond: 1 });
    for (let i = 0; i < 100; i++) b.take('not-msgpack', 0);
    assert.equal(b.take('wrong-author', 0), true);
    assert.equal(b.take('wrong-author', 0), true);
    assert.equal(b.take('wrong-author', 0), false);
  });

  it('never stores more than the burst, however long it was idle', () => {
    const b = new CopyBudget({ burst: 2, perSecond: 10 });
    b.take('invalid', 0);
    assert.deepEqual([1, 2, 3].map(() => b.take('invalid', 3_600_000)), [true, true, false]);
  });
});
