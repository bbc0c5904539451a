// The controller's event routing (what a handler enqueues), one row per event type: the table is
// typed over every type of the log union, so a new event type without a row does not compile.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { evolve } from '../../libs/core/evolve.js';
import { initialState, type State } from '../../libs/core/state.js';
import type { LogEvent } from '../../libs/events/types.js';
import { routeEvent, type Route } from '../../services/controller/fold-routing.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';

type LogType = LogEvent['type'];
const DS_KEY = 'kube-system/fluentd';

/** A state where the sample DaemonSet, node and pod exist (the samples tell one story). */
function storyState(): State {
  const state = initialState();
  let seq = 0;
  for (const type of ['NodeRegistered', 'DaemonSetApplied', 'PodCreate'] as const) {
    evolve(state, { seq: ++seq, subject: 'test', timeMs: 1_000_000 + seq, event: EVENT_SAMPLES[type] }, { slots: 64 });
  }
  return state;
}

const expected: { readonly [K in LogType]: Route } = {
  DaemonSetApplied: { touched: DS_KEY },
  DaemonSetDeleted: { touched: DS_KEY },
  NamespaceCreated: { touched: undefined },
  NamespaceDeleted: { touched: undefined },
  NodeRegistered: { touched: 'all' },
  NodeLabelsSet: { touched: 'all' },
  NodeTaintsSet: { touched: 'all' },
  NodeUnschedulableSet: { touched: 'all' },
  NodeDeregistered: { touched: 'all' },
  NodeReady: { touched: 'all', verdictFor: EVENT_SAMPLES.NodeReady.data.node },
  NodeNotReady: { touched: 'all', verdictFor: EVENT_SAMPLES.NodeNotReady.data.node },
  PodCreate: { touched: DS_KEY, observed: EVENT_SAMPLES.PodCreate.data.id },
  PodDelete: { touched: DS_KEY, observed: EVENT_SAMPLES.PodDelete.data.id },
  PodStarted: { touched: DS_KEY },
  PodReady: { touched: DS_KEY },
  PodNotReady: { touched: DS_KEY },
  PodFailed: { touched: DS_KEY },
  PodSucceeded: { touched: DS_KEY },
  PodDeleted: { touched: DS_KEY },
  CommandRejected: { touched: DS_KEY },
  PodDeleteRequested: { touched: DS_KEY },
  DaemonSetStatusUpdated: { touched: undefined },
  ClockTicked: { touched: 'all', tickedSlot: EVENT_SAMPLES.ClockTicked.data.slot },
  ShardAcquired: { touched: undefined },
};

/** The samples' PodDeleteRequested names another pod of the story: point it at the created one. */
function sampleOf(type: LogType): LogEvent {
  if (type !== 'PodDeleteRequested') return EVENT_SAMPLES[type] as LogEvent;
  const pod = EVENT_SAMPLES.PodCreate.data.pod;
  return { ...EVENT_SAMPLES.PodDeleteRequested, data: { ...EVENT_SAMPLES.PodDeleteRequested.data, podName: pod.name, podUid: pod.uid } };
}

describe('routeEvent: what each event type enqueues', () => {
  for (const [type, route] of Object.entries(expected) as [LogType, Route][]) {
    it(`${type} → ${JSON.stringify(route)}`, () => {
      assert.deepEqual(routeEvent(storyState(), sampleOf(type)), route);
    });
  }

  it('a pod report for a pod the state does not know touches nothing', () => {
    assert.deepEqual(routeEvent(initialState(), EVENT_SAMPLES.PodReady), { touched: undefined });
    assert.deepEqual(routeEvent(initialState(), EVENT_SAMPLES.PodDelete), { touched: undefined, observed: EVENT_SAMPLES.PodDelete.data.id });
  });

  it('routes a PodDeleted by the pod it names before the fold removes it', () => {
    const state = storyState();
    const route = routeEvent(state, EVENT_SAMPLES.PodDeleted);
    evolve(state, { seq: 10, subject: 'test', timeMs: 2_000_000, event: EVENT_SAMPLES.PodDeleted }, { slots: 64 });
    assert.equal(route.touched, DS_KEY);
    assert.deepEqual(routeEvent(state, EVENT_SAMPLES.PodDeleted), { touched: undefined }, 'after the fold the pod is gone');
  });
});
