// The reconciler: DaemonSet keys in (from event routing, the resync, handovers), commands and
// status out. Each pass runs the pure reconcile over the whole current view of each dirty
// DaemonSet of an owned slot and publishes what it decided, as Kubernetes' syncNodes does:
// deletes and status at once, creates in slow-start batches that stop at the first failure, every
// command counted as an expectation until it is seen back on the log.
//
// Work for a slot that is held but not usable right now (warming up, a lease renewal lapsed) is
// deferred, never dropped, and redone when the slot owner says leases were renewed.

import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { garbageOf } from '../../libs/core/daemon-view.js';
import { clearFor, expect, lower, newExpectations, observe, satisfied } from '../../libs/core/expectations.js';
import { reconcile, statusChanged } from '../../libs/core/reconcile.js';
import { slowStartBatches } from '../../libs/core/slow-start.js';
import { dsKey, type DsKey, type DsStatus, type State, decisionTimeMs } from '../../libs/core/state.js';
import type { DaemonSetStatusUpdated } from '../../libs/events/types.js';
import type { HeldLease } from '../../libs/nats/leases.js';
import { publishEvent, publishMany, type PublishItem } from '../../libs/nats/publish.js';
import { WorkQueue } from '../../libs/runtime/work-queue.js';
import { clockSubject, commandSubject, dsStatusSubject } from '../../libs/topology/names.js';
import type { Route } from './fold-routing.js';
import { SlotClock } from './slot-clock.js';

const PUBLISH_RETRY_MS = 1000;
/** Upper bound of the pause between reconcile passes (see WorkQueue). */
const MAX_PACE_MS = 250;

export interface ReconcilerOptions {
  readonly state: State;
  readonly js: JetStreamClient;
  readonly log: Logger;
  /** Kubernetes' BurstReplicas: creates (and, apart, deletes) per DaemonSet per pass. */
  readonly burst: number;
  /** The lease to decide `slot` under, when it is ours to decide now. */
  readonly lease: (slot: number) => HeldLease | undefined;
  /** Whether `slot` is held at all (usable or not). */
  readonly holds: (slot: number) => boolean;
}

export class Reconciler {
  private readonly exp = newExpectations();
  private readonly lastStatus = new Map<DsKey, DsStatus>();
  /** DaemonSets woken while their slot was held but not usable; marked again once it is. */
  private readonly deferred = new Set<DsKey>();
  /** Keys queued by the resync and not yet reconciled: a pass of only these is the resync's cost. */
  private readonly resyncKeys = new Set<DsKey>();
  private readonly queue: WorkQueue<DsKey>;
  readonly clock: SlotClock;

  constructor(private readonly o: ReconcilerOptions) {
    this.queue = new WorkQueue<DsKey>({
      maxPaceMs: MAX_PACE_MS,
      onError: (err) => o.log.error({ err }, 'reconcile pass failed'),
      process: (keys) => this.pass(keys),
    });
    this.clock = new SlotClock({
      publishTick: (slot, reason) => publishEvent(o.js, { subject: clockSubject(slot), event: { type: 'ClockTicked', v: 1, data: { slot, reason } } }),
      log: o.log,
      slotOf: (key) => o.state.daemonSets.get(key)?.slot,
      owns: (slot) => o.lease(slot) !== undefined,
      holds: o.holds,
      defer: (target) => {
        if ('key' in target) this.deferred.add(target.key);
        else for (const [key, ds] of o.state.daemonSets) if (ds.slot === target.slot) this.deferred.add(key);
      },
    });
  }

  /** Passes begin (the controller has replayed the log and is live). */
  start(): void {
    this.queue.start();
  }

  /** Bookkeeping for an event about to be folded (see fold-routing.ts). */
  settle(route: Route): void {
    if (route.observed !== undefined) observe(this.exp, route.observed);
    if (route.tickedSlot !== undefined) this.clock.ticked(route.tickedSlot);
  }

  /** Reconcile what a folded event touched. */
  touch(route: Route): void {
    if (route.touched === 'all') for (const key of this.o.state.daemonSets.keys()) this.markDirty(key);
    else if (route.touched !== undefined) this.markDirty(route.touched);
  }

  markDirty(key: DsKey): void {
    const ds = this.o.state.daemonSets.get(key);
    if (ds && this.o.lease(ds.slot) === undefined) {
      // Held but not usable right now (warming up, lapsed renewal): keep the work for when it is.
      if (this.o.holds(ds.slot)) this.deferred.add(key);
      return;
    }
    if (!ds && !garbageOf(this.o.state, key).some((p) => this.o.lease(p.slot) !== undefined)) return;
    this.queue.add(key);
  }

  /** Slots became ours: every DaemonSet there, and every owner whose pods were left behind. */
  acquired(slots: readonly number[]): void {
    const owned = new Set(slots);
    for (const [key, ds] of this.o.state.daemonSets) if (owned.has(ds.slot)) this.markDirty(key);
    for (const key of this.garbageKeys()) this.markDirty(key);
  }

  /** Deferred work whose slot is usable again goes now; work of slots no longer held is dropped. */
  redoDeferred(): void {
    for (const key of [...this.deferred]) {
      const ds = this.o.state.daemonSets.get(key);
      if (!ds || !this.o.holds(ds.slot)) this.deferred.delete(key);
      else if (this.o.lease(ds.slot) !== undefined) {
        this.deferred.delete(key);
        this.markDirty(key);
      }
    }
  }

  /** Level-triggered safety net: every DaemonSet of an owned slot is reconciled again. */
  resync(): void {
    this.redoDeferred();
    const keys: DsKey[] = [];
    for (const [key, ds] of this.o.state.daemonSets) if (this.o.lease(ds.slot) !== undefined) keys.push(key);
    for (const key of this.garbageKeys()) if (garbageOf(this.o.state, key).some((p) => this.o.lease(p.slot) !== undefined)) keys.push(key);
    for (const key of keys) {
      this.resyncKeys.add(key);
      this.queue.add(key);
    }
  }

  /** Drops what we were doing for a slot we no longer own. */
  forgetSlot(slot: number): void {
    for (const [key, ds] of this.o.state.daemonSets) {
      if (ds.slot !== slot) continue;
      clearFor(this.exp, key);
      this.queue.forget(key);
      // The status it last wrote: another owner may write others meanwhile, and if this
      // controller takes the slot back, that memory would hold back the status it must write.
      this.lastStatus.delete(key);
    }
  }

  /** Resolves once no pass is running. */
  async passFinished(): Promise<void> {
    await this.queue.current;
  }

  /** No new pass or tick; resolves once the running pass has finished. */
  async stop(): Promise<void> {
    this.clock.stop();
    await this.queue.shutDown();
  }

  private garbageKeys(): DsKey[] {
    const keys = new Set<DsKey>();
    for (const pod of this.o.state.pods.values()) {
      if (pod.owner && !this.o.state.daemonSets.has(dsKey(pod.namespace, pod.owner.name))) keys.add(dsKey(pod.namespace, pod.owner.name));
    }
    return [...keys];
  }

  /** One pass over `keys`: reconcile each, publish what it decided. Resolves to its CPU cost (ms). */
  private async pass(keys: DsKey[]): Promise<number> {
    const { state, log } = this.o;
    let onlyResync = keys.length > 0;
    for (const k of keys) if (!this.resyncKeys.delete(k)) onlyResync = false;
    const nowMs = Date.now();
    const passStart = performance.now();
    const items: PublishItem[] = [];
    const idsOf = new Map<string, DsKey>();
    for (const key of keys) {
      const ds = state.daemonSets.get(key);
      // No DaemonSet: its key may still own garbage (pods of a dead owner) in some slot.
      const slot = ds?.slot ?? garbageOf(state, key)[0]?.slot;
      if (slot === undefined) {
        clearFor(this.exp, key);
        this.lastStatus.delete(key);
        continue;
      }
      const lease = this.o.lease(slot);
      if (!lease) {
        if (this.o.holds(slot)) this.deferred.add(key);
        continue;
      }
      if (!satisfied(this.exp, key, nowMs)) continue;
      // Decide on the log's own clock (the stream time of the last event folded of this slot or
      // of the global facts), so that a replay of those parts makes the same decisions; the wall
      // clock only schedules ticks.
      const d = reconcile(state, key, { nowMs: decisionTimeMs(state, slot), epoch: lease.epoch, burst: this.o.burst });
      expect(this.exp, key, d.commands.map((c) => c.data.id), nowMs);
      for (const c of d.commands) {
        idsOf.set(c.data.id, key);
        items.push({ subject: commandSubject(c.data.slot, c.data.node), event: c, msgId: c.data.id });
      }
      if (d.commands.length) {
        const creates = d.commands.filter((c) => c.type === 'PodCreate').length;
        log.info({ ds: key, phase: d.phase, creates, deletes: d.commands.length - creates, epoch: lease.epoch }, 'reconciled');
      }
      if (d.status && ds) {
        const prev = this.lastStatus.get(key);
        if (!prev || statusChanged(prev, d.status)) {
          this.lastStatus.set(key, d.status);
          const ev: DaemonSetStatusUpdated = {
            type: 'DaemonSetStatusUpdated',
            v: 1,
            data: { namespace: ds.namespace, name: ds.name, uid: ds.uid, status: d.status },
          };
          items.push({ subject: dsStatusSubject(ds.slot, ds.namespace, ds.name), event: ev });
        }
      }
      if (d.wakeAtMs !== undefined) this.clock.wakeAt(key, d.wakeAtMs);
    }
    const costMs = performance.now() - passStart;
    if (onlyResync) log.debug({ daemonSets: keys.length, ms: Number(costMs.toFixed(3)), found: items.length }, 'resync pass');
    if (items.length) await this.publish(items, idsOf);
    return costMs;
  }

  private async publish(items: PublishItem[], idsOf: ReadonlyMap<string, DsKey>): Promise<void> {
    const failed = (item: PublishItem, err: unknown): void => {
      if (err !== undefined) this.o.log.error({ err, subject: item.subject, type: item.event.type }, 'publish failed');
      if (item.msgId) {
        lower(this.exp, [item.msgId]);
        const key = idsOf.get(item.msgId);
        if (key) this.queue.addAfter(key, PUBLISH_RETRY_MS);
      } else if (item.event.type === 'DaemonSetStatusUpdated') {
        const key = dsKey(item.event.data.namespace, item.event.data.name);
        this.lastStatus.delete(key);
        this.queue.addAfter(key, PUBLISH_RETRY_MS);
      }
    };
    // Deletes and status go out at once; creates in slow-start batches (1, 2, 4, …) that stop at
    // the first failure, the skipped ones taken off the expectations (Kubernetes' syncNodes).
    const creates = items.filter((i) => i.event.type === 'PodCreate');
    const others = items.filter((i) => i.event.type !== 'PodCreate');
    const othersDone = publishMany(this.o.js, others).then((results) =>
      results.forEach((r, i) => {
        if (r.status === 'rejected') failed(others[i]!, r.reason);
      }),
    );
    let next = 0;
    for (const size of slowStartBatches(creates.length)) {
      const batch = creates.slice(next, next + size);
      next += size;
      const results = await publishMany(this.o.js, batch);
      let anyFailed = false;
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          anyFailed = true;
          failed(batch[i]!, r.reason);
        }
      });
      if (anyFailed) {
        const skipped = creates.slice(next);
        if (skipped.length) this.o.log.warn({ skipped: skipped.length }, 'slow start: creates skipped after a failed batch');
        for (const item of skipped) failed(item, undefined);
        break;
      }
    }
    await othersDone;
  }
}
