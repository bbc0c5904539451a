// Namespaces as logged objects: the fold of NamespaceCreated/NamespaceDeleted (table-driven),
// which namespaces exist (built-in, created, implicit from an older log), their validation at
// the decode boundary, the Namespace manifest rules, the API object, and snapshots with and
// without namespaces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namespaceObject } from '../../libs/core/k8s-objects.js';
import { BUILTIN_NAMESPACES, daemonSetsIn, derivedNamespaceUid, namespaceDeletion, namespaceExists, namespaceView, namespaceViews } from '../../libs/core/namespaces.js';
import { fromSnapshot, toSnapshot } from '../../libs/core/snapshot.js';
import type { LogEvent, NamespaceCreated, NamespaceDeleted } from '../../libs/events/types.js';
import { validateEvent } from '../../libs/events/validate.js';
import { parseNamespace } from '../../libs/model/namespace-manifest.js';
import type { Labels } from '../../libs/model/types.js';
import { Scenario, START_MS, addNodes, dsApplied, dsDeleted } from '../support/scenario.js';

const UID_A = '11111111-1111-4111-a111-111111111111';
const UID_B = '22222222-2222-4222-a222-222222222222';

function created(name: string, uid = UID_A, labels: Labels = {}, annotations: Labels = {}): NamespaceCreated {
  return { type: 'NamespaceCreated', v: 1, data: { name, uid, labels, annotations } };
}

function deleted(name: string, uid = UID_A): NamespaceDeleted {
  return { type: 'NamespaceDeleted', v: 1, data: { name, uid } };
}

describe('evolve: NamespaceCreated and NamespaceDeleted', () => {
  interface Case {
    readonly name: string;
    readonly given: readonly LogEvent[];
    /** name → [uid, labels, createdMs offset from START_MS, lastSeq] */
    readonly then: Readonly<Record<string, readonly [string, Labels, number, number]>>;
  }
  // Every event is folded 1 s after the one before it (seq n at START_MS + (n-1) s).
  const cases: readonly Case[] = [
    { name: 'a create records name, uid, labels, creation time and seq', given: [created('logging', UID_A, { team: 'a' })], then: { logging: [UID_A, { team: 'a' }, 0, 1] } },
    {
      name: 'a create with the same uid re-applies the metadata and keeps the creation time',
      given: [created('logging', UID_A, { team: 'a' }), created('logging', UID_A, { team: 'b' })],
      then: { logging: [UID_A, { team: 'b' }, 0, 2] },
    },
    {
      name: 'a create with another uid after a delete is a new namespace',
      given: [created('logging', UID_A), deleted('logging', UID_A), created('logging', UID_B, { v: '2' })],
      then: { logging: [UID_B, { v: '2' }, 2000, 3] },
    },
    { name: 'a delete removes it', given: [created('logging'), deleted('logging')], then: {} },
    { name: 'a delete naming another uid changes nothing', given: [created('logging', UID_A), deleted('logging', UID_B)], then: { logging: [UID_A, {}, 0, 1] } },
    { name: 'a delete of a namespace never created changes nothing', given: [deleted('nope')], then: {} },
    {
      name: 'namespaces are independent',
      given: [created('a', UID_A), created('b', UID_B), deleted('a', UID_A)],
      then: { b: [UID_B, {}, 1000, 2] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = new Scenario();
      for (const e of c.given) {
        s.given(e);
        s.advance(1000);
      }
      const got = Object.fromEntries([...s.state.namespaces.values()].map((ns) => [ns.name, [ns.uid, ns.labels, ns.createdMs - START_MS, ns.lastSeq]]));
      assert.deepEqual(got, c.then);
    });
  }

  it('replaying the same log gives the same namespaces (and the first event time)', () => {
    const s = new Scenario().given(created('a'), created('b', UID_B, { x: 'y' }), deleted('a'));
    const again = new Scenario().given(...s.log.map((env) => env.event));
    assert.deepStrictEqual(again.state.namespaces, s.state.namespaces);
    assert.equal(s.state.firstTimeMs, START_MS);
  });
});

describe('which namespaces exist', () => {
  it('the built-ins always exist, from the first event of the log, and cannot be mistaken for created ones', () => {
    const s = new Scenario().given(addNodes(0, 1));
    assert.deepEqual(
      namespaceViews(s.state).map((v) => [v.name, v.origin, v.createdMs]),
      BUILTIN_NAMESPACES.map((n) => [n, 'builtin', START_MS]),
    );
    assert.equal(namespaceView(s.state, 'kube-system')?.uid, namespaceView(new Scenario().state, 'kube-system')?.uid, 'a built-in uid is derived from its name');
  });

  it('a namespace holding DaemonSets in a log without NamespaceCreated exists (implicit), until its last DaemonSet goes', () => {
    const s = new Scenario().given(dsApplied('foo', { namespace: 'legacy' }));
    s.advance(5000).given(dsApplied('bar', { namespace: 'legacy' }));
    assert.deepEqual([namespaceView(s.state, 'legacy')?.origin, namespaceView(s.state, 'legacy')?.createdMs], ['implicit', START_MS]);
    assert.deepEqual(daemonSetsIn(s.state, 'legacy').map((d) => d.name), ['bar', 'foo']);
    s.given(dsDeleted('foo', 'orphan', { namespace: 'legacy', uid: s.ds('foo', 'legacy').uid }));
    assert.ok(namespaceExists(s.state, 'legacy'));
    // A background delete hides the DaemonSet at once, so the namespace goes with it.
    s.given(dsDeleted('bar', 'background', { namespace: 'legacy', uid: s.ds('bar', 'legacy').uid }));
    assert.equal(namespaceExists(s.state, 'legacy'), false);
    assert.ok(!namespaceViews(s.state).some((v) => v.name === 'legacy'));
  });

  it('a created namespace wins over the built-in and implicit views (its uid, labels, seq)', () => {
    const s = new Scenario().given(created('default', UID_A, { team: 'core' }), dsApplied('foo', { namespace: 'logging' }), created('logging', UID_B));
    assert.deepEqual(
      ['default', 'logging'].map((n) => { const v = namespaceView(s.state, n)!; return [v.origin, v.uid, v.labels, v.lastSeq]; }),
      [['created', UID_A, { team: 'core' }, 1], ['created', UID_B, {}, 3]],
    );
  });

  it('metadata applied to a built-in or implicit namespace keeps its derived uid and creation time', () => {
    const s = new Scenario().given(addNodes(0, 1));
    s.advance(1000).given(dsApplied('foo', { namespace: 'legacy' }));
    s.advance(5000).given(created('kube-public', derivedNamespaceUid('kube-public'), { team: 'core' }), created('legacy', derivedNamespaceUid('legacy'), { old: 'yes' }));
    assert.deepEqual(
      ['kube-public', 'legacy'].map((n) => { const v = namespaceView(s.state, n)!; return [v.origin, v.uid, v.labels, v.createdMs - START_MS]; }),
      [['created', derivedNamespaceUid('kube-public'), { team: 'core' }, 0], ['created', derivedNamespaceUid('legacy'), { old: 'yes' }, 1000]],
    );
  });

  it('serves as a v1 Namespace with the name label the API server adds', () => {
    const s = new Scenario().given(created('logging', UID_A, { team: 'a' }, { note: 'x' }));
    assert.deepEqual(namespaceObject(namespaceView(s.state, 'logging')!), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'logging',
        uid: UID_A,
        resourceVersion: '1',
        creationTimestamp: '2026-01-02T03:04:05Z',
        labels: { team: 'a', 'kubernetes.io/metadata.name': 'logging' },
        annotations: { note: 'x' },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });
});

describe('namespaceDeletion: what deleting a namespace writes', () => {
  it('its live DaemonSets (background), then NamespaceDeleted with its uid', () => {
    const s = new Scenario().given(created('logging', UID_A), dsApplied('b', { namespace: 'logging' }), dsApplied('a', { namespace: 'logging' }), dsApplied('c'));
    const plan = namespaceDeletion(s.state, 'logging');
    assert.ok(plan.ok);
    assert.deepEqual(plan.daemonSets.map((x) => [x.event.data.name, x.event.data.propagation, x.ds.lastSpecSeq]), [['a', 'background', 3], ['b', 'background', 2]]);
    assert.deepEqual(plan.event, deleted('logging', UID_A));
  });

  it('refuses the built-ins (Forbidden) and what does not exist (NotFound)', () => {
    const s = new Scenario();
    assert.deepEqual(BUILTIN_NAMESPACES.map((n) => namespaceDeletion(s.state, n)), BUILTIN_NAMESPACES.map(() => ({ ok: false, reason: 'Forbidden' })));
    assert.deepEqual(namespaceDeletion(s.state, 'nope'), { ok: false, reason: 'NotFound' });
  });
});

describe('validation of namespace events', () => {
  const cases: readonly [string, unknown, string | undefined][] = [
    ['a valid create', created('logging', UID_A, { team: 'a' }, { 'example.com/x': 'long text' }), undefined],
    ['a valid delete', deleted('logging'), undefined],
    ['a name that is not a DNS-1123 label', created('Logging'), 'NamespaceCreated v1: data.name: a lowercase RFC 1123 label must consist of'],
    ['a name longer than 63', created('a'.repeat(64)), 'NamespaceCreated v1: data.name: must be no more than 63 characters'],
    ['an empty name', deleted(''), 'NamespaceDeleted v1: data.name: must not be empty'],
    ['a label key that is not a qualified name', created('logging', UID_A, { 'bad key': 'v' }), 'NamespaceCreated v1: data.labels["bad key"]: name part must consist of'],
    ['a label value too long', created('logging', UID_A, { k: 'v'.repeat(64) }), 'NamespaceCreated v1: data.labels["k"]: longer than 63 characters'],
    ['a label value with bad syntax', created('logging', UID_A, { k: '-v' }), 'NamespaceCreated v1: data.labels["k"]: a valid label must be'],
    ['an annotation key with bad syntax', created('logging', UID_A, {}, { '/x': 'v' }), 'NamespaceCreated v1: data.annotations["/x"]: prefix part must be non-empty'],
    ['a missing uid', { type: 'NamespaceDeleted', v: 1, data: { name: 'x' } }, 'NamespaceDeleted v1: data.uid: required'],
    ['labels of the wrong type', { type: 'NamespaceCreated', v: 1, data: { name: 'x', uid: 'u', labels: [], annotations: {} } }, 'NamespaceCreated v1: data.labels: expected object'],
  ];
  for (const [name, value, reason] of cases) {
    it(name, () => {
      const r = validateEvent(value);
      if (reason === undefined) assert.ok(r.ok, r.ok ? '' : r.reason);
      else {
        assert.equal(r.ok, false);
        assert.ok((r as { reason: string }).reason.startsWith(reason), (r as { reason: string }).reason);
      }
    });
  }
});

describe('parseNamespace (ValidateNamespace)', () => {
  it('keeps name, labels and annotations; drops the name label the server owns', () => {
    const r = parseNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logging', labels: { team: 'a', 'kubernetes.io/metadata.name': 'other' }, annotations: { a: 'b' } } });
    assert.deepEqual(r, { ok: true, value: { name: 'logging', labels: { team: 'a' }, annotations: { a: 'b' } } });
  });

  const bad: readonly [string, unknown, readonly string[]][] = [
    ['no name', { apiVersion: 'v1', kind: 'Namespace', metadata: {} }, ['metadata.name Required']],
    ['an upper-case name', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Logging' } }, ['metadata.name Invalid']],
    ['a namespace on a namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', namespace: 'b' } }, ['metadata.namespace Forbidden']],
    ['a wrong kind and a bad label', { apiVersion: 'v1', kind: 'Space', metadata: { name: 'a', labels: { k: '-' } } }, ['kind NotSupported', 'metadata.labels Invalid']],
  ];
  for (const [name, input, want] of bad) {
    it(`refuses ${name}`, () => {
      const r = parseNamespace(input);
      assert.equal(r.ok, false);
      assert.deepEqual((r as { errors: readonly { field: string; type: string }[] }).errors.map((e) => `${e.field} ${e.type}`), want);
    });
  }
});

describe('snapshots carry namespaces', () => {
  it('round-trip namespaces and the first event time', () => {
    const s = new Scenario().given(created('logging', UID_A, { team: 'a' }), created('b', UID_B));
    const r = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(s.state, { slots: 64, streamCreated: 'x' }))));
    assert.ok(r.ok);
    assert.deepStrictEqual(r.state.namespaces, s.state.namespaces);
    assert.equal(r.state.firstTimeMs, START_MS);
  });

  it('a snapshot of the whole state in one (format 1, before per-slot parts) is refused with a reason: the log is read again', () => {
    const s = new Scenario().given(addNodes(0, 1));
    const r = fromSnapshot({ ...toSnapshot(s.state, { slots: 64, streamCreated: 'x' }), format: 1 });
    assert.deepEqual(r, { ok: false, reason: 'format 1, expected 2' });
  });

  it('refuses namespaces that are not a list', () => {
    const snap = toSnapshot(new Scenario().state, { slots: 64, streamCreated: 'x' });
    const r = fromSnapshot({ ...snap, parts: snap.parts.map((p) => (p.part === 'global' ? { ...p, namespaces: {} } : p)) });
    assert.deepEqual(r, { ok: false, reason: 'missing collections' });
  });
});
