// shards: the converge workload over 1, 2 and 4 controller processes (distinct CONTROLLER_IDs,
// the default slot count): several DaemonSets, chosen so that they spread evenly over the
// controllers, are applied together over N fleet nodes, and we time them until all are ready, with
// each controller's CPU time (/proc/<pid>/stat) over that span. Each count gets its own cluster.

import { Kvm } from '@nats-io/kv';
import { rendezvousOwner } from '../libs/core/assignment.js';
import { LEASE_BUCKET } from '../libs/topology/names.js';
import { dsSlot } from '../libs/topology/slot.js';
import type { ServiceProcess } from '../test/support/processes.js';
import { applyDaemonSet, BENCH_BURST, startCluster, waitConverged, type AppliedDs } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { clockTicksPerSecond } from './machine.js';
import type { MetricInput } from './result.js';
import { spawnController, splitSettled, waitLeases } from './scenario-handover.js';
import { cpuTicks } from './proc-stat.js';
import { median } from './stats.js';
import { BENCH_NAMESPACE } from './workload.js';

export const SHARD_COUNTS: readonly number[] = [1, 2, 4];

function controllerIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? 'bench' : `bench-${i + 1}`));
}

/**
 * `count` DaemonSet names for run `run`, spread as evenly as they can be over every split of
 * SHARD_COUNTS (each controller of k gets count/k of them, rounded up).
 */
export function spreadNames(run: number, count: number, slots: number): string[] {
  const splits = SHARD_COUNTS.map((k) => ({ ids: controllerIds(k), cap: Math.ceil(count / k), load: new Map<string, number>() }));
  const out: string[] = [];
  for (let i = 1; out.length < count && i < 100_000; i++) {
    const name = `shards-${run}-${i}`;
    const slot = dsSlot(BENCH_NAMESPACE, name, slots);
    const owners = splits.map((s) => rendezvousOwner(slot, s.ids) ?? '');
    if (splits.some((s, j) => (s.load.get(owners[j]!) ?? 0) >= s.cap)) continue;
    splits.forEach((s, j) => s.load.set(owners[j]!, (s.load.get(owners[j]!) ?? 0) + 1));
    out.push(name);
  }
  return out;
}

interface CountResult {
  readonly seconds: number[];
  readonly cpuSeconds: number[][];
}

async function runCount(ctx: ScenarioContext, count: number): Promise<{ result: CountResult; serverVersion: string }> {
  const n = ctx.sizes.shardsNodes;
  const ids = controllerIds(count);
  const hz = clockTicksPerSecond();
  const cluster = await startCluster({
    progress: ctx.progress,
    controllerEnv: ctx.controllerEnv,
    ...(ctx.controllerEntry ? { controllerEntry: ctx.controllerEntry } : {}),
  });
  const controllers: ServiceProcess[] = [cluster.controller];
  const seconds: number[] = [];
  const cpuSeconds: number[][] = ids.map(() => []);
  try {
    for (const id of ids.slice(1)) controllers.push(spawnController(ctx, cluster, id, {}));
    const kv = await new Kvm(cluster.nc).open(LEASE_BUCKET);
    await waitLeases(kv, cluster.slots, `split over ${count} controllers`, 120_000, (rows, now) => splitSettled(rows, ids, now));
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    for (let run = 1; run <= ctx.sizes.shardsRuns; run++) {
      const names = spreadNames(run, ctx.sizes.shardsDaemonSets, cluster.slots);
      const before = await Promise.all(controllers.map((c) => cpuTicks(c.pid)));
      const applied: AppliedDs[] = [];
      for (const name of names) applied.push(await applyDaemonSet(cluster, name, 'registry.local/logship:v1'));
      const ends = await Promise.all(applied.map((ds) => waitConverged(cluster, ds, n, { timeoutMs: 300_000 + n * 50, progress: ctx.progress })));
      const after = await Promise.all(controllers.map((c) => cpuTicks(c.pid)));
      const ms = Math.max(1, Math.max(...ends.map((e) => e.timeMs)) - Math.min(...applied.map((a) => a.timeMs)));
      seconds.push(ms / 1000);
      after.forEach((t, i) => cpuSeconds[i]!.push((t - before[i]!) / hz));
      const cpu = after.map((t, i) => ((t - before[i]!) / hz).toFixed(2)).join(' + ');
      ctx.progress.say(`  ${count} controller(s), run ${run}: ${names.length} DaemonSets × ${n} nodes ready in ${(ms / 1000).toFixed(2)} s; controller CPU ${cpu} s`);
      await cluster.waitFoldedUp();
    }
  } finally {
    for (const c of controllers.slice(1)) await c.stop('SIGTERM', 20_000);
    await cluster.stop();
  }
  return { result: { seconds, cpuSeconds }, serverVersion: cluster.serverVersion };
}

export async function runShards(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.shardsNodes;
  const results = new Map<number, CountResult>();
  let serverVersion = 'unknown';
  for (const count of SHARD_COUNTS) {
    ctx.progress.say(`  shards: ${count} controller(s)`);
    const r = await runCount(ctx, count);
    results.set(count, r.result);
    serverVersion = r.serverVersion;
  }
  const one = results.get(1)!;
  const oneMedian = median(one.seconds);
  const metrics: MetricInput[] = [];
  for (const count of SHARD_COUNTS) {
    const r = results.get(count)!;
    const total = r.seconds.map((_, run) => r.cpuSeconds.reduce((sum, per) => sum + per[run]!, 0));
    metrics.push({ name: `converge time, ${count} controller(s)`, unit: 's', samples: r.seconds });
    metrics.push({ name: `speed-up over 1 controller, ${count}`, unit: 'ratio', samples: r.seconds.map((s) => oneMedian / s) });
    metrics.push({ name: `controller CPU total, ${count} controller(s)`, unit: 'cpu s', samples: total });
    r.cpuSeconds.forEach((per, i) => metrics.push({ name: `controller CPU, ${controllerIds(count)[i]} of ${count}`, unit: 'cpu s', samples: per }));
  }
  return {
    serverVersion,
    parameters: {
      nodes: n,
      daemonSets: ctx.sizes.shardsDaemonSets,
      runs: ctx.sizes.shardsRuns,
      controllerCounts: SHARD_COUNTS,
      slots: 'default (SLOTS unset)',
      controller: `separate processes (CONTROLLER_ID bench, bench-2, …), BURST=${BENCH_BURST}`,
      fleet: 'one separate process, SIM_START_DELAY_MS=0, SIM_READY_DELAY_MS=0, HEARTBEAT_INTERVAL_MS=10000',
      measuredFrom:
        'stream time of the first DaemonSetApplied to that of the last DaemonSetStatusUpdated with numberReady == nodes; CPU is utime+stime from /proc/<pid>/stat over the same span',
    },
    metrics,
    notes: [
      `each run applies ${ctx.sizes.shardsDaemonSets} new DaemonSets over the same ${n} nodes (earlier runs' stay converged), named so they spread evenly over the controllers of every count`,
      'speed-up is the 1-controller median converge time ÷ each run’s time',
      `this machine has few cores (see machine), shared by the controllers, the fleet process and nats-server: more controller processes split the reconcile CPU but cannot buy much wall-clock speed when the fleet and the server already compete for the same cores`,
    ],
  };
}
