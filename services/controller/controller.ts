// The controller's wiring: replay the log into the state, take slot leases, then fold live
// events, reconcile dirty DaemonSets of owned slots, publish their commands and status, and
// judge node liveness from heartbeats. All decisions come from libs/core; this file is I/O.

import { hostname } from 'node:os';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { clearFor, expect, lower, newExpectations, observe, satisfied } from '../../libs/core/expectations.js';
import { desiredSlots, rendezvousOwner } from '../../libs/core/assignment.js';
import { garbageOf } from '../../libs/core/daemon-view.js';
import { reconcile, statusChanged } from '../../libs/core/reconcile.js';
import { slowStartBatches } from '../../libs/core/slow-start.js';
import { dsKey, initialState, podKey, type DsKey, type DsStatus, type State } from '../../libs/core/state.js';
import type { DaemonSetStatusUpdated, Envelope, ShardAcquired } from '../../libs/events/types.js';
import { setAside } from '../../libs/nats/dead-letter.js';
import { createRejectCounters } from '../../libs/nats/reject-counters.js';
import { SlotLeases } from '../../libs/nats/leases.js';
import { Members, type MemberInfo } from '../../libs/nats/members.js';
import { loadSnapshot, saveSnapshot } from '../../libs/nats/snapshots.js';
import { openLogReader, type LogReader } from '../../libs/nats/log-reader.js';
import { publishEvent, publishMany, type PublishItem } from '../../libs/nats/publish.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { Lifecycle } from '../../libs/runtime/lifecycle.js';
import { WorkQueue } from '../../libs/runtime/work-queue.js';
import { commandSubject, dsStatusSubject, LEASE_BUCKET, shardSubject } from '../../libs/topology/names.js';
import { nodeSlot } from '../../libs/topology/slot.js';
import type { ControllerConfig } from './config.js';
import { startLivenessLoop, type LivenessLoop } from './liveness-loop.js';
import { SlotClock } from './slot-clock.js';

export interface ControllerHandle {
  readonly lifecycle: Lifecycle;
  /** The folded state (read-only for callers). */
  readonly state: State;
  stop(): Promise<void>;
}

const PROGRESS_EVERY_MS = 1000;
const PUBLISH_RETRY_MS = 1000;
/** Upper bound of the pause between reconcile passes (see WorkQueue). */
const MAX_PACE_MS = 250;
const REJECTS_LOG_EVERY_MS = 10_000;

export async function startController(nc: NatsConnection, config: ControllerConfig, log: Logger): Promise<ControllerHandle> {
  const lifecycle = new Lifecycle(log);
  const settings = await ensureTopology(nc, { slots: config.slots, replicas: config.streamReplicas });
  const slots = settings.slots;
  const js = jetstream(nc);
  const snapshot = await loadSnapshot(nc, slots);
  if (snapshot.found) log.info({ seq: snapshot.data.seq, bytes: snapshot.bytes }, 'snapshot loaded');
  else log.info({ reason: snapshot.reason }, 'starting without a snapshot: replaying the whole log');
  const state = snapshot.found ? snapshot.state : initialState();
  const exp = newExpectations();
  const lastStatus = new Map<DsKey, DsStatus>();
  const timers: NodeJS.Timeout[] = [];
  let invalid = 0;
  let live = false;
  let liveness: LivenessLoop | undefined;
  let stopping = false;

  const leases = new SlotLeases(await new Kvm(nc).open(LEASE_BUCKET), config.controllerId, config.leaseTtlMs, log);
  /** Slots acquired but not yet folded up to the log's end: no decisions for them yet. */
  const warming = new Set<number>();
  /** Slots being handed over: no new decisions for them. */
  const releasing = new Set<number>();
  const owns = (slot: number): boolean => !warming.has(slot) && !releasing.has(slot) && leases.valid(slot, Date.now()) !== undefined;

  // ---- the fold ------------------------------------------------------------------------------
  const onEnvelope = (env: Envelope): void => {
    const e = env.event;
    let touched: DsKey | 'all' | undefined;
    switch (e.type) {
      case 'DaemonSetApplied':
      case 'DaemonSetDeleted':
        touched = dsKey(e.data.namespace, e.data.name);
        break;
      case 'PodCreate':
        observe(exp, e.data.id);
        touched = dsKey(e.data.ds.namespace, e.data.ds.name);
        break;
      case 'PodDelete':
        observe(exp, e.data.id);
        touched = ownerKey(state, e.data.namespace, e.data.podName);
        break;
      case 'PodStarted':
      case 'PodReady':
      case 'PodNotReady':
      case 'PodFailed':
      case 'PodSucceeded':
      case 'PodDeleted':
      case 'CommandRejected':
        touched = ownerKey(state, e.data.namespace, e.data.podName);
        break;
      case 'NodeReady':
      case 'NodeNotReady':
        liveness?.verdictFolded(e.data.node);
        touched = 'all';
        break;
      case 'NodeRegistered':
      case 'NodeLabelsSet':
      case 'NodeTaintsSet':
      case 'NodeUnschedulableSet':
      case 'NodeDeregistered':
        touched = 'all';
        break;
      case 'PodDeleteRequested':
        touched = ownerKey(state, e.data.namespace, e.data.podName);
        break;
      case 'ClockTicked':
        clock.ticked(e.data.slot);
        touched = 'all';
        break;
      case 'DaemonSetStatusUpdated':
      case 'ShardAcquired':
        break;
    }
    evolve(state, env, { slots });
    if (e.type === 'CommandRejected') {
      log.warn({ node: e.data.node, reason: e.data.reason, command: e.data.commandId, epoch: e.data.epoch }, 'command rejected by agent');
    }
    if (!live || touched === undefined) return;
    if (touched === 'all') for (const key of state.daemonSets.keys()) markDirty(key);
    else markDirty(touched);
  };

  // Rejects are counted by class and summarised every REJECTS_LOG_EVERY_MS: a flood of hostile
  // messages must not become a flood of warn lines.
  const rejects = createRejectCounters();
  let rejectsLogged = 0;
  const onInvalid = (msg: { subject: string; seq: number; data: Uint8Array }, reason: string): void => {
    invalid++;
    skipPosition(state, msg.seq);
    const cls = rejects.count(reason);
    log.debug({ subject: msg.subject, seq: msg.seq, reason, class: cls }, 'log message set aside');
    setAside(js, 'controller', msg, reason).catch((err: unknown) => log.error({ err }, 'dead-letter publish failed'));
  };

  // ---- reconcile loop ----------------------------------------------------------------------------
  /** DaemonSets woken while their slot was held but not usable; marked again once it is. */
  const deferred = new Set<DsKey>();
  const redoDeferred = (): void => {
    for (const key of [...deferred]) {
      const ds = state.daemonSets.get(key);
      if (!ds || !leases.heldSlots().has(ds.slot)) deferred.delete(key);
      else if (owns(ds.slot)) {
        deferred.delete(key);
        markDirty(key);
      }
    }
  };
  const queue = new WorkQueue<DsKey>({
    maxPaceMs: MAX_PACE_MS,
    onError: (err) => log.error({ err }, 'reconcile pass failed'),
    process: (keys) => reconcilePass(keys),
  });
  const clock = new SlotClock({
    js,
    log,
    slotOf: (key) => state.daemonSets.get(key)?.slot,
    owns,
    holds: (slot) => leases.heldSlots().has(slot),
    defer: (target) => {
      if ('key' in target) deferred.add(target.key);
      else for (const [key, ds] of state.daemonSets) if (ds.slot === target.slot) deferred.add(key);
    },
  });

  function markDirty(key: DsKey): void {
    const ds = state.daemonSets.get(key);
    if (ds && !owns(ds.slot)) {
      // Held but not usable right now (warming up, lapsed renewal): keep the work for when it is.
      if (leases.heldSlots().has(ds.slot)) deferred.add(key);
      return;
    }
    if (!ds && !garbageOf(state, key).some((p) => owns(p.slot))) return;
    queue.add(key);
  }

  /** Every DaemonSet of an owned slot, and every key with garbage there (the resync's work). */
  function ownedKeys(): DsKey[] {
    const keys: DsKey[] = [];
    for (const [key, ds] of state.daemonSets) if (owns(ds.slot)) keys.push(key);
    for (const key of garbageKeys()) if (garbageOf(state, key).some((p) => owns(p.slot))) keys.push(key);
    return keys;
  }

  /** Keys queued by the resync and not yet reconciled: a pass of only these is the resync's cost. */
  const resyncKeys = new Set<DsKey>();

  /** One pass over `keys`: reconcile each, publish what it decided. Resolves to its CPU cost (ms). */
  async function reconcilePass(keys: DsKey[]): Promise<number> {
    let onlyResync = keys.length > 0;
    for (const k of keys) if (!resyncKeys.delete(k)) onlyResync = false;
    const nowMs = Date.now();
    const passStart = performance.now();
    const items: PublishItem[] = [];
    const idsOf = new Map<string, DsKey>();
    for (const key of keys) {
      const ds = state.daemonSets.get(key);
      // No DaemonSet: its key may still own garbage (pods of a dead owner) in some slot.
      const slot = ds?.slot ?? garbageOf(state, key)[0]?.slot;
      if (slot === undefined) {
        clearFor(exp, key);
        lastStatus.delete(key);
        continue;
      }
      const lease = owns(slot) ? leases.valid(slot, Date.now()) : undefined;
      if (!lease) {
        if (leases.heldSlots().has(slot)) deferred.add(key);
        continue;
      }
      if (!satisfied(exp, key, nowMs)) continue;
      // Decide on the log's own clock (the stream time of the last event folded), so that a
      // replay of the log makes the same decisions; the wall clock only schedules ticks.
      const d = reconcile(state, key, { nowMs: state.lastTimeMs, epoch: lease.epoch, burst: config.burst });
      const ids = d.commands.map((c) => c.data.id);
      expect(exp, key, ids, nowMs);
      for (const c of d.commands) {
        idsOf.set(c.data.id, key);
        items.push({ subject: commandSubject(c.data.slot, c.data.node), event: c, msgId: c.data.id });
      }
      if (d.commands.length) {
        const creates = d.commands.filter((c) => c.type === 'PodCreate').length;
        log.info({ ds: key, phase: d.phase, creates, deletes: d.commands.length - creates, epoch: lease.epoch }, 'reconciled');
      }
      if (d.status && ds) {
        const prev = lastStatus.get(key);
        if (!prev || statusChanged(prev, d.status)) {
          lastStatus.set(key, d.status);
          const ev: DaemonSetStatusUpdated = {
            type: 'DaemonSetStatusUpdated',
            v: 1,
            data: { namespace: ds.namespace, name: ds.name, uid: ds.uid, status: d.status },
          };
          items.push({ subject: dsStatusSubject(ds.slot, ds.namespace, ds.name), event: ev });
        }
      }
      if (d.wakeAtMs !== undefined) clock.wakeAt(key, d.wakeAtMs);
    }
    const costMs = performance.now() - passStart;
    if (onlyResync) log.debug({ daemonSets: keys.length, ms: Number(costMs.toFixed(3)), found: items.length }, 'resync pass');
    if (!items.length) return costMs;
    const failed = (item: PublishItem, err: unknown): void => {
      if (err !== undefined) log.error({ err, subject: item.subject, type: item.event.type }, 'publish failed');
      if (item.msgId) {
        lower(exp, [item.msgId]);
        const key = idsOf.get(item.msgId);
        if (key) queue.addAfter(key, PUBLISH_RETRY_MS);
      } else if (item.event.type === 'DaemonSetStatusUpdated') {
        const key = dsKey(item.event.data.namespace, item.event.data.name);
        lastStatus.delete(key);
        queue.addAfter(key, PUBLISH_RETRY_MS);
      }
    };
    // Deletes and status go out at once; creates in slow-start batches (1, 2, 4, …) that stop
    // at the first failure, the skipped ones taken off the expectations (Kubernetes' syncNodes).
    const creates = items.filter((i) => i.event.type === 'PodCreate');
    const others = items.filter((i) => i.event.type !== 'PodCreate');
    const othersDone = publishMany(js, others).then((results) =>
      results.forEach((r, i) => {
        if (r.status === 'rejected') failed(others[i]!, r.reason);
      }),
    );
    let next = 0;
    for (const size of slowStartBatches(creates.length)) {
      const batch = creates.slice(next, next + size);
      next += size;
      const results = await publishMany(js, batch);
      let anyFailed = false;
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          anyFailed = true;
          failed(batch[i]!, r.reason);
        }
      });
      if (anyFailed) {
        const skipped = creates.slice(next);
        if (skipped.length) log.warn({ skipped: skipped.length }, 'slow start: creates skipped after a failed batch');
        for (const item of skipped) failed(item, undefined);
        break;
      }
    }
    await othersDone;
    return costMs;
  }

  // ---- replay ------------------------------------------------------------------------------------
  lifecycle.to('replaying');
  const replayStart = Date.now();
  const reader: LogReader = await openLogReader({ nc, fromSeq: state.seq + 1, onEnvelope, onInvalid, log });
  const progress = setInterval(() => {
    const elapsed = (Date.now() - replayStart) / 1000;
    log.info({ seq: state.seq, rate: Math.round(state.seq / Math.max(elapsed, 0.001)) }, 'replaying');
  }, PROGRESS_EVERY_MS);
  const caught = await reader.caughtUp;
  clearInterval(progress);
  log.info(
    { seq: caught.seq, events: caught.count, fromSeq: snapshot.found ? snapshot.data.seq + 1 : 1, ms: Date.now() - replayStart, invalid, rejected: rejects.snapshot() },
    'replay caught up',
  );
  rejectsLogged = rejects.total();
  const rejectTimer = setInterval(() => {
    if (rejects.total() === rejectsLogged) return;
    rejectsLogged = rejects.total();
    log.warn({ rejected: rejects.snapshot(), total: rejectsLogged }, 'log messages set aside');
  }, REJECTS_LOG_EVERY_MS);
  rejectTimer.unref();
  timers.push(rejectTimer);

  // ---- shards: membership, leases, handover -------------------------------------------------------
  // Slots are split among live controllers by rendezvous hashing. A controller acquires the
  // slots it should own once they are free (or their lease expired), folds the log to its end
  // before deciding anything for them ("warming"), and hands over slots that now belong to a
  // newcomer by draining: stop deciding, finish the current pass, release the lease.
  const members = await Members.open(nc, config.leaseTtlMs, config.streamReplicas);
  const me: MemberInfo = { id: config.controllerId, startedMs: Date.now(), pid: process.pid, host: hostname() };
  let memberIds: string[] = [config.controllerId];
  /** Slots whose free lease we have seen, and since when (to take orphans nobody takes). */
  const freeSince = new Map<number, number>();

  async function acquire(slot: number): Promise<boolean> {
    const r = await leases.tryAcquire(slot, Date.now());
    if (!r.acquired) return false;
    warming.add(slot);
    const ev: ShardAcquired = { type: 'ShardAcquired', v: 1, data: { slot, owner: config.controllerId, epoch: r.lease.epoch } };
    await publishEvent(js, { subject: shardSubject(slot), event: ev });
    return true;
  }

  /** Acquires what we should own (and orphans unowned for longer than the TTL), then warms them up. */
  async function takeSlots(): Promise<void> {
    if (stopping) return;
    const nowMs = Date.now();
    const desired = desiredSlots(config.controllerId, memberIds, slots);
    const got: number[] = [];
    for (let slot = 0; slot < slots && !stopping; slot++) {
      if (leases.heldSlots().has(slot)) continue;
      if (desired.has(slot)) {
        if (await acquire(slot)) got.push(slot);
        continue;
      }
      // Not ours by assignment: take it only if nobody has held it for longer than the TTL.
      const seen = await leases.inspect(slot, nowMs);
      if (!seen.expired) {
        freeSince.delete(slot);
        continue;
      }
      const since = freeSince.get(slot) ?? nowMs;
      freeSince.set(slot, since);
      if (nowMs - since > config.leaseTtlMs) {
        log.error({ shard: slot, unownedMs: nowMs - since, assignedTo: rendezvousOwner(slot, memberIds) }, 'slot unowned for longer than the lease TTL: taking it');
        if (await acquire(slot)) got.push(slot);
      }
    }
    if (!got.length) return;
    // A new owner knows every command already in flight before it decides: fold up to the
    // log's end as of now (our ShardAcquired events are the last thing we wrote).
    const target = await reader.lastSeqNow();
    await waitForSeq(target);
    for (const slot of got) {
      warming.delete(slot);
      freeSince.delete(slot);
    }
    log.info({ slots: got.length, held: leases.heldSlots().size, first: got[0], last: got[got.length - 1] }, 'slots acquired');
    const owned = new Set(got);
    for (const [key, ds] of state.daemonSets) if (owned.has(ds.slot)) markDirty(key);
    for (const key of garbageKeys()) markDirty(key);
  }

  /** Voluntary handover of the slots that now belong to another live member. */
  async function handOver(): Promise<void> {
    const desired = desiredSlots(config.controllerId, memberIds, slots);
    const leaving = [...leases.heldSlots().keys()].filter((slot) => !desired.has(slot));
    if (!leaving.length) return;
    for (const slot of leaving) releasing.add(slot);
    await queue.current; // the current pass finishes; no new one decides for them
    for (const slot of leaving) {
      await leases.release(slot);
      releasing.delete(slot);
      forgetSlot(slot);
    }
    log.info({ slots: leaving.length, held: leases.heldSlots().size, members: memberIds.length }, 'slots handed over');
  }

  /** Drops what we were doing for a slot we no longer own. */
  function forgetSlot(slot: number): void {
    for (const [key, ds] of state.daemonSets) {
      if (ds.slot !== slot) continue;
      clearFor(exp, key);
      queue.forget(key);
    }
  }

  function garbageKeys(): string[] {
    const keys = new Set<string>();
    for (const pod of state.pods.values()) {
      if (pod.owner && !state.daemonSets.has(`${pod.namespace}/${pod.owner.name}`)) keys.add(`${pod.namespace}/${pod.owner.name}`);
    }
    return [...keys];
  }

  function waitForSeq(seq: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (state.seq >= seq || stopping) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
  }

  async function maintainMembership(): Promise<void> {
    await members.refresh(me);
    const ids = (await members.list()).map((m) => m.id);
    if (!ids.includes(config.controllerId)) ids.push(config.controllerId);
    ids.sort();
    if (ids.join(',') !== memberIds.join(',')) log.info({ members: ids }, 'controller membership changed');
    memberIds = ids;
  }

  live = true;
  queue.start();
  lifecycle.to('live', { seq: state.seq, nodes: state.nodes.size, daemonSets: state.daemonSets.size });
  await maintainMembership();
  await takeSlots();

  // One maintenance loop, never two at once: renew, refresh membership, hand over, acquire.
  let maintaining = false;
  const maintenance = async (renew: boolean): Promise<void> => {
    if (maintaining || stopping) return;
    maintaining = true;
    try {
      if (renew) {
        const lost = await leases.renewAll(Date.now());
        for (const slot of lost) {
          log.error({ shard: slot }, 'slot lost: another controller owns it now');
          forgetSlot(slot);
        }
        redoDeferred();
        await maintainMembership();
        await handOver();
      }
      await takeSlots();
      redoDeferred();
    } finally {
      maintaining = false;
    }
  };
  const leaseTimer = setInterval(() => {
    maintenance(true).catch((err: unknown) => log.error({ err }, 'lease maintenance failed'));
  }, Math.max(100, Math.floor(config.leaseTtlMs / 3)));
  timers.push(leaseTimer);
  // Slots we should own but do not hold are retried quickly (a handover leaves them free).
  const acquireTimer = setInterval(() => {
    const desired = desiredSlots(config.controllerId, memberIds, slots);
    if ([...desired].some((slot) => !leases.heldSlots().has(slot))) {
      maintenance(false).catch((err: unknown) => log.error({ err }, 'slot acquisition failed'));
    }
  }, 250);
  timers.push(acquireTimer);

  liveness = await startLivenessLoop({
    nc,
    js,
    state,
    graceMs: config.nodeGraceMs,
    unhealthyThreshold: config.nodeUnhealthyPercent / 100,
    judges: (node) => owns(nodeSlot(node, slots)),
    log,
  });

  // Level-triggered safety net (Kubernetes controllers' resync): every DaemonSet of an owned slot
  // is reconciled again at this period whatever the events, so no lost wake-up can stall anything
  // for longer. A pass that finds nothing to do publishes nothing.
  if (config.resyncMs > 0) {
    const resyncTimer = setInterval(() => {
      redoDeferred();
      for (const key of ownedKeys()) {
        resyncKeys.add(key);
        queue.add(key);
      }
    }, config.resyncMs);
    resyncTimer.unref();
    timers.push(resyncTimer);
  }

  // ---- snapshots -----------------------------------------------------------------------------
  // One writer: the owner of slot 0 (every controller folds the whole log, so any would do).
  let lastSnapshot = { seq: snapshot.found ? snapshot.data.seq : 0, atMs: Date.now() };
  let snapshotting = false;
  const snapshotTimer = setInterval(() => {
    const since = state.seq - lastSnapshot.seq;
    const dueByCount = config.snapshotEveryEvents > 0 && since >= config.snapshotEveryEvents;
    const dueByTime = config.snapshotEveryMs > 0 && since > 0 && Date.now() - lastSnapshot.atMs >= config.snapshotEveryMs;
    if (snapshotting || stopping || !owns(0) || !(dueByCount || dueByTime)) return;
    snapshotting = true;
    const started = Date.now();
    saveSnapshot(nc, state, slots).then(
      ({ seq, bytes }) => {
        lastSnapshot = { seq, atMs: Date.now() };
        log.info({ seq, bytes, ms: Date.now() - started }, 'snapshot written');
      },
      (err: unknown) => log.error({ err }, 'snapshot failed'),
    ).finally(() => (snapshotting = false));
  }, 1000);
  timers.push(snapshotTimer);

  return {
    lifecycle,
    state,
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      lifecycle.to('stopping');
      for (const t of timers) clearInterval(t);
      clock.stop();
      liveness?.stop();
      await reader.stop();
      await queue.shutDown();
      await leases.releaseAll();
      await members.leave(config.controllerId).catch((err: unknown) => log.warn({ err }, 'leaving the member list failed'));
      lifecycle.to('stopped');
    },
  };
}

function ownerKey(state: State, namespace: string, podName: string): DsKey | undefined {
  const pod = state.pods.get(podKey(namespace, podName));
  return pod?.owner ? dsKey(pod.namespace, pod.owner.name) : undefined;
}
