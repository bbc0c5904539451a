// The liveness loop: heartbeats in, NodeReady/NodeNotReady verdicts out, for the nodes whose slot
// this controller owns (Kubernetes' node lifecycle controller, monitorNodeHealth). The decision is
// libs/core/liveness.ts; this module keeps the heartbeat times, knows when the controller itself
// was blind (bus-sight.ts), publishes the verdicts, and says at a bounded rate when it held them.

import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeEvent } from '../../libs/codec/codec.js';
import { judgeLiveness } from '../../libs/core/liveness.js';
import type { State } from '../../libs/core/state.js';
import { checkAuthor } from '../../libs/nats/authorship.js';
import { readLastHeartbeats } from '../../libs/nats/heartbeats.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { HEARTBEAT_ALL_FILTER, lifeSubject } from '../../libs/topology/names.js';
import { watchSight, type SightWatch } from './bus-sight.js';

const HELD_LOG_EVERY_MS = 10_000;

export interface LivenessLoopOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly state: State;
  readonly graceMs: number;
  readonly unhealthyThreshold: number;
  /** Whether this controller judges `node` now (it owns the node's slot). */
  readonly judges: (node: string) => boolean;
  readonly log: Logger;
}

export interface LivenessLoop {
  /** A verdict for `node` was folded: it may be judged again. */
  verdictFolded(node: string): void;
  stop(): void;
}

export async function startLivenessLoop(o: LivenessLoopOptions): Promise<LivenessLoop> {
  const lastSeen = new Map<string, number>();
  const pending = new Set<string>();
  const hbSub: Subscription = o.nc.subscribe(HEARTBEAT_ALL_FILTER, {
    callback: (err, msg) => {
      if (err) return;
      const r = decodeEvent(msg.data);
      if (!r.ok || r.event.type !== 'Heartbeat' || !checkAuthor(msg.subject, r.event).ok) return;
      const node = o.state.nodes.get(r.event.data.node);
      if (node && node.incarnation !== r.event.data.incarnation) return;
      lastSeen.set(r.event.data.node, Date.now());
    },
  });
  for (const [node, ms] of await readLastHeartbeats(o.nc)) if (!lastSeen.has(node)) lastSeen.set(node, ms);

  const everyMs = Math.max(50, Math.min(1000, Math.floor(o.graceMs / 4)));
  const sight: SightWatch = watchSight(o.nc, everyMs, o.log);
  let heldLoggedMs = 0;
  const timer = setInterval(() => {
    const nowMs = Date.now();
    const d = judgeLiveness(o.state, {
      lastSeenMs: lastSeen,
      nowMs,
      graceMs: o.graceMs,
      sightSinceMs: sight.tracker.sightSinceMs(),
      unhealthyThreshold: o.unhealthyThreshold,
      judges: o.judges,
      pending,
    });
    if (d.held && nowMs - heldLoggedMs >= HELD_LOG_EVERY_MS) {
      heldLoggedMs = nowMs;
      o.log.warn(d.held, d.held.reason === 'blind' ? 'node liveness: the controller cannot see the bus; NotReady verdicts held' : 'node liveness: too many nodes silent at once; NotReady verdicts held (is the controller or the bus the one in trouble?)');
    }
    for (const v of d.verdicts) {
      pending.add(v.data.node);
      o.log.info({ node: v.data.node, verdict: v.type }, 'node liveness');
      publishEvent(o.js, { subject: lifeSubject(v.data.node), event: v }).catch((err: unknown) => {
        pending.delete(v.data.node);
        o.log.error({ err, node: v.data.node }, 'liveness publish failed');
      });
    }
  }, everyMs);
  timer.unref();

  return {
    verdictFolded: (node) => pending.delete(node),
    stop(): void {
      clearInterval(timer);
      sight.stop();
      hbSub.unsubscribe();
    },
  };
}
