// retryUntilReady: waits out transient failures with back-off, logs at a bounded rate, throws a
// terminal failure at once, and stops when its signal is aborted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { retryUntilReady, type RetryVerdict } from '../../libs/runtime/retry.js';

class Passing extends Error {}
class Fatal extends Error {}
const classify = (err: unknown): RetryVerdict => (err instanceof Fatal ? { transient: false, reason: 'fatal' } : { transient: true, reason: err instanceof Error ? err.message : 'unknown' });

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => out.push(s) });
  return { log, lines: () => out.map((s) => JSON.parse(s) as Record<string, unknown>) };
}

const fast = { minDelayMs: 1, maxDelayMs: 4 };

describe('retryUntilReady', () => {
  it('retries transient failures until the attempt resolves, logging once per reason and once when ready', async () => {
    const { log, lines } = capture();
    let calls = 0;
    const value = await retryUntilReady(
      async () => {
        calls++;
        if (calls < 20) throw new Passing('not yet');
        return 'ok';
      },
      { log, waitingMsg: 'waiting for X', readyMsg: 'X ready', classify, ...fast },
    );
    assert.equal(value, 'ok');
    assert.equal(calls, 20);
    const waiting = lines().filter((l) => l['msg'] === 'waiting for X');
    assert.equal(waiting.length, 1, JSON.stringify(lines()));
    assert.deepEqual({ reason: waiting[0]!['reason'], attempt: waiting[0]!['attempt'], level: waiting[0]!['level'] }, { reason: 'not yet', attempt: 1, level: 30 });
    const ready = lines().filter((l) => l['msg'] === 'X ready');
    assert.equal(ready.length, 1);
    assert.equal(ready[0]!['attempts'], 20);
  });

  it('a wait that lasts a logging interval is logged as a warning', async () => {
    const { log, lines } = capture();
    const started = Date.now();
    await retryUntilReady(
      async () => {
        if (Date.now() - started < 120) throw new Passing('still not');
      },
      { log, waitingMsg: 'waiting', readyMsg: 'ready', classify, minDelayMs: 5, maxDelayMs: 5, logEveryMs: 50 },
    );
    const levels = lines().filter((l) => l['msg'] === 'waiting').map((l) => l['level']);
    assert.equal(levels[0], 30, JSON.stringify(lines()));
    assert.ok(levels.slice(1).length >= 1 && levels.slice(1).every((l) => l === 40), JSON.stringify(lines()));
  });

  it('logs nothing when the first attempt succeeds', async () => {
    const { log, lines } = capture();
    assert.equal(await retryUntilReady(async () => 7, { log, waitingMsg: 'w', readyMsg: 'r', classify, ...fast }), 7);
    assert.deepEqual(lines(), []);
  });

  it('throws a terminal failure at once, without waiting or logging', async () => {
    const { log, lines } = capture();
    let calls = 0;
    const fatal = new Fatal('refused');
    await assert.rejects(
      retryUntilReady(
        async () => {
          calls++;
          throw calls === 1 ? new Passing('not yet') : fatal;
        },
        { log, waitingMsg: 'waiting', readyMsg: 'ready', classify, ...fast },
      ),
      (err) => err === fatal,
    );
    assert.equal(calls, 2);
    assert.deepEqual(lines().map((l) => l['msg']), ['waiting']);
  });

  it('a new reason is logged (at most once a second); the same reason only every logEveryMs', async () => {
    const { log, lines } = capture();
    let calls = 0;
    await retryUntilReady(
      async () => {
        calls++;
        if (calls <= 5) throw new Passing('first');
        if (calls <= 10) throw new Passing('second');
        return undefined;
      },
      { log, waitingMsg: 'waiting', readyMsg: 'ready', classify, minDelayMs: 1, maxDelayMs: 1, logEveryMs: 60_000 },
    );
    // The second reason came within a second of the first line: not logged yet.
    assert.deepEqual(lines().map((l) => [l['msg'], l['reason']]), [['waiting', 'first'], ['ready', undefined]]);
  });

  it('rejects with the abort reason once its signal is aborted', async () => {
    const { log } = capture();
    const controller = new AbortController();
    const reason = new Error('stopped');
    const waiting = retryUntilReady(
      async () => {
        throw new Passing('never');
      },
      { log, waitingMsg: 'waiting', readyMsg: 'ready', classify, minDelayMs: 50, maxDelayMs: 50, signal: controller.signal },
    );
    controller.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
  });
});
