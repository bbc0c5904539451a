// The slot owner: which slots this controller may decide for, and the handover between
// controllers. Slots are split among live controllers by rendezvous hashing. A controller acquires
// the slots it should own once they are free (or their lease expired), folds the log to its end
// before deciding anything for them ("warming"), and hands over slots that now belong to a newcomer
// by draining: stop deciding, let the current pass finish, release the lease. A slot whose lease
// keeps failing to renew stops being usable at 80% of its TTL (SlotLeases.valid) but stays held:
// its work is deferred, and redone once a renewal succeeds.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { desiredSlots, rendezvousOwner } from '../../libs/core/assignment.js';
import type { ShardAcquired } from '../../libs/events/types.js';
import type { HeldLease, SlotLeases } from '../../libs/nats/leases.js';
import type { MemberInfo, Members } from '../../libs/nats/members.js';

/** How often slots we should own but do not hold are tried again (a handover leaves them free). */
const ACQUIRE_EVERY_MS = 250;
/**
 * How often the member list is read between renewals (which come every TTL/3): a dead member's
 * entry expires within the TTL, and its slots are taken as soon as the list no longer names it,
 * so a handover takes at most about the TTL plus this.
 */
const MEMBERS_READ_EVERY_MS = 1_000;
/**
 * How often the leases of slots assigned to others are looked at, to take one nobody has held for
 * longer than the TTL. Each look is a KV read per such slot (48 of 64 with four controllers):
 * every acquire tick (250 ms) it cost each controller about 200 reads a second.
 */
const ORPHANS_CHECK_EVERY_MS = 1_000;

export interface SlotOwnerHooks {
  /**
   * Starts reading these newly acquired slots and resolves once each is folded up to the log's end,
   * with the global facts (a new owner's warm-up: it knows every command already in flight).
   */
  readonly foldedToEnd: (slots: readonly number[]) => Promise<void>;
  /** Slots became usable: reconcile their DaemonSets. */
  readonly acquired: (slots: readonly number[]) => void;
  /** Resolves once no reconcile pass is running (a handover waits for the current one). */
  readonly passFinished: () => Promise<void>;
  /** A slot is no longer ours (handed over, or lost to another owner): drop its work and its state. */
  readonly released: (slot: number) => void;
  /** A slot is about to be handed over (its last pass is done): snapshot it for the next owner. */
  readonly handingOver?: (slot: number) => Promise<void>;
  /** Leases were renewed: work deferred while a slot was not usable may go now. */
  readonly renewed: () => void;
}

export interface SlotOwnerOptions {
  readonly controllerId: string;
  readonly slots: number;
  readonly leaseTtlMs: number;
  /** The lease bucket (libs/nats/leases.ts; its public face, so a test can hold leases in memory). */
  readonly leases: Pick<SlotLeases, 'heldSlots' | 'valid' | 'tryAcquire' | 'inspect' | 'release' | 'renewAll' | 'releaseAll'>;
  /** The member list (libs/nats/members.ts). */
  readonly members: Pick<Members, 'refresh' | 'list' | 'leave'>;
  /** Writes a ShardAcquired to the log (resolves once it is stored). */
  readonly announce: (event: ShardAcquired) => Promise<unknown>;
  readonly log: Logger;
  readonly hooks: SlotOwnerHooks;
}

export class SlotOwner {
  /** Slots acquired but not yet folded up to the log's end: no decisions for them yet. */
  private readonly warming = new Set<number>();
  /** Slots being handed over: no new decisions for them. */
  private readonly releasing = new Set<number>();
  /** Slots whose free lease we have seen, and since when (to take orphans nobody takes). */
  private readonly freeSince = new Map<number, number>();
  private memberIds: string[];
  private readonly me: MemberInfo;
  private readonly timers: NodeJS.Timeout[] = [];
  private maintaining = false;
  private stopped = false;
  private membersReadMs = 0;
  private orphansCheckedMs = 0;

  constructor(private readonly o: SlotOwnerOptions) {
    this.memberIds = [o.controllerId];
    this.me = { id: o.controllerId, startedMs: Date.now(), pid: process.pid, host: hostname() };
  }

  /** Decisions for `slot` may be made now: held, valid, warmed up and not being handed over. */
  owns(slot: number): boolean {
    return this.lease(slot) !== undefined;
  }

  /** The lease to decide under (its epoch fences the commands), if `slot` is ours to decide now. */
  lease(slot: number): HeldLease | undefined {
    if (this.warming.has(slot) || this.releasing.has(slot)) return undefined;
    return this.o.leases.valid(slot, Date.now());
  }

  /** Held, usable or not: work for it is deferred rather than dropped. */
  holds(slot: number): boolean {
    return this.o.leases.heldSlots().has(slot);
  }

  get heldCount(): number {
    return this.o.leases.heldSlots().size;
  }

  /** Joins the member list, takes this controller's share, then keeps leases and membership up. */
  async start(): Promise<void> {
    await this.refreshMembership();
    await this.takeSlots();
    const leaseTimer = setInterval(() => {
      this.maintain(true).catch((err: unknown) => this.o.log.error({ err }, 'lease maintenance failed'));
    }, Math.max(100, Math.floor(this.o.leaseTtlMs / 3)));
    const acquireTimer = setInterval(() => {
      const desired = desiredSlots(this.o.controllerId, this.memberIds, this.o.slots);
      if ([...desired].some((slot) => !this.holds(slot))) {
        this.maintain(false).catch((err: unknown) => this.o.log.error({ err }, 'slot acquisition failed'));
      }
    }, ACQUIRE_EVERY_MS);
    this.timers.push(leaseTimer, acquireTimer);
  }

  /** Stops maintenance, gives every lease back and leaves the member list. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.o.leases.releaseAll();
    await this.o.members.leave(this.o.controllerId).catch((err: unknown) => this.o.log.warn({ err }, 'leaving the member list failed'));
  }

  /** One maintenance run, never two at once: renew, refresh membership, hand over, acquire. */
  private async maintain(renew: boolean): Promise<void> {
    if (this.maintaining || this.stopped) return;
    this.maintaining = true;
    try {
      if (renew) {
        const lost = await this.o.leases.renewAll(Date.now());
        for (const slot of lost) {
          this.o.log.error({ shard: slot }, 'slot lost: another controller owns it now');
          this.o.hooks.released(slot);
        }
        this.o.hooks.renewed();
        await this.refreshMembership();
        await this.handOver();
      } else if (Date.now() - this.membersReadMs >= MEMBERS_READ_EVERY_MS) {
        await this.readMembers();
      }
      await this.takeSlots();
      this.o.hooks.renewed();
    } finally {
      this.maintaining = false;
    }
  }

  private async refreshMembership(): Promise<void> {
    await this.o.members.refresh(this.me);
    await this.readMembers();
  }

  private async readMembers(): Promise<void> {
    this.membersReadMs = Date.now();
    const ids = (await this.o.members.list()).map((m) => m.id);
    if (!ids.includes(this.o.controllerId)) ids.push(this.o.controllerId);
    ids.sort();
    if (ids.join(',') !== this.memberIds.join(',')) this.o.log.info({ members: ids }, 'controller membership changed');
    this.memberIds = ids;
  }

  private async acquire(slot: number): Promise<boolean> {
    const r = await this.o.leases.tryAcquire(slot, Date.now());
    if (!r.acquired) return false;
    this.warming.add(slot);
    const ev: ShardAcquired = { type: 'ShardAcquired', v: 1, data: { slot, owner: this.o.controllerId, epoch: r.lease.epoch } };
    await this.o.announce(ev);
    return true;
  }

  /** Acquires what we should own (and orphans unowned for longer than the TTL), then warms them up. */
  private async takeSlots(): Promise<void> {
    if (this.stopped) return;
    const nowMs = Date.now();
    const desired = desiredSlots(this.o.controllerId, this.memberIds, this.o.slots);
    const got: number[] = [];
    const checkOrphans = nowMs - this.orphansCheckedMs >= ORPHANS_CHECK_EVERY_MS;
    if (checkOrphans) this.orphansCheckedMs = nowMs;
    for (let slot = 0; slot < this.o.slots && !this.stopped; slot++) {
      if (this.holds(slot)) continue;
      if (desired.has(slot)) {
        if (await this.acquire(slot)) got.push(slot);
        continue;
      }
      if (!checkOrphans) continue;
      // Not ours by assignment: take it only if nobody has held it for longer than the TTL.
      const seen = await this.o.leases.inspect(slot, nowMs);
      if (!seen.expired) {
        this.freeSince.delete(slot);
        continue;
      }
      const since = this.freeSince.get(slot) ?? nowMs;
      this.freeSince.set(slot, since);
      if (nowMs - since > this.o.leaseTtlMs) {
        this.o.log.error({ shard: slot, unownedMs: nowMs - since, assignedTo: rendezvousOwner(slot, this.memberIds) }, 'slot unowned for longer than the lease TTL: taking it');
        if (await this.acquire(slot)) got.push(slot);
      }
    }
    if (!got.length) return;
    // A new owner knows every command already in flight before it decides: fold up to the log's
    // end as of now (our ShardAcquired events are the last thing we wrote).
    await this.o.hooks.foldedToEnd(got);
    for (const slot of got) {
      this.warming.delete(slot);
      this.freeSince.delete(slot);
    }
    this.o.log.info({ slots: got.length, held: this.heldCount, first: got[0], last: got[got.length - 1] }, 'slots acquired');
    this.o.hooks.acquired(got);
  }

  /** Voluntary handover of the slots that now belong to another live member. */
  private async handOver(): Promise<void> {
    const desired = desiredSlots(this.o.controllerId, this.memberIds, this.o.slots);
    const leaving = [...this.o.leases.heldSlots().keys()].filter((slot) => !desired.has(slot));
    if (!leaving.length) return;
    for (const slot of leaving) this.releasing.add(slot);
    await this.o.hooks.passFinished(); // the current pass finishes; no new one decides for them
    for (const slot of leaving) {
      await this.o.hooks.handingOver?.(slot);
      await this.o.leases.release(slot);
      this.releasing.delete(slot);
      this.o.hooks.released(slot);
    }
    this.o.log.info({ slots: leaving.length, held: this.heldCount, members: this.memberIds.length }, 'slots handed over');
  }
}
