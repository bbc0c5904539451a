// `dsctl get shards` and `dsctl get controllers`: who owns which slot now (the lease bucket),
// since when and at which epoch (the log's ShardAcquired), and which controllers are alive.

import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MemberInfo } from '../../libs/nats/members.js';
import { readTopology } from '../../libs/nats/topology.js';
import { LEASE_BUCKET, leaseKey, MEMBERS_BUCKET } from '../../libs/topology/names.js';
import { translateTimestampSince } from '../../libs/present/age.js';
import { GET_TABWRITER, tabwrite } from '../../libs/present/table.js';
import { loadState } from './state-loader.js';

export interface ShardRow {
  readonly slot: number;
  /** Undefined when nobody holds the slot (free, or the lease expired). */
  readonly owner?: string;
  readonly epoch?: number;
  readonly sinceMs?: number;
  readonly expired: boolean;
}

export async function readShards(nc: NatsConnection, nowMs: number): Promise<ShardRow[]> {
  const topo = await readTopology(nc);
  if (!topo) return [];
  const { state } = await loadState(nc);
  const kv = await new Kvm(nc).create(LEASE_BUCKET, { history: 1 });
  const rows: ShardRow[] = [];
  for (let slot = 0; slot < topo.slots; slot++) {
    const e = await kv.get(leaseKey(slot));
    let owner: string | undefined;
    let expired = true;
    if (e && e.operation === 'PUT') {
      try {
        const v = e.json<{ owner: string; ttlMs: number }>();
        owner = v.owner;
        expired = nowMs - e.created.getTime() > v.ttlMs;
      } catch {
        owner = undefined;
      }
    }
    const acquired = state.shards.get(slot);
    const same = owner !== undefined && acquired?.owner === owner;
    rows.push({
      slot,
      ...(owner !== undefined && !expired ? { owner } : {}),
      ...(same ? { epoch: acquired.epoch, sinceMs: acquired.sinceMs } : {}),
      expired,
    });
  }
  return rows;
}

export async function readControllers(nc: NatsConnection): Promise<MemberInfo[]> {
  const kv = await new Kvm(nc).create(MEMBERS_BUCKET, { history: 1 }).catch(() => undefined);
  if (!kv) return [];
  const out: MemberInfo[] = [];
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (e?.operation === 'PUT') out.push(e.json<MemberInfo>());
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export function renderShards(rows: readonly ShardRow[], nowMs: number, output: string | undefined): string {
  if (output === 'json') return `${JSON.stringify({ kind: 'List', items: rows }, null, 4)}\n`;
  const lines = ['SLOT\tOWNER\tEPOCH\tSINCE'];
  for (const r of rows) {
    lines.push([String(r.slot), r.owner ?? '<none>', r.epoch !== undefined ? String(r.epoch) : '<unknown>', r.sinceMs ? translateTimestampSince(r.sinceMs, nowMs) : '<unknown>'].join('\t'));
  }
  return tabwrite(`${lines.join('\n')}\n`, GET_TABWRITER);
}

export function renderControllers(members: readonly MemberInfo[], shards: readonly ShardRow[], nowMs: number, output: string | undefined): string {
  const counts = new Map<string, number>();
  for (const s of shards) if (s.owner) counts.set(s.owner, (counts.get(s.owner) ?? 0) + 1);
  if (output === 'json') {
    return `${JSON.stringify({ kind: 'List', items: members.map((m) => ({ ...m, slots: counts.get(m.id) ?? 0 })) }, null, 4)}\n`;
  }
  if (!members.length) return 'No controllers are running.\n';
  const lines = ['NAME\tSLOTS\tHOST\tPID\tAGE'];
  for (const m of members) lines.push([m.id, String(counts.get(m.id) ?? 0), m.host, String(m.pid), translateTimestampSince(m.startedMs, nowMs)].join('\t'));
  return tabwrite(`${lines.join('\n')}\n`, GET_TABWRITER);
}
