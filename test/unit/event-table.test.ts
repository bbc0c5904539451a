// The event table (libs/events/event-table.ts): one row per event type, node-scoped rows read the
// node the samples carry, families match the subject builders of libs/topology, and the switches
// that stay explicit (the controller's routing) agree with the kinds.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { evolve } from '../../libs/core/evolve.js';
import { initialState, type State } from '../../libs/core/state.js';
import {
  EVENT_TABLE,
  EVENT_TYPES,
  POD_REPORT_TYPES,
  eventFamily,
  eventKind,
  eventNode,
  isPodReport,
  typesOfKind,
  type AnyEvent,
  type EventKind,
  type EventType,
} from '../../libs/events/mod.js';
import { checkAuthor } from '../../libs/nats/authorship.js';
import {
  clockSubject,
  commandSubject,
  dsStatusSubject,
  dsSubject,
  escapeToken,
  heartbeatSubject,
  lifeSubject,
  namespaceSubject,
  nodeAdminSubject,
  nodeSubject,
  podReportSubject,
  podRequestSubject,
  shardSubject,
  subjectFamilyOf,
  subjectFamilyPrefix,
  subjectNodeToken,
  subjectSlot,
  isSlotFamily,
} from '../../libs/topology/mod.js';
import { routeEvent } from '../../services/controller/fold-routing.js';
import { EVENT_SAMPLES, EVENT_SAMPLE_LIST } from '../support/event-samples.js';

const SLOT = 5;
type EventOf<K extends EventType> = Extract<AnyEvent, { type: K }>;

/** The subject each type is published on, built as its writers build it (not from the table). */
const SUBJECT_OF: { readonly [K in EventType]: (e: EventOf<K>) => string } = {
  DaemonSetApplied: (e) => dsSubject(SLOT, e.data.namespace, e.data.name),
  DaemonSetDeleted: (e) => dsSubject(SLOT, e.data.namespace, e.data.name),
  NamespaceCreated: (e) => namespaceSubject(e.data.name),
  NamespaceDeleted: (e) => namespaceSubject(e.data.name),
  NodeRegistered: (e) => nodeSubject(e.data.node),
  NodeLabelsSet: (e) => (e.data.source === 'agent' ? nodeSubject(e.data.node) : nodeAdminSubject(e.data.node)),
  NodeTaintsSet: (e) => (e.data.source === 'agent' ? nodeSubject(e.data.node) : nodeAdminSubject(e.data.node)),
  NodeUnschedulableSet: (e) => nodeAdminSubject(e.data.node),
  NodeDeregistered: (e) => nodeSubject(e.data.node),
  NodeReady: (e) => lifeSubject(e.data.node),
  NodeNotReady: (e) => lifeSubject(e.data.node),
  PodCreate: (e) => commandSubject(e.data.slot, e.data.node),
  PodDelete: (e) => commandSubject(e.data.slot, e.data.node),
  PodStarted: (e) => podReportSubject(SLOT, e.data.node),
  PodReady: (e) => podReportSubject(SLOT, e.data.node),
  PodNotReady: (e) => podReportSubject(SLOT, e.data.node),
  PodFailed: (e) => podReportSubject(SLOT, e.data.node),
  PodSucceeded: (e) => podReportSubject(SLOT, e.data.node),
  PodDeleted: (e) => podReportSubject(SLOT, e.data.node),
  CommandRejected: (e) => podReportSubject(e.data.slot, e.data.node),
  DaemonSetStatusUpdated: (e) => dsStatusSubject(SLOT, e.data.namespace, e.data.name),
  PodDeleteRequested: (e) => podRequestSubject(SLOT, e.data.node),
  ClockTicked: (e) => clockSubject(e.data.slot),
  ShardAcquired: (e) => shardSubject(e.data.slot),
  Heartbeat: (e) => heartbeatSubject(e.data.node),
};

function subjectOf(e: AnyEvent): string {
  return (SUBJECT_OF[e.type] as (e: AnyEvent) => string)(e);
}

/** The samples, with the node facts that have a source once per source. */
const EVENTS: readonly AnyEvent[] = EVENT_SAMPLE_LIST.flatMap((e): AnyEvent[] =>
  e.type === 'NodeLabelsSet' || e.type === 'NodeTaintsSet'
    ? [{ ...e, data: { ...e.data, source: 'agent' } } as AnyEvent, { ...e, data: { ...e.data, source: 'admin' } } as AnyEvent]
    : [e],
);

function label(e: AnyEvent): string {
  return e.type === 'NodeLabelsSet' || e.type === 'NodeTaintsSet' ? `${e.type} (source ${e.data.source})` : e.type;
}

describe('event table: rows', () => {
  it('has one row for every event type, in the order of the union', () => {
    assert.deepEqual(Object.keys(EVENT_TABLE), [...EVENT_TYPES]);
    assert.deepEqual(Object.keys(EVENT_SAMPLES).sort(), Object.keys(EVENT_TABLE).sort());
  });

  it('lists the pod reports', () => {
    assert.deepEqual(POD_REPORT_TYPES, ['PodStarted', 'PodReady', 'PodNotReady', 'PodFailed', 'PodSucceeded', 'PodDeleted', 'CommandRejected']);
    assert.deepEqual(
      EVENT_SAMPLE_LIST.filter((e) => isPodReport(e)).map((e) => e.type),
      POD_REPORT_TYPES,
    );
  });

  it('gives every type exactly one kind, and every kind at least one type', () => {
    const kinds: readonly EventKind[] = ['spec', 'status', 'namespace', 'node-fact', 'liveness', 'command', 'pod-report', 'pod-request', 'clock', 'shard', 'heartbeat'];
    const covered = kinds.flatMap((k) => typesOfKind(k));
    assert.deepEqual([...covered].sort(), [...EVENT_TYPES].sort());
    for (const k of kinds) assert.ok(typesOfKind(k).length > 0, k);
    for (const e of EVENT_SAMPLE_LIST) assert.ok(typesOfKind(eventKind(e)).includes(e.type as never), e.type);
  });
});

describe('event table: nodes and families against the subject builders', () => {
  for (const e of EVENTS) {
    const subject = subjectOf(e);
    it(`${label(e)}: family ${eventFamily(e)} is the family of ${subject}`, () => {
      assert.equal(subjectFamilyOf(subject), eventFamily(e));
      const generic = subject.replace(/^s\.\d+\./, 's.<slot>.');
      const prefix = subjectFamilyPrefix(eventFamily(e));
      assert.ok(generic === prefix || generic.startsWith(`${prefix}.`), `${subject} begins with ${prefix}`);
      assert.equal(subjectSlot(subject) !== undefined, isSlotFamily(eventFamily(e)), `${subject}: a slot subject iff a slot family`);
    });

    const token = subjectNodeToken(subject);
    if (EVENT_TABLE[e.type].nodeField === undefined) {
      it(`${label(e)} names no node, nor does its subject`, () => {
        assert.equal(eventNode(e), undefined);
        assert.equal(token, undefined);
      });
    } else {
      it(`${label(e)} reads its node from data.${String(EVENT_TABLE[e.type].nodeField)}, the node its subject names`, () => {
        assert.equal(eventNode(e), 'node-a');
        assert.equal(token, escapeToken('node-a'));
      });
    }

    it(`${label(e)} passes the author check on its own subject`, () => {
      assert.deepEqual(checkAuthor(subject, e), { ok: true });
    });
  }

  it('refuses each type on the subject of every other family', () => {
    const subjects = [...new Set(EVENTS.map(subjectOf))];
    for (const e of EVENTS) {
      for (const subject of subjects) {
        if (subjectFamilyOf(subject) === eventFamily(e)) continue;
        const r = checkAuthor(subject, e);
        assert.equal(r.ok, false, `${label(e)} on ${subject}`);
      }
    }
  });
});

describe('event table: the controller routing agrees with the kinds', () => {
  /** The sample DaemonSet, node and pod exist (the samples tell one story). */
  function storyState(): State {
    const state = initialState();
    let seq = 0;
    for (const type of ['NodeRegistered', 'DaemonSetApplied', 'PodCreate'] as const) {
      evolve(state, { seq: ++seq, subject: 'test', timeMs: 1_000_000 + seq, event: EVENT_SAMPLES[type] }, { slots: 64 });
    }
    return state;
  }
  const created = EVENT_SAMPLES.PodCreate.data.pod.name;

  for (const sample of EVENT_SAMPLE_LIST) {
    if (sample.type === 'Heartbeat') continue; // not on the log
    const e = sample.type === 'PodDeleteRequested' ? { ...sample, data: { ...sample.data, podName: created } } : sample;
    it(`${e.type} (${eventKind(e)})`, () => {
      const route = routeEvent(storyState(), e);
      const kind = eventKind(e);
      assert.equal(route.verdictFor !== undefined, kind === 'liveness');
      if (kind === 'liveness') assert.equal(route.verdictFor, eventNode(e));
      assert.equal(route.tickedSlot !== undefined, kind === 'clock');
      assert.equal(route.observed !== undefined, kind === 'command');
      assert.equal(route.touched === 'all', kind === 'node-fact' || kind === 'liveness' || kind === 'clock');
      if (kind === 'spec' || kind === 'command' || kind === 'pod-report' || kind === 'pod-request') assert.equal(route.touched, 'kube-system/fluentd');
      if (kind === 'status' || kind === 'namespace' || kind === 'shard') assert.equal(route.touched, undefined);
    });
  }
});
