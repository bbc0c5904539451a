import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slowStartBatches } from '../../libs/core/slow-start.js';

describe('slowStartBatches (Kubernetes slowStartBatch)', () => {
  const cases: [number, number[]][] = [
    [0, []],
    [1, [1]],
    [2, [1, 1]],
    [3, [1, 2]],
    [7, [1, 2, 4]],
    [10, [1, 2, 4, 3]],
    [250, [1, 2, 4, 8, 16, 32, 64, 123]],
  ];
  for (const [n, want] of cases) {
    it(`${n} creates → ${JSON.stringify(want)}`, () => {
      assert.deepEqual(slowStartBatches(n), want);
      assert.equal(want.reduce((a, b) => a + b, 0), n);
    });
  }
});
