import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventuallyTimeoutError, eventually } from '../support/eventually.js';

describe('eventually', () => {
  it('returns the first value that does not throw', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls += 1;
        if (calls < 3) throw new Error(`not yet ${calls}`);
        return `done after ${calls}`;
      },
      { intervalMs: 1 },
    );
    assert.equal(value, 'done after 3');
    assert.equal(calls, 3);
  });

  it('waits for a boolean condition to become true', async () => {
    let calls = 0;
    const value = await eventually(() => ++calls === 4, { intervalMs: 1 });
    assert.equal(value, true);
    assert.equal(calls, 4);
  });

  it('awaits async functions', async () => {
    let calls = 0;
    const value = await eventually(
      async () => {
        calls += 1;
        if (calls < 2) throw new Error('not yet');
        return { calls };
      },
      { intervalMs: 1 },
    );
    assert.deepEqual(value, { calls: 2 });
  });

  it('accepts falsy values other than false', async () => {
    assert.equal(await eventually(() => 0), 0);
    assert.equal(await eventually(() => ''), '');
    assert.equal(await eventually(() => undefined), undefined);
  });

  it('times out with the message and the last error as cause', async () => {
    let calls = 0;
    const last = new Error('still missing');
    const error = await eventually(
      () => {
        calls += 1;
        throw last;
      },
      { timeoutMs: 30, intervalMs: 5, message: 'node-1 registered' },
    ).then(
      () => assert.fail('eventually resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof EventuallyTimeoutError);
    assert.equal(error.cause, last);
    assert.equal(error.attempts, calls);
    assert.match(error.message, /^node-1 registered: not met within 30 ms after \d+ attempts \(last: still missing\)$/);
  });

  it('times out when the condition stays false', async () => {
    const error = await eventually(() => false, { timeoutMs: 20, intervalMs: 5 }).then(
      () => assert.fail('eventually resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof EventuallyTimeoutError);
    assert.match(error.message, /^condition: not met within 20 ms/);
    assert.ok(error.cause instanceof Error);
    assert.equal(error.cause.message, 'the condition returned false');
  });

  it('cuts off an attempt that never settles', async () => {
    const error = await eventually(() => new Promise<never>(() => undefined), { timeoutMs: 20 }).then(
      () => assert.fail('eventually resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof EventuallyTimeoutError);
    assert.equal(error.attempts, 1);
    assert.match(error.message, /still pending at the deadline/);
  });
});
