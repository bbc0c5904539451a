import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuntimeEvent, RuntimePod } from '../../libs/agent-runtime/driver.js';
import type { SimDriverOptions, TimerHandle } from '../../libs/agent-runtime/sim-driver.js';
import { mulberry32 } from '../../libs/agent-runtime/prng.js';
import { createSimDriver, imageTag } from '../../libs/agent-runtime/sim-driver.js';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock {
  now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { readonly at: number; readonly fn: () => void }>();

  readonly setTimer = (fn: () => void, ms: number): TimerHandle => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  };

  readonly clearTimer = (handle: TimerHandle): void => {
    this.timers.delete(handle as number);
  };

  get pending(): number {
    return this.timers.size;
  }

  /** Runs every timer due up to now + ms, in time order (then creation order). */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let due: [number, { readonly at: number; readonly fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry;
      }
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

interface Seen {
  readonly at: number;
  readonly uid: string;
  readonly event: RuntimeEvent;
}

function setup(extra: Partial<SimDriverOptions> = {}) {
  const clock = new FakeClock();
  const seen: Seen[] = [];
  const driver = createSimDriver({
    listener: (uid, event) => seen.push({ at: clock.now, uid, event }),
    startDelayMs: 100,
    readyDelayMs: 200,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    ...extra,
  });
  return { clock, seen, driver };
}

function pod(uid: string, annotations: Record<string, string> = {}, image = 'nginx:1.25'): RuntimePod {
  return {
    namespace: 'default',
    name: `ds-${uid}`,
    uid,
    spec: { containers: [{ name: 'main', image }] },
    annotations,
  };
}

describe('sim driver', () => {
  it('emits started after startDelayMs and ready readyDelayMs later', () => {
    const { clock, seen, driver } = setup();
    driver.start(pod('a'));
    clock.advance(99);
    assert.deepEqual(seen, []);
    clock.advance(1);
    assert.deepEqual(seen, [{ at: 100, uid: 'a', event: { type: 'started', restartCount: 0 } }]);
    clock.advance(1000);
    assert.deepEqual(seen, [
      { at: 100, uid: 'a', event: { type: 'started', restartCount: 0 } },
      { at: 300, uid: 'a', event: { type: 'ready' } },
    ]);
    assert.equal(clock.pending, 0, 'no timer is left once the pod is ready');
    assert.deepEqual(driver.running(), ['a']);
  });

  it('is idempotent by uid', () => {
    const { clock, seen, driver } = setup();
    driver.start(pod('a'));
    driver.start(pod('a'));
    assert.equal(clock.pending, 1);
    clock.advance(1000);
    assert.deepEqual(
      seen.map((s) => s.event.type),
      ['started', 'ready'],
    );
  });

  const annotationCases: readonly {
    readonly name: string;
    readonly annotations: Record<string, string>;
    readonly image?: string;
    readonly failRate?: number;
    readonly expected: readonly Seen[];
  }[] = [
    {
      name: 'start-delay-ms and ready-delay-ms override the defaults',
      annotations: { 'sim.daemonset.io/start-delay-ms': '5', 'sim.daemonset.io/ready-delay-ms': '7' },
      expected: [
        { at: 5, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 12, uid: 'p', event: { type: 'ready' } },
      ],
    },
    {
      name: 'a zero delay is honoured',
      annotations: { 'sim.daemonset.io/start-delay-ms': '0', 'sim.daemonset.io/ready-delay-ms': '0' },
      expected: [
        { at: 0, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 0, uid: 'p', event: { type: 'ready' } },
      ],
    },
    {
      name: 'a malformed delay falls back to the default',
      annotations: { 'sim.daemonset.io/start-delay-ms': '-3', 'sim.daemonset.io/ready-delay-ms': 'soon' },
      expected: [
        { at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 300, uid: 'p', event: { type: 'ready' } },
      ],
    },
    {
      name: 'never-ready starts but never becomes ready',
      annotations: { 'sim.daemonset.io/never-ready': 'true' },
      expected: [{ at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } }],
    },
    {
      name: 'fail emits failed after start',
      annotations: { 'sim.daemonset.io/fail': 'true' },
      expected: [
        { at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 300, uid: 'p', event: { type: 'failed', reason: 'SimulatedFailure', exitCode: 1 } },
      ],
    },
    {
      name: 'fail "false" overrides a failRate of 1',
      annotations: { 'sim.daemonset.io/fail': 'false' },
      failRate: 1,
      expected: [
        { at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 300, uid: 'p', event: { type: 'ready' } },
      ],
    },
    {
      name: 'an image tagged broken never becomes ready',
      annotations: {},
      image: 'nginx:broken',
      expected: [{ at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } }],
    },
    {
      name: 'a registry port is not mistaken for the broken tag',
      annotations: {},
      image: 'registry.local:5000/broken',
      expected: [
        { at: 100, uid: 'p', event: { type: 'started', restartCount: 0 } },
        { at: 300, uid: 'p', event: { type: 'ready' } },
      ],
    },
  ];

  for (const tc of annotationCases) {
    it(tc.name, () => {
      const { clock, seen, driver } = setup(tc.failRate === undefined ? {} : { failRate: tc.failRate });
      driver.start(pod('p', tc.annotations, tc.image));
      clock.advance(10_000);
      assert.deepEqual(seen, tc.expected);
      assert.equal(clock.pending, 0);
    });
  }

  it('stop cancels pending transitions and resolves at once', async () => {
    const { clock, seen, driver } = setup();
    driver.start(pod('before-start'));
    driver.start(pod('before-ready'));
    clock.advance(150);
    assert.deepEqual(seen, [
      { at: 100, uid: 'before-start', event: { type: 'started', restartCount: 0 } },
      { at: 100, uid: 'before-ready', event: { type: 'started', restartCount: 0 } },
    ]);
    await driver.stop('before-ready');
    assert.deepEqual(driver.running(), ['before-start']);
    clock.advance(1000);
    assert.deepEqual(seen.slice(2), [{ at: 300, uid: 'before-start', event: { type: 'ready' } }]);

    seen.length = 0;
    driver.start(pod('c'));
    await driver.stop('c');
    clock.advance(1000);
    assert.deepEqual(seen, []);
    assert.equal(clock.pending, 0);
    await driver.stop('unknown');
  });

  it('stop resolves after stopDelayMs when configured', async () => {
    const { clock, driver } = setup({ stopDelayMs: 50 });
    driver.start(pod('a'));
    let stopped = false;
    const stopping = driver.stop('a').then(() => {
      stopped = true;
    });
    assert.deepEqual(driver.running(), []);
    clock.advance(49);
    await Promise.resolve();
    assert.equal(stopped, false);
    clock.advance(1);
    await stopping;
    assert.equal(stopped, true);
  });

  it('stopAll stops every pod', async () => {
    const { clock, seen, driver } = setup();
    for (const uid of ['a', 'b', 'c']) driver.start(pod(uid));
    await driver.stopAll();
    assert.deepEqual(driver.running(), []);
    clock.advance(1000);
    assert.deepEqual(seen, []);
  });

  it('failRate draws reproducibly from the seed', () => {
    const uids = Array.from({ length: 200 }, (_, i) => `pod-${i}`);
    const failedWith = (seed: number, order: readonly string[]): string[] => {
      const { clock, seen, driver } = setup({ failRate: 0.3, seed });
      for (const uid of order) driver.start(pod(uid));
      clock.advance(10_000);
      return seen
        .filter((s) => s.event.type === 'failed')
        .map((s) => s.uid)
        .sort();
    };
    const first = failedWith(42, uids);
    assert.deepEqual(failedWith(42, uids), first, 'same seed, same failures');
    assert.deepEqual(failedWith(42, [...uids].reverse()), first, 'independent of start order');
    assert.notDeepEqual(failedWith(43, uids), first, 'another seed, other failures');
    assert.ok(first.length > 30 && first.length < 90, `about 30% of 200 fail, got ${first.length}`);
  });

  it('scales to thousands of pods with at most one timer each', () => {
    const { clock, seen, driver } = setup();
    for (let i = 0; i < 5000; i++) driver.start(pod(`p${i}`));
    assert.equal(clock.pending, 5000);
    clock.advance(100);
    assert.equal(clock.pending, 5000);
    clock.advance(200);
    assert.equal(clock.pending, 0);
    assert.equal(seen.filter((s) => s.event.type === 'ready').length, 5000);
  });
});

describe('mulberry32', () => {
  it('matches the reference sequence for seed 1', () => {
    const next = mulberry32(1);
    // The first outputs of the reference implementation (bryc's mulberry32) for seed 1.
    assert.deepEqual([next(), next(), next()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });
});

describe('imageTag', () => {
  const cases: readonly [string, string | undefined][] = [
    ['nginx:broken', 'broken'],
    ['nginx', undefined],
    ['registry.local:5000/team/nginx:1.25', '1.25'],
    ['registry.local:5000/team/nginx', undefined],
    ['nginx:broken@sha256:abc', 'broken'],
  ];
  for (const [image, tag] of cases) {
    it(`${image} → ${String(tag)}`, () => assert.equal(imageTag(image), tag));
  }
});
