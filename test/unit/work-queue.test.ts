// The controller's work queue: dedupe, no overlapping passes, delayed requeue (earliest wins),
// forget, errors that do not stop it, and an orderly shutdown.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { WorkQueue } from '../../libs/runtime/work-queue.js';
import { eventually } from '../support/eventually.js';

interface Harness {
  readonly q: WorkQueue<string>;
  readonly passes: string[][];
  readonly errors: unknown[];
  /** Resolves the pass that is waiting (passes wait for it when `gated`). */
  release(): void;
  running: number;
  maxRunning: number;
}

function harness(o: { gated?: boolean; costMs?: number; fail?: (keys: string[]) => boolean } = {}): Harness {
  let releaseNext: (() => void) | undefined;
  const h: Harness = {
    passes: [],
    errors: [],
    running: 0,
    maxRunning: 0,
    release: () => {
      const r = releaseNext;
      releaseNext = undefined;
      r?.();
    },
    q: undefined as unknown as WorkQueue<string>,
  };
  (h as { q: WorkQueue<string> }).q = new WorkQueue<string>({
    maxPaceMs: 250,
    onError: (err) => h.errors.push(err),
    process: async (keys) => {
      h.running++;
      h.maxRunning = Math.max(h.maxRunning, h.running);
      h.passes.push([...keys].sort());
      try {
        if (o.gated) await new Promise<void>((resolve) => (releaseNext = resolve));
        if (o.fail?.(keys)) throw new Error(`pass over ${keys.join(',')} failed`);
        return o.costMs ?? 0;
      } finally {
        h.running--;
      }
    },
  });
  return h;
}

describe('WorkQueue', () => {
  it('runs no pass before start(), and keeps what was added', async () => {
    const h = harness();
    h.q.add('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.passes, []);
    assert.equal(h.q.size, 1);
    h.q.start();
    await eventually(() => assert.deepEqual(h.passes, [['a']]));
  });

  it('a key added many times before a pass is processed once', async () => {
    const h = harness();
    h.q.start();
    for (let i = 0; i < 5; i++) h.q.add('a');
    h.q.add('b');
    await eventually(() => assert.deepEqual(h.passes, [['a', 'b']]));
  });

  it('passes never overlap; keys added during a pass go to the next one', async () => {
    const h = harness({ gated: true });
    h.q.start();
    h.q.add('a');
    await eventually(() => assert.equal(h.passes.length, 1));
    h.q.add('b');
    h.q.add('a');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.passes.length, 1, 'no second pass while the first runs');
    h.release();
    await eventually(() => assert.deepEqual(h.passes, [['a'], ['a', 'b']]));
    h.release();
    await eventually(() => assert.equal(h.running, 0));
    assert.equal(h.maxRunning, 1);
  });

  it('a pass that throws is reported and the queue goes on', async () => {
    const h = harness({ fail: (keys) => keys.includes('bad') });
    h.q.start();
    h.q.add('bad');
    await eventually(() => assert.equal(h.errors.length, 1));
    h.q.add('good');
    await eventually(() => assert.deepEqual(h.passes, [['bad'], ['good']]));
    assert.match(String(h.errors[0]), /pass over bad failed/);
  });

  it('addAfter: the key comes back after the delay; an earlier delay replaces a later one, not the reverse', async () => {
    const h = harness();
    h.q.start();
    const t0 = Date.now();
    h.q.addAfter('a', 60_000, t0);
    h.q.addAfter('a', 30, t0); // earlier: replaces
    h.q.addAfter('a', 90_000, t0); // later: ignored
    await eventually(() => assert.deepEqual(h.passes, [['a']]));
    assert.ok(Date.now() - t0 >= 25, 'not before its delay');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(h.passes, [['a']], 'the replaced delays never fire');
  });

  it('forget drops a pending and a delayed key', async () => {
    const h = harness({ gated: true });
    h.q.start();
    h.q.add('x');
    await eventually(() => assert.equal(h.passes.length, 1));
    h.q.add('a');
    h.q.addAfter('b', 10);
    h.q.forget('a');
    h.q.forget('b');
    h.release();
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(h.passes, [['x']]);
  });

  it('shutDown waits for the running pass and starts no other', async () => {
    const h = harness({ gated: true });
    h.q.start();
    h.q.add('a');
    await eventually(() => assert.equal(h.running, 1));
    h.q.add('b');
    h.q.addAfter('c', 5);
    let done = false;
    const stopping = h.q.shutDown().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'shutDown waits for the pass in flight');
    h.release();
    await stopping;
    h.q.add('d');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(h.passes, [['a']]);
  });

  it('paces the next pass by the cost the last one reported', async () => {
    const h = harness({ costMs: 80 });
    h.q.start();
    h.q.add('a');
    await eventually(() => assert.equal(h.passes.length, 1));
    const t = Date.now();
    h.q.add('b');
    await eventually(() => assert.equal(h.passes.length, 2));
    assert.ok(Date.now() - t >= 70, `the second pass waited ${Date.now() - t} ms`);
  });
});
