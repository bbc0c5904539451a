// The CLI's read path: fold the log (up to a point, for time travel) into the same state the
// controller holds, with the same pure evolve.

import type { NatsConnection } from '@nats-io/transport-node';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { eventRecordOf } from '../../libs/core/event-records.js';
import { initialState, type EventRecord, type State } from '../../libs/core/state.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { readTopology } from '../../libs/nats/topology.js';
import { DEFAULT_SLOTS } from '../../libs/topology/names.js';

export interface LoadedState {
  readonly state: State;
  readonly events: EventRecord[];
  readonly invalid: number;
}

export interface LoadOptions {
  /** Fold nothing after this sequence. */
  readonly untilSeq?: number;
  /** Fold nothing written after this time (ms). */
  readonly untilMs?: number;
  /** Keep Kubernetes-style event records (describe, events). */
  readonly withEvents?: boolean;
}

export async function loadState(nc: NatsConnection, opts: LoadOptions = {}): Promise<LoadedState> {
  const settings = await readTopology(nc);
  const state = initialState();
  const events: EventRecord[] = [];
  let invalid = 0;
  if (!settings) return { state, events, invalid };
  let passedTime = false;
  const reader = await openLogReader({
    nc,
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
      evolve(state, env, { slots: settings.slots ?? DEFAULT_SLOTS });
    },
    onInvalid: (msg) => {
      invalid++;
      if (!passedTime) skipPosition(state, msg.seq);
    },
  });
  await reader.caughtUp;
  await reader.stop();
  return { state, events, invalid };
}
