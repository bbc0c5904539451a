// handover: three controllers share the slots; per trial (killTrial, also used by the shards
// scenario) the one owning the most slots is killed with SIGKILL, and we time (a) until every one
// of its slots is held by a live controller (the lease bucket) and (b) until the first pod
// command, with the new owner's epoch, for a DaemonSet of a moved slot whose image was changed
// right after the kill. The victim is restarted under the same CONTROLLER_ID and the split allowed
// to settle before the next trial. Handover is bounded below by the lease TTL by design: a dead
// controller's lease must expire first.

import { Kvm, type KV } from '@nats-io/kv';
import { rendezvousOwner } from '../libs/core/assignment.js';
import type { Envelope } from '../libs/events/types.js';
import { LEASE_BUCKET, leaseKey, LOG_STREAM } from '../libs/topology/names.js';
import { dsSlot } from '../libs/topology/slot.js';
import { spawnService, type ServiceProcess } from '../test/support/processes.js';
import { applyDaemonSet, BENCH_BURST, startCluster, waitConverged, watchLog, type Cluster } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { BENCH_NAMESPACE } from './workload.js';

const POLL_MS = 50;
const CONTROLLER_ENTRY = 'dist/services/controller/main.js';

/** One slot's lease as the bucket holds it now. */
export interface LeaseRow {
  readonly owner: string | undefined;
  readonly revision: number;
  /** Server time of the last write (acquire or renew), ms. */
  readonly writtenMs: number;
  readonly ttlMs: number;
}

/** Every slot's lease entry (deleted or never written: owner undefined). */
export async function readLeases(kv: KV, slots: number): Promise<LeaseRow[]> {
  return Promise.all(
    Array.from({ length: slots }, async (_, slot): Promise<LeaseRow> => {
      const e = await kv.get(leaseKey(slot));
      if (!e || e.operation !== 'PUT' || e.length === 0) return { owner: undefined, revision: e?.revision ?? 0, writtenMs: 0, ttlMs: 0 };
      const v = e.json<{ owner?: unknown; ttlMs?: unknown }>();
      return {
        owner: typeof v.owner === 'string' ? v.owner : undefined,
        revision: e.revision,
        writtenMs: e.created.getTime(),
        ttlMs: typeof v.ttlMs === 'number' ? v.ttlMs : 0,
      };
    }),
  );
}

/** Polls the leases until `done(rows, nowMs)` holds; returns those rows. */
export async function waitLeases(
  kv: KV,
  slots: number,
  what: string,
  timeoutMs: number,
  done: (rows: readonly LeaseRow[], nowMs: number) => boolean,
): Promise<LeaseRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await readLeases(kv, slots);
    if (done(rows, Date.now())) return rows;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (owners: ${rows.map((r) => r.owner ?? '-').join(' ')})`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Whether every slot is held, unexpired, by its rendezvous owner among `ids`. */
export function splitSettled(rows: readonly LeaseRow[], ids: readonly string[], nowMs: number): boolean {
  return rows.every((r, slot) => r.owner !== undefined && r.owner === rendezvousOwner(slot, ids) && nowMs - r.writtenMs < r.ttlMs);
}

/** One more controller process on the cluster's server (the cluster's own is `bench`). */
export function spawnController(ctx: ScenarioContext, cluster: Cluster, id: string, env: Readonly<Record<string, string>>): ServiceProcess {
  return spawnService(`controller ${id}`, ctx.controllerEntry ?? CONTROLLER_ENTRY, {
    NATS_URL: cluster.nats.url,
    CONTROLLER_ID: id,
    BURST: String(BENCH_BURST),
    LOG_LEVEL: 'info',
    ...ctx.controllerEnv,
    ...env,
  });
}

/** DaemonSet names, one per controller, each in a slot that controller owns under the full split. */
export function namesOwnedBy(prefix: string, ids: readonly string[], slots: number): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 1; out.size < ids.length && i < 100_000; i++) {
    const name = `${prefix}-${i}`;
    const owner = rendezvousOwner(dsSlot(BENCH_NAMESPACE, name, slots), ids);
    if (owner !== undefined && !out.has(owner)) out.set(owner, name);
  }
  return out;
}

/** The owner of the most slots (ties: the lowest id). */
export function busiestOwner(rows: readonly LeaseRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.owner) counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  if (!top) throw new Error('no slot is held');
  return top[0];
}

/** What a kill trial moves: the victim's slots, their lease revisions at the kill, the DaemonSet changed. */
export interface MovedSlots {
  readonly victim: string;
  readonly slots: ReadonlySet<number>;
  /** Each moved slot's lease revision at the kill: its new owner's epoch is higher. */
  readonly revisionAtKill: ReadonlyMap<number, number>;
  /** The DaemonSet whose image was changed right after the kill. */
  readonly dsName: string;
}

export interface KillTrialOptions {
  readonly ctx: ScenarioContext;
  readonly cluster: Cluster;
  readonly kv: KV;
  /** Every controller's id. */
  readonly ids: readonly string[];
  /** The live controller of each id; the victim's entry is replaced by its restart. */
  readonly controllers: Map<string, ServiceProcess>;
  /** Extra environment of the restarted victim (as the others were started with). */
  readonly controllerEnv: Readonly<Record<string, string>>;
  readonly nodes: number;
  readonly settleTimeoutMs: number;
  readonly convergeTimeoutMs: number;
  /** The DaemonSet to change once `victim` is killed: one in its `slots`. */
  readonly pickDs: (victim: string, slots: readonly number[]) => string;
  /** Each DaemonSet's image version now (1 when absent); the changed one's is bumped. */
  readonly images: Map<string, number>;
  /** Accepts the new owner's first write; called on each log message, in order, from the kill on. */
  readonly firstWrite: (moved: MovedSlots) => (env: Envelope) => boolean;
}

export interface KillTrialOutcome {
  readonly moved: MovedSlots;
  /** Local time just before SIGKILL, ms. */
  readonly killedMs: number;
  /** Server time of the last lease write by a survivor over the victim's slots, ms. */
  readonly takenMs: number;
  /** The write `firstWrite` accepted (its stream time is `timeMs`). */
  readonly first: Envelope;
}

/**
 * One trial: SIGKILL to the controller owning the most slots, a DaemonSet of one of its slots
 * changed right after, then wait until every one of its slots is held by a live controller and for
 * the new owner's first write. The victim is restarted under the same CONTROLLER_ID, and the trial
 * ends once the rendezvous split has settled and the changed DaemonSet has converged again.
 */
export async function killTrial(o: KillTrialOptions): Promise<KillTrialOutcome> {
  const { ctx, cluster, kv, ids } = o;
  const before = await readLeases(kv, cluster.slots);
  const victim = busiestOwner(before);
  const victimSlots = before.flatMap((r, slot) => (r.owner === victim ? [slot] : []));
  const dsName = o.pickDs(victim, victimSlots);
  const image = (o.images.get(dsName) ?? 1) + 1;
  o.images.set(dsName, image);
  const moved: MovedSlots = {
    victim,
    slots: new Set(victimSlots),
    revisionAtKill: new Map(victimSlots.map((slot) => [slot, before[slot]!.revision])),
    dsName,
  };
  const lastSeq = (await cluster.jsm.streams.info(LOG_STREAM)).state.last_seq;
  const { hit } = await watchLog(
    cluster.nc,
    { fromSeq: lastSeq + 1, timeoutMs: o.settleTimeoutMs, what: `first write of the new owner of ${victim}'s slots` },
    o.firstWrite(moved),
  );

  const killedMs = Date.now();
  await o.controllers.get(victim)!.kill9();
  const ds = await applyDaemonSet(cluster, dsName, `registry.local/logship:v${image}`);
  const survivors = ids.filter((id) => id !== victim);
  const rows = await waitLeases(kv, cluster.slots, `slots of ${victim} taken over`, o.settleTimeoutMs, (rows, now) =>
    victimSlots.every((slot) => {
      const r = rows[slot]!;
      return r.owner !== undefined && survivors.includes(r.owner) && now - r.writtenMs < r.ttlMs;
    }),
  );
  // The takeover is the server time of the last of the victim's slots to be written by a survivor.
  const takenMs = Math.max(...victimSlots.map((slot) => rows[slot]!.writtenMs));
  const first = await hit;

  o.controllers.set(victim, spawnController(ctx, cluster, victim, o.controllerEnv));
  await waitLeases(kv, cluster.slots, `split settled after restarting ${victim}`, o.settleTimeoutMs, (rows, now) => splitSettled(rows, ids, now));
  // Not cluster.waitFoldedUp(): the killed controller's consumer lingers on the server, behind.
  await waitConverged(cluster, ds, o.nodes, { timeoutMs: o.convergeTimeoutMs, progress: ctx.progress });
  return { moved, killedMs, takenMs, first };
}

/** Stops the controllers of `controllers` that the cluster does not stop itself (all but its own `bench`). */
export async function stopExtraControllers(cluster: Cluster, controllers: ReadonlyMap<string, ServiceProcess>): Promise<void> {
  for (const c of controllers.values()) if (c !== cluster.controller) await c.stop('SIGTERM', 20_000);
}

export async function runHandover(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.handoverNodes;
  const ttlMs = ctx.sizes.handoverLeaseTtlMs;
  const trials = ctx.sizes.handoverTrials;
  const ids = ['bench', 'bench-2', 'bench-3'];
  const leaseEnv = { LEASE_TTL_MS: String(ttlMs) };
  const cluster = await startCluster({
    progress: ctx.progress,
    controllerEnv: { ...ctx.controllerEnv, ...leaseEnv },
    ...(ctx.controllerEntry ? { controllerEntry: ctx.controllerEntry } : {}),
  });
  const controllers = new Map<string, ServiceProcess>([['bench', cluster.controller]]);
  const handoverS: number[] = [];
  const firstCommandS: number[] = [];
  const movedSlots: number[] = [];
  const notes: string[] = [];
  const settleTimeoutMs = 60_000 + ttlMs * 6;
  try {
    const kv = await new Kvm(cluster.nc).open(LEASE_BUCKET);
    for (const id of ids.slice(1)) controllers.set(id, spawnController(ctx, cluster, id, leaseEnv));
    await waitLeases(kv, cluster.slots, 'initial split', settleTimeoutMs, (rows, now) => splitSettled(rows, ids, now));
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    const names = namesOwnedBy('handover', ids, cluster.slots);
    const images = new Map<string, number>();
    const applied = [];
    for (const name of names.values()) {
      images.set(name, 1);
      applied.push(await applyDaemonSet(cluster, name, 'registry.local/logship:v1'));
    }
    await Promise.all(applied.map((ds) => waitConverged(cluster, ds, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress })));
    ctx.progress.say(`  handover: ${applied.length} DaemonSets converged on ${n} nodes; ${ids.length} controllers, LEASE_TTL_MS=${ttlMs}`);

    for (let trial = 1; trial <= trials; trial++) {
      const t = await killTrial({
        ctx,
        cluster,
        kv,
        ids,
        controllers,
        controllerEnv: leaseEnv,
        nodes: n,
        settleTimeoutMs,
        convergeTimeoutMs: 120_000 + n * 20,
        pickDs: (victim) => names.get(victim)!,
        images,
        firstWrite: (moved) => {
          const slot = dsSlot(BENCH_NAMESPACE, moved.dsName, cluster.slots);
          const revisionAtKill = moved.revisionAtKill.get(slot)!;
          return (env) => {
            const e = env.event;
            if (e.type === 'PodCreate') return e.data.slot === slot && e.data.epoch > revisionAtKill && e.data.ds.name === moved.dsName;
            if (e.type === 'PodDelete') return e.data.slot === slot && e.data.epoch > revisionAtKill && e.data.podName.startsWith(`${moved.dsName}-`);
            return false;
          };
        },
      });
      handoverS.push((t.takenMs - t.killedMs) / 1000);
      firstCommandS.push((t.first.timeMs - t.killedMs) / 1000);
      movedSlots.push(t.moved.slots.size);
      ctx.progress.say(
        `  trial ${trial}: killed ${t.moved.victim} (${t.moved.slots.size} slots); slots held again after ${((t.takenMs - t.killedMs) / 1000).toFixed(2)} s, ` +
          `first ${t.first.event.type} for ${t.moved.dsName} after ${((t.first.timeMs - t.killedMs) / 1000).toFixed(2)} s`,
      );
    }
  } finally {
    // The cluster stops its own controller; a restarted `bench` is one of the extra ones.
    await stopExtraControllers(cluster, controllers);
    await cluster.stop();
  }
  notes.push(
    `handover is bounded below by the lease TTL (${ttlMs} ms) by design: a killed controller's leases must expire before a survivor may take them; ` +
      'as a lease was last renewed up to TTL/3 before the kill, a sample can come in under the TTL by as much',
  );
  notes.push('the victim is the controller owning the most slots; it is restarted under the same CONTROLLER_ID and the rendezvous split allowed to settle before the next trial');
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      controllers: ids,
      trials,
      leaseTtlMs: ttlMs,
      daemonSets: ids.length,
      slots: cluster.slots,
      controller: `separate processes, BURST=${BENCH_BURST}, LEASE_TTL_MS=${ttlMs}`,
      measuredFrom:
        'local time just before SIGKILL; (a) to the server time of the last lease write by a survivor over the victim’s slots, (b) to the stream time of the first PodCreate/PodDelete with a newer epoch for the DaemonSet changed right after the kill',
    },
    metrics: [
      { name: 'slots held again after kill -9', unit: 's', samples: handoverS },
      { name: 'first command of new owner after kill -9', unit: 's', samples: firstCommandS },
      { name: 'lease TTL', unit: 's', samples: handoverS.map(() => ttlMs / 1000) },
      { name: 'handover ÷ lease TTL', unit: 'ratio', samples: handoverS.map((s) => s / (ttlMs / 1000)) },
      { name: 'slots moved per trial', unit: 'slots', samples: movedSlots },
    ],
    notes,
  };
}
