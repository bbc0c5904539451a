// steady: N nodes heartbeating (every 10 s, spread) and 10 DaemonSets converged on them, nothing
// changing: the controller's CPU (from /proc/<pid>/stat, per second and over the whole window)
// and resident memory. What an idle fleet costs.

import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockTicksPerSecond } from './machine.js';
import { applyDaemonSet, BENCH_BURST, startScenarioCluster, waitConverged } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { cpuTicks, rssBytes } from './proc-stat.js';
import { profileNotes } from './profile.js';

const MB = 1024 * 1024;
/** The controller's default resync period, set explicitly so the figures say what they include. */
const RESYNC_MS = 10_000;

interface MemoryReport {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** The controller's last process.memoryUsage() (written by probe-preload.ts), if there is one yet. */
async function readMemoryReport(path: string): Promise<MemoryReport | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as MemoryReport;
  } catch {
    return undefined;
  }
}

/** Time after convergence before measuring: status writes and the last reports settle. */
const SETTLE_MS = 3_000;

export async function runSteady(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.steadyNodes;
  const memoryReportFile = join(tmpdir(), `bench-steady-memory-${process.pid}.json`);
  // Debug logs carry the controller's 'resync pass' lines (the periodic reconcile of every owned
  // DaemonSet); nothing else logs at debug in a steady fleet.
  const { cluster, profileDir } = await startScenarioCluster(ctx, 'steady', { memoryReportFile, controllerEnv: { ...ctx.controllerEnv, LOG_LEVEL: 'debug', RESYNC_MS: String(RESYNC_MS) } });
  const hz = clockTicksPerSecond();
  const cpuPerSecond: number[] = [];
  const fleetCpuPerSecond: number[] = [];
  const rssMb: number[] = [];
  const heapUsedMb: number[] = [];
  const heapTotalMb: number[] = [];
  const offHeapMb: number[] = [];
  const resyncPassMs: number[] = [];
  let averagePercent = Number.NaN;
  const notes: string[] = [];
  try {
    const fleet = await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0, heartbeatIntervalMs: 10_000 });
    const applied = [];
    for (let i = 1; i <= ctx.sizes.steadyDaemonSets; i++) applied.push(await applyDaemonSet(cluster, `steady-${i}`, 'registry.local/logship:v1'));
    await Promise.all(applied.map((ds) => waitConverged(cluster, ds, n, { timeoutMs: 300_000 + n * 50, progress: ctx.progress })));
    await cluster.waitFoldedUp();
    ctx.progress.say(`  steady: ${applied.length} DaemonSets converged on ${n} nodes; settling ${SETTLE_MS} ms, then measuring ${ctx.sizes.steadySeconds} s`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const pid = cluster.controller.pid;
    const first = await cpuTicks(pid);
    const firstFleet = await cpuTicks(fleet.pid);
    let prev = first;
    let prevFleet = firstFleet;
    const started = performance.now();
    for (let s = 1; s <= ctx.sizes.steadySeconds; s++) {
      const due = started + s * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      const now = await cpuTicks(pid);
      const nowFleet = await cpuTicks(fleet.pid);
      cpuPerSecond.push(((now - prev) / hz) * 100);
      fleetCpuPerSecond.push(((nowFleet - prevFleet) / hz) * 100);
      prev = now;
      prevFleet = nowFleet;
      rssMb.push((await rssBytes(pid)) / MB);
      const mem = await readMemoryReport(memoryReportFile);
      if (mem) {
        heapUsedMb.push(mem.heapUsed / MB);
        heapTotalMb.push(mem.heapTotal / MB);
        offHeapMb.push((mem.external + mem.arrayBuffers) / MB);
      }
      ctx.progress.tick('steady', () => `${s}/${ctx.sizes.steadySeconds} s: controller ${cpuPerSecond.at(-1)!.toFixed(1)}% CPU, ${rssMb.at(-1)!.toFixed(0)} MB`);
    }
    const seconds = (performance.now() - started) / 1000;
    averagePercent = ((prev - first) / hz / seconds) * 100;
    for (const l of cluster.controller.lines()) {
      if (l.json?.['msg'] === 'resync pass' && typeof l.json['ms'] === 'number') resyncPassMs.push(l.json['ms']);
    }
  } finally {
    await cluster.stop();
    await rm(memoryReportFile, { force: true });
  }
  if (n !== 10_000) notes.push(`the targets are stated for a 10,000-node fleet; this run used ${n} nodes`);
  if (profileDir) notes.push(...(await profileNotes(profileDir)));
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      daemonSets: ctx.sizes.steadyDaemonSets,
      pods: n * ctx.sizes.steadyDaemonSets,
      seconds: ctx.sizes.steadySeconds,
      heartbeatIntervalMs: 10_000,
      controller: `separate process, BURST=${BENCH_BURST}, NODE_GRACE_MS default (40 s), RESYNC_MS ${RESYNC_MS} (included in the CPU figures)`,
      cpuFrom: `/proc/<pid>/stat utime+stime, ${hz} ticks/s`,
      memoryFrom: '/proc/<pid>/status VmRSS; V8 heap from process.memoryUsage() in the controller (bench preload)',
    },
    metrics: [
      { name: 'controller CPU, whole window', unit: '% of a core', samples: [averagePercent], target: { op: '<', value: 10 } },
      { name: 'controller CPU per second', unit: '% of a core', samples: cpuPerSecond },
      { name: 'controller RSS', unit: 'MB', samples: rssMb, target: { op: '<', value: 300 }, targetOnP99: true },
      { name: 'controller V8 heap used', unit: 'MB', samples: heapUsedMb },
      { name: 'controller V8 heap total', unit: 'MB', samples: heapTotalMb },
      { name: 'controller external + array buffers', unit: 'MB', samples: offHeapMb },
      { name: 'fleet CPU per second (for context)', unit: '% of a core', samples: fleetCpuPerSecond },
      { name: 'controller resync pass (every owned DaemonSet reconciled)', unit: 'ms', samples: resyncPassMs },
    ],
    notes,
  };
}
