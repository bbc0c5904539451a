// applyCommand: what an agent does with a command for its node. Fencing (a lower epoch than the
// highest seen for the slot is refused), at-most-once starts, and deletes that stick.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { PodCreate, PodDelete } from '../../libs/events/types.js';
import { applyCommand, newAgentView } from '../../libs/core/agent-commands.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';

const NODE = 'node-a';

function create(uid: string, o: { epoch?: number; slot?: number; node?: string } = {}): PodCreate {
  const s = EVENT_SAMPLES.PodCreate;
  return {
    ...s,
    data: {
      ...s.data,
      id: `create-${uid}-${o.epoch ?? 3}`,
      epoch: o.epoch ?? 3,
      slot: o.slot ?? 5,
      node: o.node ?? NODE,
      pod: { ...s.data.pod, uid, name: `fluentd-${uid}` },
    },
  };
}

function del(uid: string, o: { epoch?: number; slot?: number; node?: string } = {}): PodDelete {
  const s = EVENT_SAMPLES.PodDelete;
  return { ...s, data: { ...s.data, id: `delete-${uid}`, epoch: o.epoch ?? 3, slot: o.slot ?? 5, node: o.node ?? NODE, podUid: uid, podName: `fluentd-${uid}` } };
}

describe('applyCommand: fencing', () => {
  it('a lower epoch than the highest seen for the slot is rejected with StaleEpoch', () => {
    const v = newAgentView();
    assert.equal(applyCommand(v, create('a', { epoch: 3 }), NODE).kind, 'start');
    const r = applyCommand(v, create('b', { epoch: 2 }), NODE);
    assert.deepEqual(r, { kind: 'reject', reason: 'StaleEpoch', message: 'epoch 2 is below 3, the highest seen for slot 5' });
    assert.equal(v.pods.has('b'), false);
    assert.equal(v.epochs.get(5), 3);
    const d = applyCommand(v, del('a', { epoch: 1 }), NODE);
    assert.equal(d.kind, 'reject');
    assert.ok(v.pods.has('a'), 'a stale delete stops nothing');
  });

  it('an equal epoch is accepted; a higher one is accepted and raises the max', () => {
    const v = newAgentView();
    applyCommand(v, create('a', { epoch: 3 }), NODE);
    assert.equal(applyCommand(v, create('b', { epoch: 3 }), NODE).kind, 'start');
    assert.equal(applyCommand(v, create('c', { epoch: 7 }), NODE).kind, 'start');
    assert.equal(v.epochs.get(5), 7);
    assert.equal(applyCommand(v, create('d', { epoch: 6 }), NODE).kind, 'reject');
  });

  it('epochs are per slot', () => {
    const v = newAgentView();
    applyCommand(v, create('a', { epoch: 9, slot: 1 }), NODE);
    assert.equal(applyCommand(v, create('b', { epoch: 2, slot: 2 }), NODE).kind, 'start');
    assert.deepEqual([...v.epochs], [[1, 9], [2, 2]]);
  });

  it('a command for another node is Invalid and changes nothing', () => {
    const v = newAgentView();
    const r = applyCommand(v, create('a', { node: 'node-b', epoch: 99 }), NODE);
    assert.deepEqual(r, { kind: 'reject', reason: 'Invalid', message: 'command for node node-b delivered to node-a' });
    assert.equal(v.epochs.size, 0);
    assert.equal(v.pods.size, 0);
  });
});

describe('applyCommand: at most once', () => {
  it('start returns the pod; a duplicate create is ignored', () => {
    const v = newAgentView();
    const c = create('a');
    const r = applyCommand(v, c, NODE);
    assert.deepEqual(r, { kind: 'start', pod: { uid: 'a', create: c.data } });
    assert.deepEqual(applyCommand(v, c, NODE), { kind: 'ignore', why: 'already running' });
    assert.deepEqual([...v.pods.keys()], ['a']);
  });

  it('a create after a delete of the same uid is ignored', () => {
    const v = newAgentView();
    applyCommand(v, create('a'), NODE);
    assert.deepEqual(applyCommand(v, del('a'), NODE), { kind: 'stop', uid: 'a', known: true });
    assert.deepEqual(applyCommand(v, create('a'), NODE), { kind: 'ignore', why: 'already deleted' });
    assert.equal(v.pods.size, 0);
  });

  it('a delete of an unknown uid stops it anyway (known=false) and forbids a later create', () => {
    const v = newAgentView();
    assert.deepEqual(applyCommand(v, del('zz'), NODE), { kind: 'stop', uid: 'zz', known: false });
    assert.ok(v.deleted.has('zz'));
    assert.equal(applyCommand(v, create('zz'), NODE).kind, 'ignore');
  });

  it('replaying the same commands gives the same view', () => {
    const cmds = [create('a'), create('b'), del('a'), create('c', { epoch: 4 }), create('d', { epoch: 2 })];
    const run = () => {
      const v = newAgentView();
      const actions = cmds.map((c) => applyCommand(v, c, NODE).kind);
      return { v, actions };
    };
    const one = run();
    assert.deepEqual(one.actions, ['start', 'start', 'stop', 'start', 'reject']);
    assert.deepStrictEqual(run(), one);
  });
});
