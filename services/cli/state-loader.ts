// The CLI's read path: fold the log (up to a point, for time travel) into the same state the
// controller holds, with the same pure evolve.

import type { NatsConnection } from '@nats-io/transport-node';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { eventRecordOf } from '../../libs/core/event-records.js';
import { initialState, type EventRecord, type State } from '../../libs/core/state.js';
import type { Envelope } from '../../libs/events/types.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { loadSnapshot } from '../../libs/nats/snapshots.js';
import { readTopology } from '../../libs/nats/topology.js';
import { DEFAULT_SLOTS } from '../../libs/topology/names.js';

export interface LoadedState {
  readonly state: State;
  readonly events: EventRecord[];
  readonly invalid: number;
  /** The snapshot sequence the fold started from, if it used one. */
  readonly fromSnapshot: number | undefined;
}

export interface LoadOptions {
  /** Fold nothing after this sequence. */
  readonly untilSeq?: number;
  /** Fold nothing written after this time (ms). */
  readonly untilMs?: number;
  /** Keep Kubernetes-style event records (describe, events). */
  readonly withEvents?: boolean;
  /**
   * Sees every envelope that is folded, with the state just before it is folded (the log's
   * history: `rollout history --revision` times each pod from its PodCreate to its PodReady).
   */
  readonly onEnvelope?: (env: Envelope, before: State) => void;
  /** Start from the newest snapshot when it fits (default true; never with events or onEnvelope, which need the whole log). */
  readonly useSnapshot?: boolean;
}

export async function loadState(nc: NatsConnection, opts: LoadOptions = {}): Promise<LoadedState> {
  const settings = await readTopology(nc);
  const events: EventRecord[] = [];
  let invalid = 0;
  if (!settings) return { state: initialState(), events, invalid, fromSnapshot: undefined };
  // Start from the newest snapshot when it does not lie past the point asked for. Events
  // (describe, events) and log history need the log itself, so they fold from the start.
  let state = initialState();
  let fromSnapshot: number | undefined;
  let readFrom = 1;
  if (!opts.withEvents && !opts.onEnvelope && opts.useSnapshot !== false) {
    const snap = await loadSnapshot(nc, settings.slots);
    // Its parts may reach past where the log is read from (snap.state.seq is the furthest).
    const fits = snap.found && snap.state.seq <= (opts.untilSeq ?? Number.MAX_SAFE_INTEGER) && snap.data.lastTimeMs <= (opts.untilMs ?? Number.MAX_SAFE_INTEGER);
    if (snap.found && fits) {
      state = snap.state;
      fromSnapshot = snap.data.seq;
      readFrom = snap.data.seq + 1;
    }
  }
  let passedTime = false;
  const reader = await openLogReader({
    nc,
    fromSeq: readFrom,
    ...(opts.untilSeq !== undefined ? { untilSeq: opts.untilSeq } : {}),
    onEnvelope: (env) => {
      if (passedTime || (opts.untilMs !== undefined && env.timeMs > opts.untilMs)) {
        passedTime = true;
        return;
      }
      if (opts.withEvents) {
        const rec = eventRecordOf(state, env);
        if (rec) events.push(rec);
      }
      opts.onEnvelope?.(env, state);
      evolve(state, env, { slots: settings.slots ?? DEFAULT_SLOTS });
    },
    onInvalid: (msg) => {
      invalid++;
      if (!passedTime) skipPosition(state, msg.seq);
    },
  });
  await reader.caughtUp;
  await reader.stop();
  return { state, events, invalid, fromSnapshot };
}
