// Controller membership: each live controller refreshes its entry in a KV bucket whose entries
// expire (bucket max_age) when not refreshed, so a controller that dies leaves the member list
// by itself after the TTL. Members split the slots among themselves (libs/core/assignment.ts).

import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { MEMBERS_BUCKET } from '../topology/names.js';

export interface MemberInfo {
  readonly id: string;
  readonly startedMs: number;
  readonly pid: number;
  readonly host: string;
}

export class Members {
  private constructor(
    private readonly kv: KV,
    /** The bucket's own TTL: an entry older than this is a dead member's, expired or not. */
    private readonly ttlMs: number,
  ) {}

  /** Opens (creating if needed) the member bucket; `ttlMs` is how long an entry lives unrefreshed. */
  static async open(nc: NatsConnection, ttlMs: number, replicas = 1): Promise<Members> {
    // create() opens the bucket when it exists already (the first creator's TTL stays).
    const kv = await new Kvm(nc).create(MEMBERS_BUCKET, { history: 1, ttl: ttlMs, replicas });
    const bucketTtl = (await kv.status()).ttl;
    return new Members(kv, bucketTtl > 0 ? bucketTtl : ttlMs);
  }

  async refresh(info: MemberInfo): Promise<void> {
    await this.kv.put(info.id, JSON.stringify(info));
  }

  async leave(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  /**
   * Live members (entries not expired or deleted), sorted by id. An entry written longer ago than
   * the TTL is a dead member's even while the server still holds it: nats-server removes expired
   * entries a while after their time (a kill -9 handover waited up to 2.6 s longer than the TTL).
   */
  async list(nowMs = Date.now()): Promise<MemberInfo[]> {
    const out: MemberInfo[] = [];
    // A key refreshed while the listing runs can be listed twice (the listing is a consumer over
    // the bucket): each member once.
    const keys = new Set<string>();
    for await (const key of await this.kv.keys()) keys.add(key);
    for (const key of keys) {
      const e = await this.kv.get(key);
      if (!e || e.operation !== 'PUT') continue;
      if (nowMs - e.created.getTime() > this.ttlMs) continue;
      try {
        out.push(e.json<MemberInfo>());
      } catch {
        // a malformed entry is not a member
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
