// Decisions that depend on time, made on the log's clock: the failed-pod back-off
// (Kubernetes' failedPodsBackoff, 1 s doubling to 15 min, per DaemonSet and node) and eviction
// after a NoExecute taint's tolerationSeconds (Kubernetes' taint manager). Each returns a
// wake-up time instead of reading a clock; the controller turns it into a ClockTicked event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILED_BACKOFF_MAX_MS } from '../../libs/core/evolve.js';
import { Scenario, addNodes, createsOf, deletedPods, deletesOf, dsApplied, podDeleted, podFailed, taintsSet } from '../support/scenario.js';

/** The node's only pod fails; returns it. */
function failTheOnlyPod(s: Scenario) {
  const [pod] = s.podsOf();
  assert.ok(pod, 'a pod to fail');
  s.given(podFailed(pod));
  return pod;
}

describe('failed-pod back-off (TestDaemonKillFailedPods and failedPodsBackoff)', () => {
  it('deletes the first failed pod at once, then waits 1 s, 2 s, 4 s … before deleting the next ones on that node', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      const pod = failTheOnlyPod(s);
      let d = s.whenReconcile('foo');
      if (round > 0) {
        // In back-off: no delete, and a wake-up exactly when it ends.
        assert.deepEqual(deletedPods(d), [], `round ${round}: deleted during the back-off`);
        assert.ok(d.wakeAtMs !== undefined);
        waits.push(d.wakeAtMs - s.nowMs);
        s.advance(d.wakeAtMs - s.nowMs);
        d = s.whenReconcile('foo');
      }
      assert.deepEqual(deletedPods(d), [pod.name], `round ${round}`);
      assert.equal(deletesOf(d)[0]!.data.reason, 'FailedDaemonPod');
      s.apply(d);
      s.given(podDeleted(pod));
      s.step(); // the replacement (new attempt, new pod)
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 8000]);
  });

  it('caps the delay at 15 minutes, and starts again from 1 s once the node has been quiet for 30 minutes', () => {
    const s = new Scenario().given(addNodes(0, 1), dsApplied('foo'));
    s.step();
    for (let round = 0; round < 14; round++) {
      const pod = failTheOnlyPod(s);
      let d = s.whenReconcile('foo');
      if (d.wakeAtMs !== undefined && deletedPods(d).length === 0) {
        s.advance(d.wakeAtMs - s.nowMs);
        d = s.whenReconcile('foo');
      }
      s.apply(d);
      s.given(podDeleted(pod));
      s.step();
    }
    const ds = s.state.daemonSets.get('default/foo')!;
    assert.equal(ds.failedBackoff.get('node-0')!.delayMs, FAILED_BACKOFF_MAX_MS);
    s.advance(2 * FAILED_BACKOFF_MAX_MS + 1);
    const pod = failTheOnlyPod(s);
    const d = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(d), [pod.name], 'a stale back-off does not hold the delete');
    s.apply(d);
    assert.equal(ds.failedBackoff.get('node-0')!.delayMs, 1000, 'and it starts again from 1 s');
  });

  it('is per node: a failure on one node does not delay another', () => {
    const s = new Scenario().given(addNodes(0, 2), dsApplied('foo'));
    s.step();
    const [a, b] = s.podsOf();
    s.given(podFailed(a!));
    const first = s.whenReconcile('foo');
    s.apply(first);
    s.given(podFailed(b!));
    assert.deepEqual(deletedPods(s.whenReconcile('foo')), [b!.name]);
  });
});

describe('NoExecute tolerationSeconds (taint manager)', () => {
  const tolerateFor = (seconds?: number) =>
    dsApplied('foo', {
      podSpec: { tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }] },
    });

  it('keeps the pod until tolerationSeconds after the taint was added, then evicts it and places none', () => {
    const s = new Scenario().given(addNodes(0, 2), tolerateFor(30));
    s.step();
    const onNode0 = s.podsOf().find((p) => p.node === 'node-0')!;
    s.given(taintsSet('node-0', [{ key: 'maintenance', effect: 'NoExecute' }]));
    const added = s.nowMs - (s.nowMs % 1000); // timeAdded is RFC 3339 seconds
    const before = s.whenReconcile('foo');
    assert.deepEqual(before.commands, [], 'tolerated for now');
    assert.equal(before.wakeAtMs, added + 30_000);
    s.advance(added + 30_000 - s.nowMs);
    const after = s.whenReconcile('foo');
    assert.deepEqual(deletedPods(after), [onNode0.name]);
    assert.equal(deletesOf(after)[0]!.data.reason, 'TaintManagerEviction');
    s.apply(after);
    s.given(podDeleted(onNode0));
    assert.deepEqual(createsOf(s.whenReconcile('foo')), [], 'no new pod on a node it would be evicted from');
  });

  it('keeps the pod for good when a matching toleration has no tolerationSeconds', () => {
    const s = new Scenario().given(addNodes(0, 1), tolerateFor(undefined));
    s.step();
    s.given(taintsSet('node-0', [{ key: 'maintenance', effect: 'NoExecute' }]));
    s.advance(24 * 3600_000);
    const d = s.whenReconcile('foo');
    assert.deepEqual(d.commands, []);
    assert.equal(d.wakeAtMs, undefined);
  });

  it('a taint kept across updates keeps its timeAdded (the countdown does not restart)', () => {
    const s = new Scenario().given(addNodes(0, 1), tolerateFor(60));
    s.step();
    s.given(taintsSet('node-0', [{ key: 'maintenance', effect: 'NoExecute' }]));
    const first = s.whenReconcile('foo').wakeAtMs;
    s.advance(20_000).given(taintsSet('node-0', [{ key: 'maintenance', effect: 'NoExecute' }, { key: 'other', effect: 'NoSchedule' }]));
    assert.equal(s.whenReconcile('foo').wakeAtMs, first);
  });
});
