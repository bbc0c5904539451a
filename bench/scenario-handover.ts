// handover: three controllers share the slots; per trial the one owning the most slots is killed
// with SIGKILL, and we time (a) until every one of its slots is held by a live controller (the
// lease bucket) and (b) until the first pod command, with the new owner's epoch, for a DaemonSet
// of a moved slot whose image was changed right after the kill. The victim is restarted under the
// same CONTROLLER_ID and the split allowed to settle before the next trial. Handover is bounded
// below by the lease TTL by design: a dead controller's lease must expire first.

import { Kvm, type KV } from '@nats-io/kv';
import { rendezvousOwner } from '../libs/core/assignment.js';
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
      const before = await readLeases(kv, cluster.slots);
      const counts = new Map<string, number>();
      for (const r of before) if (r.owner) counts.set(r.owner, (counts.get(r.owner) ?? 0) + 1);
      const victim = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
      const victimSlots = before.flatMap((r, slot) => (r.owner === victim ? [slot] : []));
      const dsName = names.get(victim)!;
      const slot = dsSlot(BENCH_NAMESPACE, dsName, cluster.slots);
      const revisionAtKill = before[slot]!.revision;
      const image = (images.get(dsName) ?? 1) + 1;
      images.set(dsName, image);
      const lastSeq = (await cluster.jsm.streams.info(LOG_STREAM)).state.last_seq;
      const { hit } = await watchLog(
        cluster.nc,
        { fromSeq: lastSeq + 1, timeoutMs: settleTimeoutMs, what: `first command for ${dsName} after killing ${victim}` },
        (env) => {
          const e = env.event;
          if (e.type === 'PodCreate') return e.data.slot === slot && e.data.epoch > revisionAtKill && e.data.ds.name === dsName;
          if (e.type === 'PodDelete') return e.data.slot === slot && e.data.epoch > revisionAtKill && e.data.podName.startsWith(`${dsName}-`);
          return false;
        },
      );

      const killedMs = Date.now();
      await controllers.get(victim)!.kill9();
      const ds = await applyDaemonSet(cluster, dsName, `registry.local/logship:v${image}`);
      const survivors = ids.filter((id) => id !== victim);
      const moved = await waitLeases(kv, cluster.slots, `slots of ${victim} taken over`, settleTimeoutMs, (rows, now) =>
        victimSlots.every((s) => {
          const r = rows[s]!;
          return r.owner !== undefined && survivors.includes(r.owner) && now - r.writtenMs < r.ttlMs;
        }),
      );
      // The takeover is the server time of the last of the victim's slots to be written by a survivor.
      const takenMs = Math.max(...victimSlots.map((s) => moved[s]!.writtenMs));
      const cmd = await hit;
      handoverS.push((takenMs - killedMs) / 1000);
      firstCommandS.push((cmd.timeMs - killedMs) / 1000);
      movedSlots.push(victimSlots.length);
      ctx.progress.say(
        `  trial ${trial}: killed ${victim} (${victimSlots.length} slots); slots held again after ${((takenMs - killedMs) / 1000).toFixed(2)} s, ` +
          `first ${cmd.event.type} for ${dsName} after ${((cmd.timeMs - killedMs) / 1000).toFixed(2)} s`,
      );

      controllers.set(victim, spawnController(ctx, cluster, victim, leaseEnv));
      await waitLeases(kv, cluster.slots, `split settled after restarting ${victim}`, settleTimeoutMs, (rows, now) => splitSettled(rows, ids, now));
      // Not cluster.waitFoldedUp(): the killed controller's consumer lingers on the server, behind.
      await waitConverged(cluster, ds, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress });
    }
  } finally {
    for (const [id, c] of controllers) if (id !== 'bench') await c.stop('SIGTERM', 20_000);
    // The cluster stops its own controller: the last `bench` process may be a restarted one.
    const bench = controllers.get('bench');
    if (bench && bench !== cluster.controller) await bench.stop('SIGTERM', 20_000);
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
