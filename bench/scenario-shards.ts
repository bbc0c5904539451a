// shards: the converge workload over 1, 2 and 4 controller processes (distinct CONTROLLER_IDs,
// the default slot count): several DaemonSets, chosen so that they spread evenly over the
// controllers, are applied together over N fleet nodes, and we time them until all are ready, with
// each controller's CPU time (/proc/<pid>/stat) over that span. Each count gets its own cluster.
// After a count's runs: each controller's peak RSS (VmHWM) and how much of the log it read (its
// own `log read` count, see log-read.ts). With 4 controllers, kill -9 trials follow (killTrial of
// the handover scenario): the handover, and the cold start of a moved slot's new owner. The
// issue's goals (#14) are judged from these figures (shards-targets.ts).

import { Kvm, type KV } from '@nats-io/kv';
import { rendezvousOwner } from '../libs/core/assignment.js';
import type { Envelope } from '../libs/events/types.js';
import { LEASE_BUCKET, LOG_STREAM } from '../libs/topology/names.js';
import { dsSlot } from '../libs/topology/slot.js';
import type { ServiceProcess } from '../test/support/processes.js';
import { applyDaemonSet, BENCH_BURST, startCluster, waitConverged, type AppliedDs, type Cluster } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { LOG_READ_MSG, logReadSince } from './log-read.js';
import { clockTicksPerSecond } from './machine.js';
import { cpuTicks, peakRssBytes } from './proc-stat.js';
import type { MetricInput } from './result.js';
import { killTrial, readLeases, spawnController, splitSettled, stopExtraControllers, waitLeases, type MovedSlots } from './scenario-handover.js';
import { shardsTargets } from './shards-targets.js';
import { median, percentile } from './stats.js';
import { BENCH_NAMESPACE } from './workload.js';

export const SHARD_COUNTS: readonly number[] = [1, 2, 4];
/** The count whose cluster also runs the kill -9 trials. */
export const KILL_COUNT = 4;
const MB = 1024 * 1024;
/** How long to wait for a controller's `log read` line newer than the end of the runs (it logs at least every 5 s while the count changes). */
const LOG_READ_WAIT_MS = 7_000;

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

/**
 * The new owner's first write for a DaemonSet of a moved slot: a pod command with an epoch above
 * the slot's lease revision at the kill, or a status write after a ShardAcquired of that slot by
 * another controller with such an epoch (status carries no epoch; the killed owner writes nothing
 * once the slot is taken).
 */
export function newOwnerWrite(moved: MovedSlots, slots: number): (env: Envelope) => boolean {
  const newEpoch = (slot: number, epoch: number): boolean => moved.slots.has(slot) && epoch > (moved.revisionAtKill.get(slot) ?? Number.POSITIVE_INFINITY);
  const acquired = new Set<number>();
  return (env) => {
    const e = env.event;
    switch (e.type) {
      case 'ShardAcquired':
        if (e.data.owner !== moved.victim && newEpoch(e.data.slot, e.data.epoch)) acquired.add(e.data.slot);
        return false;
      case 'PodCreate':
      case 'PodDelete':
        return newEpoch(e.data.slot, e.data.epoch);
      case 'DaemonSetStatusUpdated':
        return acquired.has(dsSlot(e.data.namespace, e.data.name, slots));
      default:
        return false;
    }
  };
}

interface KillFigures {
  /** Kill to every slot of the victim held by a live controller, ms. */
  readonly handoverMs: number[];
  /** Kill to the new owner's first command or status write for a DaemonSet of a moved slot, ms. */
  readonly coldStartMs: number[];
  readonly movedSlots: number[];
  /** LEASE_TTL_MS the controllers wrote into their leases. */
  readonly leaseTtlMs: number;
}

interface CountResult {
  readonly seconds: number[];
  readonly cpuSeconds: number[][];
  /** VmHWM of each controller at the end of the runs, MB. */
  readonly peakRssMb: number[];
  /** DS_LOG messages each controller read ÷ the stream's messages; NaN where it printed no count. */
  readonly logReadRatio: number[];
  readonly kill?: KillFigures;
}

/** Each controller's peak RSS and share of the log read, as of the end of the runs. */
async function endOfRuns(
  ctx: ScenarioContext,
  cluster: Cluster,
  ids: readonly string[],
  controllers: ReadonlyMap<string, ServiceProcess>,
): Promise<{ peakRssMb: number[]; logReadRatio: number[] }> {
  const sinceMs = Date.now();
  const procs = ids.map((id) => controllers.get(id)!);
  const peakRssMb = await Promise.all(procs.map(async (c) => (await peakRssBytes(c.pid)) / MB));
  const counts = await Promise.all(procs.map((c) => logReadSince(c, sinceMs, LOG_READ_WAIT_MS)));
  const messages = (await cluster.jsm.streams.info(LOG_STREAM)).state.messages;
  const logReadRatio = counts.map((c) => (c ? c.read / messages : Number.NaN));
  const missing = ids.filter((_, i) => !counts[i]);
  if (missing.length) {
    ctx.progress.say(
      `  ${ids.length} controller(s): no '${LOG_READ_MSG}' line from ${missing.join(', ')} (a controller without #14's read count): log messages read not measured`,
    );
  }
  const read = counts.map((c, i) => `${ids[i]} ${c ? `${c.read}` : '-'}`).join(', ');
  const rss = peakRssMb.map((mb, i) => `${ids[i]} ${mb.toFixed(0)}`).join(', ');
  ctx.progress.say(`  ${ids.length} controller(s), end of runs: peak RSS MB ${rss}; log messages read ${read} of ${messages}`);
  return { peakRssMb, logReadRatio };
}

async function killTrials(
  ctx: ScenarioContext,
  cluster: Cluster,
  kv: KV,
  ids: readonly string[],
  controllers: Map<string, ServiceProcess>,
  names: readonly string[],
): Promise<KillFigures> {
  const n = ctx.sizes.shardsNodes;
  const leaseTtlMs = Math.max(...(await readLeases(kv, cluster.slots)).map((r) => r.ttlMs));
  const handoverMs: number[] = [];
  const coldStartMs: number[] = [];
  const movedSlots: number[] = [];
  const images = new Map<string, number>();
  ctx.progress.say(`  ${ids.length} controllers: ${ctx.sizes.shardsKillTrials} kill -9 trials, lease TTL ${leaseTtlMs} ms`);
  for (let trial = 1; trial <= ctx.sizes.shardsKillTrials; trial++) {
    const t = await killTrial({
      ctx,
      cluster,
      kv,
      ids,
      controllers,
      controllerEnv: {},
      nodes: n,
      settleTimeoutMs: 60_000 + leaseTtlMs * 6,
      convergeTimeoutMs: 300_000 + n * 50,
      // A different DaemonSet of the victim's slots each trial, where there are several.
      pickDs: (victim, slots) => {
        const mine = names.filter((name) => slots.includes(dsSlot(BENCH_NAMESPACE, name, cluster.slots)));
        if (!mine.length) throw new Error(`no bench DaemonSet in the slots of ${victim}`);
        return mine[(trial - 1) % mine.length]!;
      },
      images,
      firstWrite: (moved) => newOwnerWrite(moved, cluster.slots),
    });
    handoverMs.push(t.takenMs - t.killedMs);
    coldStartMs.push(t.first.timeMs - t.killedMs);
    movedSlots.push(t.moved.slots.size);
    const e = t.first.event;
    const firstName = e.type === 'PodCreate' ? e.data.ds.name : e.type === 'DaemonSetStatusUpdated' ? e.data.name : e.type === 'PodDelete' ? e.data.podName : '';
    ctx.progress.say(
      `  kill trial ${trial}: killed ${t.moved.victim} (${t.moved.slots.size} slots); slots held again after ${t.takenMs - t.killedMs} ms, ` +
        `new owner's first ${e.type} (${firstName}) after ${t.first.timeMs - t.killedMs} ms; ${t.moved.dsName} changed and converged again`,
    );
  }
  return { handoverMs, coldStartMs, movedSlots, leaseTtlMs };
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
  const controllers = new Map<string, ServiceProcess>([[ids[0]!, cluster.controller]]);
  const seconds: number[] = [];
  const cpuSeconds: number[][] = ids.map(() => []);
  const names: string[] = [];
  let end: { peakRssMb: number[]; logReadRatio: number[] };
  let kill: KillFigures | undefined;
  try {
    for (const id of ids.slice(1)) controllers.set(id, spawnController(ctx, cluster, id, {}));
    const procs = ids.map((id) => controllers.get(id)!);
    const kv = await new Kvm(cluster.nc).open(LEASE_BUCKET);
    await waitLeases(kv, cluster.slots, `split over ${count} controllers`, 120_000, (rows, now) => splitSettled(rows, ids, now));
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    for (let run = 1; run <= ctx.sizes.shardsRuns; run++) {
      const runNames = spreadNames(run, ctx.sizes.shardsDaemonSets, cluster.slots);
      names.push(...runNames);
      const before = await Promise.all(procs.map((c) => cpuTicks(c.pid)));
      const applied: AppliedDs[] = [];
      for (const name of runNames) applied.push(await applyDaemonSet(cluster, name, 'registry.local/logship:v1'));
      const ends = await Promise.all(applied.map((ds) => waitConverged(cluster, ds, n, { timeoutMs: 300_000 + n * 50, progress: ctx.progress })));
      const after = await Promise.all(procs.map((c) => cpuTicks(c.pid)));
      const ms = Math.max(1, Math.max(...ends.map((e) => e.timeMs)) - Math.min(...applied.map((a) => a.timeMs)));
      seconds.push(ms / 1000);
      after.forEach((t, i) => cpuSeconds[i]!.push((t - before[i]!) / hz));
      const cpu = after.map((t, i) => ((t - before[i]!) / hz).toFixed(2)).join(' + ');
      ctx.progress.say(`  ${count} controller(s), run ${run}: ${runNames.length} DaemonSets × ${n} nodes ready in ${(ms / 1000).toFixed(2)} s; controller CPU ${cpu} s`);
      await cluster.waitFoldedUp();
    }
    end = await endOfRuns(ctx, cluster, ids, controllers);
    if (count === KILL_COUNT) kill = await killTrials(ctx, cluster, kv, ids, controllers, names);
  } finally {
    // The cluster stops its own controller; a restarted `bench` is one of the extra ones.
    await stopExtraControllers(cluster, controllers);
    await cluster.stop();
  }
  return { result: { seconds, cpuSeconds, ...end, ...(kill ? { kill } : {}) }, serverVersion: cluster.serverVersion };
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
  const cpuTotals = new Map<number, number[]>();
  const largestRss = new Map<number, number>();
  const busiestRead = new Map<number, number>();
  for (const count of SHARD_COUNTS) {
    const r = results.get(count)!;
    const total = r.seconds.map((_, run) => r.cpuSeconds.reduce((sum, per) => sum + per[run]!, 0));
    cpuTotals.set(count, total);
    largestRss.set(count, Math.max(...r.peakRssMb));
    // Missing when any controller printed no count: the busiest may be the one not counted.
    busiestRead.set(count, r.logReadRatio.some(Number.isNaN) ? Number.NaN : Math.max(...r.logReadRatio));
    metrics.push({ name: `converge time, ${count} controller(s)`, unit: 's', samples: r.seconds });
    metrics.push({ name: `speed-up over 1 controller, ${count}`, unit: 'ratio', samples: r.seconds.map((s) => oneMedian / s) });
    metrics.push({ name: `controller CPU total, ${count} controller(s)`, unit: 'cpu s', samples: total });
    r.cpuSeconds.forEach((per, i) => metrics.push({ name: `controller CPU, ${controllerIds(count)[i]} of ${count}`, unit: 'cpu s', samples: per }));
    metrics.push({ name: `controller peak RSS, largest of ${count} controller(s)`, unit: 'MB', samples: [largestRss.get(count)!] });
    const read = busiestRead.get(count)!;
    metrics.push({ name: `log messages read ÷ log messages, largest of ${count} controller(s)`, unit: 'ratio', samples: Number.isNaN(read) ? [] : [read] });
  }
  const kill = results.get(KILL_COUNT)!.kill!;
  metrics.push({ name: `handover after kill -9, ${KILL_COUNT} controllers`, unit: 'ms', samples: kill.handoverMs });
  metrics.push({ name: "cold start of a slot's new owner", unit: 'ms', samples: kill.coldStartMs });
  const notes = [
    `each run applies ${ctx.sizes.shardsDaemonSets} new DaemonSets over the same ${n} nodes (earlier runs' stay converged), named so they spread evenly over the controllers of every count`,
    'speed-up is the 1-controller median converge time ÷ each run’s time',
    `this machine has few cores (see machine), shared by the controllers, the fleet process and nats-server: more controller processes split the reconcile CPU but cannot buy much wall-clock speed when the fleet and the server already compete for the same cores`,
    'peak RSS is VmHWM of /proc/<pid>/status at the end of a count’s runs; log messages read is the controller’s own count (its last `log read` line) ÷ the DS_LOG messages at that moment, one sample per count',
    `kill -9 trials with ${KILL_COUNT} controllers after their runs (${kill.handoverMs.length}, ${kill.movedSlots.join('/')} slots moved), lease TTL ${kill.leaseTtlMs} ms: handover is bounded below by the TTL by design, and can come in under it by up to TTL/3 (a lease was last renewed up to then before the kill)`,
    'cold start counts from the kill too, so it holds the lease expiry; it can come before the handover figure, which waits for the last of the victim’s slots to be taken',
  ];
  if (SHARD_COUNTS.some((c) => Number.isNaN(busiestRead.get(c)!))) {
    notes.push(`log messages read not measured: a controller printed no '${LOG_READ_MSG}' line (the controller change of #14 is not in this build)`);
  }
  const medianOf = (count: number, m: ReadonlyMap<number, number[]>): number => median(m.get(count) ?? []);
  return {
    serverVersion,
    parameters: {
      nodes: n,
      daemonSets: ctx.sizes.shardsDaemonSets,
      runs: ctx.sizes.shardsRuns,
      controllerCounts: SHARD_COUNTS,
      killTrials: { controllers: KILL_COUNT, trials: ctx.sizes.shardsKillTrials, leaseTtlMs: kill.leaseTtlMs },
      slots: 'default (SLOTS unset)',
      controller: `separate processes (CONTROLLER_ID bench, bench-2, …), BURST=${BENCH_BURST}`,
      fleet: 'one separate process, SIM_START_DELAY_MS=0, SIM_READY_DELAY_MS=0, HEARTBEAT_INTERVAL_MS=10000',
      measuredFrom:
        'stream time of the first DaemonSetApplied to that of the last DaemonSetStatusUpdated with numberReady == nodes; CPU is utime+stime from /proc/<pid>/stat over the same span; ' +
        'handover: local time just before SIGKILL to the server time of the last lease write by a survivor over the victim’s slots; ' +
        'cold start: the same kill time to the stream time of the first PodCreate/PodDelete with a newer epoch, or DaemonSetStatusUpdated after a newer ShardAcquired, for a DaemonSet of a moved slot (one of them changed right after the kill)',
    },
    metrics,
    notes,
    targets: shardsTargets({
      cpuTotal1: medianOf(1, cpuTotals),
      cpuTotal4: medianOf(4, cpuTotals),
      peakRss1Mb: largestRss.get(1)!,
      peakRss4Mb: largestRss.get(4)!,
      logReadRatio4: busiestRead.get(4)!,
      handoverP99Ms: percentile(kill.handoverMs, 99),
      leaseTtlMs: kill.leaseTtlMs,
      converge1S: median(one.seconds),
      converge4S: median(results.get(4)!.seconds),
    }),
  };
}
