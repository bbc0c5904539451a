// Slot leases in a KV bucket, taken and renewed by compare-and-set on the entry's revision.
// The revision at which a controller acquired a slot is its epoch: revisions only grow, so a
// later owner always has a higher epoch, and agents refuse commands from lower ones (fencing).

import type { KV, KvEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import { leaseKey } from '../topology/names.js';
import { isWrongLastSequence } from './publish.js';

interface LeaseValue {
  readonly owner: string;
  readonly ttlMs: number;
}

export interface HeldLease {
  readonly slot: number;
  readonly epoch: number;
  revision: number;
  /** Local time of the last successful write (acquire or renew). */
  renewedMs: number;
}

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: HeldLease }
  | { readonly acquired: false; readonly owner: string; readonly expiresInMs: number };

function decodeLease(entry: KvEntry): LeaseValue | undefined {
  if (entry.operation !== 'PUT' || entry.length === 0) return undefined;
  try {
    const v = entry.json<LeaseValue>();
    return typeof v.owner === 'string' && typeof v.ttlMs === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export class SlotLeases {
  private readonly held = new Map<number, HeldLease>();

  constructor(
    private readonly kv: KV,
    readonly owner: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  heldSlots(): ReadonlyMap<number, HeldLease> {
    return this.held;
  }

  /**
   * Whether we may still act for `slot`: held, and renewed within the TTL (less a margin). A
   * controller that was paused (SIGSTOP, a long GC) past its TTL stops deciding at once, before
   * it even learns that another took over; agents' epoch fencing is the second line.
   */
  valid(slot: number, nowMs: number): HeldLease | undefined {
    const lease = this.held.get(slot);
    if (!lease) return undefined;
    return nowMs - lease.renewedMs < this.ttlMs * 0.8 ? lease : undefined;
  }

  /** What the lease bucket says about a slot now: owner and how long since it was written. */
  async inspect(slot: number, nowMs: number): Promise<{ owner?: string; ageMs: number; expired: boolean }> {
    const entry = await this.kv.get(leaseKey(slot));
    const v = entry ? decodeLease(entry) : undefined;
    if (!entry || !v) return { ageMs: entry ? nowMs - entry.created.getTime() : Number.POSITIVE_INFINITY, expired: true };
    const ageMs = nowMs - entry.created.getTime();
    return { owner: v.owner, ageMs, expired: ageMs > v.ttlMs };
  }

  /** Gives one slot back (a voluntary handover); the caller has stopped deciding for it. */
  async release(slot: number): Promise<void> {
    const lease = this.held.get(slot);
    if (!lease) return;
    this.held.delete(slot);
    try {
      await this.kv.delete(leaseKey(slot), { previousSeq: lease.revision });
    } catch (err) {
      this.log.warn({ shard: slot, err }, 'lease release failed');
    }
  }

  private value(): string {
    return JSON.stringify({ owner: this.owner, ttlMs: this.ttlMs } satisfies LeaseValue);
  }

  /** Takes the slot if it is free, expired, or already ours (a restart of the same owner). */
  async tryAcquire(slot: number, nowMs: number): Promise<LeaseAttempt> {
    const key = leaseKey(slot);
    const entry = await this.kv.get(key);
    const current = entry ? decodeLease(entry) : undefined;
    if (entry && current && current.owner !== this.owner) {
      const expiresInMs = entry.created.getTime() + current.ttlMs - nowMs;
      if (expiresInMs > 0) return { acquired: false, owner: current.owner, expiresInMs };
    }
    try {
      const revision = entry ? await this.kv.update(key, this.value(), entry.revision) : await this.kv.create(key, this.value());
      const lease: HeldLease = { slot, epoch: revision, revision, renewedMs: nowMs };
      this.held.set(slot, lease);
      if (current && current.owner !== this.owner) this.log.warn({ shard: slot, previous: current.owner, epoch: revision }, 'took over expired lease');
      return { acquired: true, lease };
    } catch (err) {
      this.log.debug({ shard: slot, err }, 'lease race lost');
      const again = await this.kv.get(key);
      const v = again ? decodeLease(again) : undefined;
      return { acquired: false, owner: v?.owner ?? 'unknown', expiresInMs: v?.ttlMs ?? this.ttlMs };
    }
  }

  /** Renews every held lease; returns the slots that were lost (someone else holds them now). */
  async renewAll(nowMs: number): Promise<number[]> {
    // All at once: one round trip, not one per slot (sequential renewals starved behind a busy
    // event loop let leases lapse under load).
    const lost: number[] = [];
    await Promise.all(
      [...this.held.values()].map(async (lease) => {
        try {
          lease.revision = await this.kv.update(leaseKey(lease.slot), this.value(), lease.revision);
          lease.renewedMs = nowMs;
        } catch (err) {
          // Only a compare-and-set conflict proves another controller holds the slot now. A
          // timeout or "no responders" (a NATS server or the bucket's leader is away) proves
          // nothing: keep the lease and try again; if renewals keep failing, valid() lapses at
          // 80% of the TTL and we stop deciding, and once the TTL is over a successor's write
          // makes our next renewal a conflict.
          if (!isWrongLastSequence(err)) {
            this.log.warn({ shard: lease.slot, err }, 'lease renewal failed: keeping it until the TTL says otherwise');
            return;
          }
          this.log.error({ shard: lease.slot, err }, 'lease lost');
          this.held.delete(lease.slot);
          lost.push(lease.slot);
        }
      }),
    );
    return lost.sort((a, b) => a - b);
  }

  /** Gives every lease back so a successor does not wait for the TTL. */
  async releaseAll(): Promise<void> {
    for (const lease of [...this.held.values()]) {
      try {
        await this.kv.delete(leaseKey(lease.slot), { previousSeq: lease.revision });
      } catch (err) {
        this.log.warn({ shard: lease.slot, err }, 'lease release failed');
      }
      this.held.delete(lease.slot);
    }
  }
}
