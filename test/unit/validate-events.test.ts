import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  EVENT_TYPES,
  LEGACY_INCARNATION,
  authorMatchesSubject,
  checkRawEvent,
  currentVersion,
  eventNode,
  upcast,
  validateEvent,
} from '../../libs/events/mod.js';
import type { AnyEvent, EventType } from '../../libs/events/mod.js';
import { EVENT_SAMPLES, EVENT_SAMPLE_LIST } from '../support/event-samples.js';

const REMOVE = Symbol('remove');

/** A deep copy of `event` with the value at `path` (below the event) replaced or removed. */
function patched(event: AnyEvent, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(event) as unknown as Record<string | number, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === REMOVE) delete target[last];
  else target[last] = value;
  return copy;
}

function labelsOf(count: number): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < count; i++) labels[`key-${i}`] = 'v';
  return labels;
}

describe('validateEvent', () => {
  it('the sample table covers every event type the validator knows, and only those', () => {
    assert.deepEqual(Object.keys(EVENT_SAMPLES).sort(), [...EVENT_TYPES].sort());
    for (const [type, sample] of Object.entries(EVENT_SAMPLES)) assert.equal(sample.type, type);
  });

  it('accepts one sample of every type and returns the value itself', () => {
    for (const sample of EVENT_SAMPLE_LIST) {
      const result = validateEvent(sample);
      assert.deepEqual(result, { ok: true, event: sample }, sample.type);
      assert.ok(result.ok && result.event === sample, sample.type);
      assert.equal(sample.v, currentVersion(sample.type));
    }
  });

  const accepted: readonly { readonly name: string; readonly value: unknown }[] = [
    { name: 'unknown extra fields at the top and in data', value: { ...(patched(EVENT_SAMPLES.NodeReady, ['data', 'zone'], 'eu') as object), traceId: 'abc' } },
    { name: 'an optional field left out (PodFailed.exitCode)', value: patched(EVENT_SAMPLES.PodFailed, ['data', 'exitCode'], REMOVE) },
    { name: 'an optional field undefined (PodFailed.exitCode)', value: patched(EVENT_SAMPLES.PodFailed, ['data', 'exitCode'], undefined) },
    { name: 'a negative exit code', value: patched(EVENT_SAMPLES.PodFailed, ['data', 'exitCode'], -1) },
    { name: 'empty label maps and no taints', value: { type: 'NodeTaintsSet', v: 1, data: { node: 'n', source: 'agent', taints: [] } } },
    { name: 'a label map of exactly 1000 entries', value: patched(EVENT_SAMPLES.NodeLabelsSet, ['data', 'labels'], labelsOf(1000)) },
    { name: 'a name of exactly 253 characters', value: patched(EVENT_SAMPLES.NodeReady, ['data', 'node'], 'n'.repeat(253)) },
    { name: 'a reason of exactly 64 KiB', value: patched(EVENT_SAMPLES.PodNotReady, ['data', 'reason'], 'r'.repeat(65_536)) },
    { name: 'slot 0 and epoch 0', value: { type: 'ShardAcquired', v: 1, data: { slot: 0, owner: 'c', epoch: 0 } } },
    { name: 'objects without a prototype', value: Object.assign(Object.create(null) as object, { type: 'NodeReady', v: 1, data: Object.assign(Object.create(null) as object, { node: 'n' }) }) },
    { name: 'CommandRejected for a command whose pod has no name', value: patched(EVENT_SAMPLES.CommandRejected, ['data', 'podName'], '') },
  ];
  for (const { name, value } of accepted) {
    it(`accepts ${name}`, () => {
      assert.deepEqual(validateEvent(value), { ok: true, event: value });
    });
  }

  const S = EVENT_SAMPLES;
  const refused: readonly { readonly name: string; readonly value: unknown; readonly reason: string }[] = [
    // the envelope
    { name: 'a string', value: 'NodeReady', reason: 'event: expected object' },
    { name: 'null', value: null, reason: 'event: expected object' },
    { name: 'an array', value: [S.NodeReady], reason: 'event: expected object' },
    { name: 'a Map', value: new Map([['type', 'NodeReady']]), reason: 'event: expected object' },
    { name: 'type not a string', value: { type: 7, v: 1, data: {} }, reason: 'event.type: expected string' },
    { name: 'type missing', value: { v: 1, data: {} }, reason: 'event.type: expected string' },
    { name: 'unknown type', value: { type: 'NodeExploded', v: 1, data: {} }, reason: 'event.type: unknown event type "NodeExploded"' },
    { name: 'type __proto__', value: { type: '__proto__', v: 1, data: {} }, reason: 'event.type: unknown event type "__proto__"' },
    { name: 'type toString', value: { type: 'toString', v: 1, data: {} }, reason: 'event.type: unknown event type "toString"' },
    { name: 'a long unknown type, quoted in part', value: { type: 'X'.repeat(100), v: 1, data: {} }, reason: `event.type: unknown event type "${'X'.repeat(64)}…"` },
    { name: 'version a string', value: { ...S.NodeReady, v: '1' }, reason: 'event.v: expected integer' },
    { name: 'version fractional', value: { ...S.NodeReady, v: 1.5 }, reason: 'event.v: expected integer' },
    { name: 'version NaN', value: { ...S.NodeReady, v: Number.NaN }, reason: 'event.v: expected integer' },
    { name: 'unknown (newer) version', value: { ...S.NodeReady, v: 2 }, reason: 'NodeReady: unsupported version 2 (current: 1)' },
    { name: 'a legacy version not upcast', value: { type: 'NodeRegistered', v: 0, data: { node: 'n', labels: {} } }, reason: 'NodeRegistered: unsupported version 0 (current: 1)' },
    { name: 'data a string', value: { type: 'NodeReady', v: 1, data: 'node-a' }, reason: 'event.data: expected object' },
    { name: 'data an array', value: { type: 'NodeReady', v: 1, data: ['node-a'] }, reason: 'event.data: expected object' },
    { name: 'data null', value: { type: 'NodeReady', v: 1, data: null }, reason: 'event.data: expected object' },
    { name: 'data missing', value: { type: 'NodeReady', v: 1 }, reason: 'event.data: expected object' },
    { name: 'data a Date', value: { type: 'NodeReady', v: 1, data: new Date(0) }, reason: 'event.data: expected object' },
    // missing and mistyped fields
    { name: 'missing node', value: patched(S.NodeReady, ['data', 'node'], REMOVE), reason: 'NodeReady v1: data.node: required' },
    { name: 'missing pod in PodCreate', value: patched(S.PodCreate, ['data', 'pod'], REMOVE), reason: 'PodCreate v1: data.pod: required' },
    { name: 'pod name a number', value: patched(S.PodCreate, ['data', 'pod', 'name'], 42), reason: 'PodCreate v1: data.pod.name: expected string' },
    { name: 'pod uid null', value: patched(S.PodCreate, ['data', 'pod', 'uid'], null), reason: 'PodCreate v1: data.pod.uid: expected string' },
    { name: 'pod hash missing', value: patched(S.PodCreate, ['data', 'pod', 'hash'], REMOVE), reason: 'PodCreate v1: data.pod.hash: required' },
    { name: 'pod namespace missing', value: patched(S.PodCreate, ['data', 'pod', 'namespace'], REMOVE), reason: 'PodCreate v1: data.pod.namespace: required' },
    { name: 'pod containers not an array', value: patched(S.PodCreate, ['data', 'pod', 'spec', 'containers'], 'nginx'), reason: 'PodCreate v1: data.pod.spec.containers: expected array' },
    { name: 'pod spec a Map', value: patched(S.PodCreate, ['data', 'pod', 'spec'], new Map()), reason: 'PodCreate v1: data.pod.spec: expected object' },
    { name: 'ds ref uid missing', value: patched(S.PodCreate, ['data', 'ds', 'uid'], REMOVE), reason: 'PodCreate v1: data.ds.uid: required' },
    { name: 'container name a number', value: patched(S.PodCreate, ['data', 'pod', 'spec', 'containers', 0, 'name'], 1), reason: 'PodCreate v1: data.pod.spec.containers[0].name: expected string' },
    { name: 'unschedulable a string', value: patched(S.NodeUnschedulableSet, ['data', 'unschedulable'], 'true'), reason: 'NodeUnschedulableSet v1: data.unschedulable: expected boolean' },
    { name: 'labels an array', value: patched(S.NodeLabelsSet, ['data', 'labels'], ['a=b']), reason: 'NodeLabelsSet v1: data.labels: expected object' },
    { name: 'a label value a number', value: patched(S.NodeLabelsSet, ['data', 'labels'], { zone: 1 }), reason: 'NodeLabelsSet v1: data.labels["zone"]: expected string' },
    { name: 'capacity a Date', value: patched(S.NodeRegistered, ['data', 'capacity'], new Date(0)), reason: 'NodeRegistered v1: data.capacity: expected object' },
    { name: 'status count a string', value: patched(S.DaemonSetStatusUpdated, ['data', 'status', 'numberReady'], '2'), reason: 'DaemonSetStatusUpdated v1: data.status.numberReady: expected integer' },
    { name: 'heartbeat time missing', value: patched(S.Heartbeat, ['data', 'sentMs'], REMOVE), reason: 'Heartbeat v1: data.sentMs: required' },
    { name: 'exit code fractional', value: patched(S.PodFailed, ['data', 'exitCode'], 1.5), reason: 'PodFailed v1: data.exitCode: expected integer' },
    { name: 'exit code null', value: patched(S.PodFailed, ['data', 'exitCode'], null), reason: 'PodFailed v1: data.exitCode: expected integer' },
    // bounds
    { name: 'an empty node name', value: patched(S.NodeReady, ['data', 'node'], ''), reason: 'NodeReady v1: data.node: must not be empty' },
    { name: 'a node name of 254 characters', value: patched(S.NodeReady, ['data', 'node'], 'n'.repeat(254)), reason: 'NodeReady v1: data.node: longer than 253 characters' },
    { name: 'a reason over 64 KiB', value: patched(S.PodNotReady, ['data', 'reason'], 'r'.repeat(65_537)), reason: 'PodNotReady v1: data.reason: longer than 65536 characters' },
    { name: 'an annotation over 64 KiB', value: patched(S.DaemonSetApplied, ['data', 'annotations'], { note: 'a'.repeat(65_537) }), reason: 'DaemonSetApplied v1: data.annotations["note"]: longer than 65536 characters' },
    { name: 'a label map of 1001 entries', value: patched(S.NodeLabelsSet, ['data', 'labels'], labelsOf(1001)), reason: 'NodeLabelsSet v1: data.labels: more than 1000 entries' },
    { name: 'a label value of 64 characters', value: patched(S.NodeLabelsSet, ['data', 'labels'], { zone: 'z'.repeat(64) }), reason: 'NodeLabelsSet v1: data.labels["zone"]: longer than 63 characters' },
    { name: 'a label key of 318 characters', value: patched(S.NodeLabelsSet, ['data', 'labels'], { ['k'.repeat(318)]: 'v' }), reason: 'NodeLabelsSet v1: data.labels: key longer than 317 characters' },
    { name: 'an empty label key', value: patched(S.NodeLabelsSet, ['data', 'labels'], { '': 'v' }), reason: 'NodeLabelsSet v1: data.labels: empty key' },
    { name: '10,001 taints', value: patched(S.NodeTaintsSet, ['data', 'taints'], new Array<unknown>(10_001).fill({ key: 'k', effect: 'NoSchedule' })), reason: 'NodeTaintsSet v1: data.taints: more than 10000 entries' },
    // numbers
    { name: 'a NaN slot', value: patched(S.ShardAcquired, ['data', 'slot'], Number.NaN), reason: 'ShardAcquired v1: data.slot: expected integer' },
    { name: 'an infinite slot', value: patched(S.ShardAcquired, ['data', 'slot'], Number.POSITIVE_INFINITY), reason: 'ShardAcquired v1: data.slot: expected integer' },
    { name: 'a negative slot', value: patched(S.ShardAcquired, ['data', 'slot'], -1), reason: 'ShardAcquired v1: data.slot: must be >= 0' },
    { name: 'a fractional slot', value: patched(S.PodCreate, ['data', 'slot'], 2.5), reason: 'PodCreate v1: data.slot: expected integer' },
    { name: 'a slot as a string', value: patched(S.PodDelete, ['data', 'slot'], '5'), reason: 'PodDelete v1: data.slot: expected integer' },
    { name: 'an epoch beyond 2^53', value: patched(S.PodCreate, ['data', 'epoch'], 2 ** 53), reason: 'PodCreate v1: data.epoch: expected integer' },
    { name: 'a negative restart count', value: patched(S.PodStarted, ['data', 'restartCount'], -3), reason: 'PodStarted v1: data.restartCount: must be >= 0' },
    { name: 'generation 0', value: patched(S.DaemonSetApplied, ['data', 'generation'], 0), reason: 'DaemonSetApplied v1: data.generation: must be >= 1' },
    { name: 'a negative heartbeat time', value: patched(S.NodeNotReady, ['data', 'lastHeartbeatMs'], -1), reason: 'NodeNotReady v1: data.lastHeartbeatMs: must be >= 0' },
    // enums
    { name: 'an unknown taint source', value: patched(S.NodeTaintsSet, ['data', 'source'], 'kubelet'), reason: 'NodeTaintsSet v1: data.source: expected one of agent, admin' },
    { name: 'an unknown taint effect', value: patched(S.NodeTaintsSet, ['data', 'taints', 1, 'effect'], 'NoRun'), reason: 'NodeTaintsSet v1: data.taints[1].effect: expected one of NoSchedule, PreferNoSchedule, NoExecute' },
    { name: 'a taint value of 64 characters', value: patched(S.NodeTaintsSet, ['data', 'taints', 0, 'value'], 'v'.repeat(64)), reason: 'NodeTaintsSet v1: data.taints[0].value: longer than 63 characters' },
    { name: 'a taint that is a string', value: patched(S.NodeTaintsSet, ['data', 'taints', 0], 'dedicated=gpu:NoSchedule'), reason: 'NodeTaintsSet v1: data.taints[0]: expected object' },
    { name: 'an unknown delete propagation', value: patched(S.DaemonSetDeleted, ['data', 'propagation'], 'Orphan'), reason: 'DaemonSetDeleted v1: data.propagation: expected one of background, foreground, orphan' },
    { name: 'a NodeNotReady status True', value: patched(S.NodeNotReady, ['data', 'status'], 'True'), reason: 'NodeNotReady v1: data.status: expected one of False, Unknown' },
    { name: 'an unknown rejection reason', value: patched(S.CommandRejected, ['data', 'reason'], 'Timeout'), reason: 'CommandRejected v1: data.reason: expected one of StaleEpoch, Invalid, DriverError' },
    { name: 'an unknown rejected command type', value: patched(S.CommandRejected, ['data', 'commandType'], 'PodRestart'), reason: 'CommandRejected v1: data.commandType: expected one of PodCreate, PodDelete' },
    // the DaemonSet spec, checked loosely
    { name: 'a spec without selector', value: patched(S.DaemonSetApplied, ['data', 'spec', 'selector'], REMOVE), reason: 'DaemonSetApplied v1: data.spec.selector: required' },
    { name: 'a spec whose template is a string', value: patched(S.DaemonSetApplied, ['data', 'spec', 'template'], 'pod'), reason: 'DaemonSetApplied v1: data.spec.template: expected object' },
    { name: 'a spec without containers', value: patched(S.DaemonSetApplied, ['data', 'spec', 'template', 'spec', 'containers'], REMOVE), reason: 'DaemonSetApplied v1: data.spec.template.spec.containers: required' },
    { name: 'a spec with an unknown update strategy', value: patched(S.DaemonSetApplied, ['data', 'spec', 'updateStrategy', 'type'], 'Recreate'), reason: 'DaemonSetApplied v1: data.spec.updateStrategy.type: expected one of RollingUpdate, OnDelete' },
    { name: 'a spec without defaults', value: patched(S.DaemonSetApplied, ['data', 'spec', 'revisionHistoryLimit'], REMOVE), reason: 'DaemonSetApplied v1: data.spec.revisionHistoryLimit: required' },
  ];
  for (const { name, value, reason } of refused) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(validateEvent(value), { ok: false, reason });
    });
  }
});

describe('checkRawEvent', () => {
  it('accepts any type and version in the envelope, returning the value itself', () => {
    const value = { type: 'FutureThing', v: 9, data: { x: 1 } };
    assert.deepEqual(checkRawEvent(value), { ok: true, raw: value });
  });
});

describe('upcast', () => {
  it('turns a NodeRegistered v0 into v1 with the legacy incarnation and empty resources', () => {
    const v0 = { type: 'NodeRegistered', v: 0, data: { node: 'old-node', labels: { zone: 'a' } } } as const;
    const v1 = upcast(v0);
    assert.deepEqual(v1, {
      type: 'NodeRegistered',
      v: 1,
      data: { node: 'old-node', incarnation: LEGACY_INCARNATION, labels: { zone: 'a' }, capacity: {}, allocatable: {} },
    });
    assert.equal(LEGACY_INCARNATION, 'legacy');
    assert.deepEqual(validateEvent(v1), { ok: true, event: v1 });
    assert.deepEqual(v0.data, { node: 'old-node', labels: { zone: 'a' } }, 'the input is not changed');
  });

  it('leaves a v0 whose data is not the old shape for validation to name', () => {
    const v1 = upcast({ type: 'NodeRegistered', v: 0, data: { node: 'old-node' } });
    assert.deepEqual(validateEvent(v1), { ok: false, reason: 'NodeRegistered v1: data.labels: required' });
    const notObject = upcast({ type: 'NodeRegistered', v: 0, data: 'old-node' });
    assert.deepEqual(notObject, { type: 'NodeRegistered', v: 1, data: 'old-node' });
  });

  it('returns current versions, unknown versions and unknown types as they are', () => {
    for (const sample of EVENT_SAMPLE_LIST) assert.equal(upcast(sample), sample, sample.type);
    const future = { type: 'NodeRegistered', v: 7, data: {} };
    assert.equal(upcast(future), future);
    const unknown = { type: '__proto__', v: 0, data: {} };
    assert.equal(upcast(unknown), unknown);
  });
});

describe('authorMatchesSubject', () => {
  const NODE_SCOPED: ReadonlySet<EventType> = new Set<EventType>([
    'NodeRegistered',
    'NodeLabelsSet',
    'NodeTaintsSet',
    'NodeUnschedulableSet',
    'NodeDeregistered',
    'NodeReady',
    'NodeNotReady',
    'PodCreate',
    'PodDelete',
    'PodStarted',
    'PodReady',
    'PodNotReady',
    'PodFailed',
    'PodSucceeded',
    'PodDeleted',
    'CommandRejected',
    'PodDeleteRequested',
    'Heartbeat',
  ]);

  for (const sample of EVENT_SAMPLE_LIST) {
    if (NODE_SCOPED.has(sample.type)) {
      it(`${sample.type} matches only the subject of its own node`, () => {
        assert.equal(eventNode(sample), 'node-a');
        assert.equal(authorMatchesSubject(sample, 'node-a'), true);
        assert.equal(authorMatchesSubject(sample, 'node-b'), false);
        assert.equal(authorMatchesSubject(sample, undefined), false);
      });
    } else {
      it(`${sample.type} matches only a subject that names no node`, () => {
        assert.equal(eventNode(sample), undefined);
        assert.equal(authorMatchesSubject(sample, undefined), true);
        assert.equal(authorMatchesSubject(sample, 'node-a'), false);
      });
    }
  }
});
