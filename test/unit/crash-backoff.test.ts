import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackoffPolicy } from '../../services/agent/drivers/crash-backoff.js';
import { decideBackoff, DEFAULT_BACKOFF } from '../../services/agent/drivers/crash-backoff.js';

describe('decideBackoff (kubelet CrashLoopBackOff)', () => {
  const policy: BackoffPolicy = { initialMs: 1_000, maxMs: 8_000, resetAfterMs: 600_000 };

  const cases: readonly {
    readonly name: string;
    readonly pendingMs: number | undefined;
    readonly ranForMs: number;
    readonly expected: { readonly delayMs: number; readonly nextMs: number; readonly crashLooping: boolean };
  }[] = [
    { name: 'first crash waits initialMs', pendingMs: undefined, ranForMs: 5, expected: { delayMs: 1_000, nextMs: 2_000, crashLooping: false } },
    { name: 'a repeat crash waits the doubled delay', pendingMs: 2_000, ranForMs: 5, expected: { delayMs: 2_000, nextMs: 4_000, crashLooping: true } },
    { name: 'the delay is capped at maxMs', pendingMs: 8_000, ranForMs: 5, expected: { delayMs: 8_000, nextMs: 8_000, crashLooping: true } },
    { name: 'running just under the reset window keeps the delay', pendingMs: 4_000, ranForMs: 599_999, expected: { delayMs: 4_000, nextMs: 8_000, crashLooping: true } },
    { name: 'running for the reset window starts over', pendingMs: 8_000, ranForMs: 600_000, expected: { delayMs: 1_000, nextMs: 2_000, crashLooping: false } },
  ];
  for (const tc of cases) {
    it(tc.name, () => assert.deepEqual(decideBackoff(tc.pendingMs, tc.ranForMs, policy), tc.expected));
  }

  it('the default doubles from 1 s to 5 min', () => {
    const delays: number[] = [];
    let pending: number | undefined;
    for (let i = 0; i < 11; i++) {
      const d = decideBackoff(pending, 0, DEFAULT_BACKOFF);
      delays.push(d.delayMs);
      pending = d.nextMs;
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });
});
