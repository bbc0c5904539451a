// The controller's wiring: read the global facts, take this controller's share of the slots and
// read only those (slot-reading), fold what arrives and route it to the reconciler, judge node
// liveness, resync, and write snapshots of the parts it holds. Each concern is a module of its
// own; all decisions come from libs/core.
//
// Shutdown order: stop the timers and the liveness loop, stop reading, let the running reconcile
// pass finish, then give the leases back (the service's main drains the connection after).

import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { initialState, type State } from '../../libs/core/state.js';
import type { Envelope } from '../../libs/events/types.js';
import { CopyBudget, setAside } from '../../libs/nats/dead-letter.js';
import { SlotLeases } from '../../libs/nats/leases.js';
import { Members } from '../../libs/nats/members.js';
import { createRejectCounters } from '../../libs/nats/reject-counters.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { Lifecycle } from '../../libs/runtime/lifecycle.js';
import { LEASE_BUCKET, shardSubject } from '../../libs/topology/names.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { nodeSlot } from '../../libs/topology/slot.js';
import type { ControllerConfig } from './config.js';
import { routeEvent } from './fold-routing.js';
import { startLivenessLoop, type LivenessLoop } from './liveness-loop.js';
import { Reconciler } from './reconciler.js';
import { SlotOwner } from './slot-owner.js';
import { SlotReading } from './slot-reading.js';
import { startSnapshotter } from './snapshotter.js';

export interface ControllerHandle {
  readonly lifecycle: Lifecycle;
  /** The folded state (read-only for callers). */
  readonly state: State;
  /** Log messages read so far (every reader: the global facts and each slot held). */
  readCount(): number;
  /** The slots being read now. */
  slotsRead(): number[];
  stop(): Promise<void>;
}

const PROGRESS_EVERY_MS = 1000;
const REJECTS_LOG_EVERY_MS = 10_000;
/** How often the count of log messages read is logged (`log read`, while it changes). */
const READ_LOG_EVERY_MS = 5_000;

export async function startController(nc: NatsConnection, config: ControllerConfig, log: Logger): Promise<ControllerHandle> {
  const lifecycle = new Lifecycle(log);
  const settings = await ensureTopology(nc, { slots: config.slots, replicas: config.streamReplicas });
  const slots = settings.slots;
  const js = jetstream(nc);
  const state = initialState();
  const timers: NodeJS.Timeout[] = [];
  let live = false;
  let stopping = false;
  let liveness: LivenessLoop | undefined;

  const leases = new SlotLeases(await new Kvm(nc).open(LEASE_BUCKET), config.controllerId, config.leaseTtlMs, log);
  const members = await Members.open(nc, config.leaseTtlMs, config.streamReplicas);
  // The owner's hooks reach the reconciler and the reader, made below; they run only once live.
  const owner: SlotOwner = new SlotOwner({
    controllerId: config.controllerId,
    slots,
    leaseTtlMs: config.leaseTtlMs,
    leases,
    members,
    announce: (event) => publishEvent(js, { subject: shardSubject(event.data.slot), event }),
    log,
    hooks: {
      foldedToEnd: (got) => reading.acquire(got),
      acquired: (got) => reconciler.acquired(got),
      passFinished: () => reconciler.passFinished(),
      released: (slot) => {
        reconciler.forgetSlot(slot);
        void reading.release(slot).catch((err: unknown) => log.error({ err, shard: slot }, 'releasing a slot failed'));
      },
      handingOver: (slot) => snapshotter?.writePart(slot) ?? Promise.resolve(),
      renewed: () => reconciler.redoDeferred(),
    },
  });
  const reconciler = new Reconciler({ state, js, log, burst: config.burst, lease: (slot) => owner.lease(slot), holds: (slot) => owner.holds(slot) });

  // ---- the fold ------------------------------------------------------------------------------
  const onEnvelope = (env: Envelope): void => {
    const e = env.event;
    const route = routeEvent(state, e);
    reconciler.settle(route);
    if (route.verdictFor !== undefined) liveness?.verdictFolded(route.verdictFor);
    evolve(state, env, { slots, inOrder: false });
    if (e.type === 'CommandRejected') {
      log.warn({ node: e.data.node, reason: e.data.reason, command: e.data.commandId, epoch: e.data.epoch }, 'command rejected by agent');
    }
    if (live) reconciler.touch(route);
  };

  // Rejects are counted by class and summarised every REJECTS_LOG_EVERY_MS: a flood of hostile
  // messages must not become a flood of warn lines.
  const rejects = createRejectCounters();
  const copies = new CopyBudget();
  let invalid = 0;
  const onInvalid = (msg: { subject: string; seq: number; data: Uint8Array }, reason: string): void => {
    invalid++;
    skipPosition(state, msg.seq);
    const cls = rejects.count(reason);
    log.debug({ subject: msg.subject, seq: msg.seq, reason, class: cls }, 'log message set aside');
    if (!copies.take(cls, Date.now())) return; // a flood: counted, the original stays in the log
    setAside(js, 'controller', cls, msg, reason).catch((err: unknown) => log.error({ err }, 'dead-letter publish failed'));
  };

  // ---- the global facts ----------------------------------------------------------------------------
  // Every controller holds every node (liveness, eligibility); each slot is read once owned.
  lifecycle.to('replaying');
  const replayStart = Date.now();
  const reading = new SlotReading({ nc, state, slots, onEnvelope, onInvalid, log });
  let snapshotter: ReturnType<typeof startSnapshotter> | undefined;
  const progress = setInterval(() => {
    const elapsed = (Date.now() - replayStart) / 1000;
    log.info({ read: reading.read, rate: Math.round(reading.read / Math.max(elapsed, 0.001)) }, 'replaying');
  }, PROGRESS_EVERY_MS);
  const global = await reading.startGlobal();
  clearInterval(progress);
  log.info(
    { seq: state.global.seq, events: reading.read, fromSeq: global.fromSeq, snapshot: global.snapshot, ms: Date.now() - replayStart, invalid, rejected: rejects.snapshot() },
    'replay caught up',
  );
  let readLogged = -1;
  const logRead = (): void => {
    if (reading.read === readLogged) return;
    readLogged = reading.read;
    log.info({ read: reading.read, slots: reading.reading().length, nodes: state.nodes.size, daemonSets: state.daemonSets.size, pods: state.pods.size }, 'log read');
  };
  timers.push(setInterval(logRead, READ_LOG_EVERY_MS));
  let rejectsLogged = rejects.total();
  timers.push(setInterval(() => {
    if (rejects.total() === rejectsLogged) return;
    rejectsLogged = rejects.total();
    log.warn({ rejected: rejects.snapshot(), total: rejectsLogged, notCopied: copies.skipped }, 'log messages set aside');
  }, REJECTS_LOG_EVERY_MS));

  // ---- live ------------------------------------------------------------------------------------------
  live = true;
  reconciler.start();
  lifecycle.to('live', { seq: state.seq, nodes: state.nodes.size, daemonSets: state.daemonSets.size });
  await owner.start();

  liveness = await startLivenessLoop({
    nc,
    js,
    state,
    graceMs: config.nodeGraceMs,
    unhealthyThreshold: config.nodeUnhealthyPercent / 100,
    judges: (node) => owner.owns(nodeSlot(node, slots)),
    log,
  });

  // Level-triggered safety net (Kubernetes controllers' resync): every DaemonSet of an owned slot
  // is reconciled again at this period whatever the events, so no lost wake-up can stall anything
  // for longer. A pass that finds nothing to do publishes nothing.
  if (config.resyncMs > 0) timers.push(setInterval(() => reconciler.resync(), config.resyncMs));

  // Each controller writes the parts it holds: its slots, and the global facts if it owns slot 0.
  snapshotter = startSnapshotter({
    nc,
    state,
    slots,
    policy: { everyEvents: config.snapshotEveryEvents, everyMs: config.snapshotEveryMs },
    parts: () => [...(owner.owns(0) ? (['global'] as const) : []), ...reading.reading().filter((slot) => owner.holds(slot))],
    folded: () => reading.read,
    loadedFrom: (part) => reading.loadedFrom(part),
    log,
  });
  for (const t of timers) t.unref();

  return {
    lifecycle,
    state,
    readCount: () => reading.read,
    slotsRead: () => reading.reading(),
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      lifecycle.to('stopping');
      for (const t of timers) clearInterval(t);
      snapshotter?.stop();
      liveness?.stop();
      await reading.stop();
      logRead();
      await reconciler.stop();
      await owner.stop();
      lifecycle.to('stopped');
    },
  };
}
