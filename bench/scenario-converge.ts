// converge: N fleet nodes registered and heartbeating, the controller a separate process with a
// high BURST; apply one DaemonSet and time it until its status (read from the log) shows
// numberReady == N. Each run applies a new DaemonSet over the same nodes.

import { applyDaemonSet, BENCH_BURST, startScenarioCluster, waitConverged } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { profileNotes } from './profile.js';

export const CONVERGE_TARGET_NODES = 10_000;

export async function runConverge(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.convergeNodes;
  const { cluster, profileDir } = await startScenarioCluster(ctx, 'converge');
  const seconds: number[] = [];
  const podsPerSec: number[] = [];
  const msgsPerSec: number[] = [];
  const msgsPerPod: number[] = [];
  const notes: string[] = [];
  try {
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    for (let run = 1; run <= ctx.sizes.convergeRuns; run++) {
      const ds = await applyDaemonSet(cluster, `converge-${run}`, 'registry.local/logship:v1');
      const end = await waitConverged(cluster, ds, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress });
      const ms = Math.max(1, end.timeMs - ds.timeMs);
      const messages = end.seq - ds.seq;
      seconds.push(ms / 1000);
      podsPerSec.push((n / ms) * 1000);
      msgsPerSec.push((messages / ms) * 1000);
      msgsPerPod.push(messages / n);
      ctx.progress.say(`  converge run ${run}: ${n} pods ready in ${(ms / 1000).toFixed(2)} s (${messages} log messages)`);
      await cluster.waitFoldedUp();
    }
  } finally {
    await cluster.stop();
  }
  if (n !== CONVERGE_TARGET_NODES) notes.push(`the targets (5 s, ≥ 50% of the baseline publish rate) are for ${CONVERGE_TARGET_NODES} nodes; this run used ${n}, so they are not judged`);
  notes.push('run k applies DaemonSet converge-k while converge-1..k-1 stay converged on the same nodes');
  if (profileDir) notes.push(...(await profileNotes(profileDir)));
  const base = ctx.baseline.publish.median;
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      runs: ctx.sizes.convergeRuns,
      controller: `separate process (dist/services/controller/main.js), BURST=${BENCH_BURST}`,
      fleet: 'separate process (dist/services/fleet/main.js), SIM_START_DELAY_MS=0, SIM_READY_DELAY_MS=0, HEARTBEAT_INTERVAL_MS=10000',
      measuredFrom: 'stream time of DaemonSetApplied to stream time of the DaemonSetStatusUpdated with numberReady == nodes',
    },
    metrics: [
      {
        name: 'converge time',
        unit: 's',
        samples: seconds,
        ...(n === CONVERGE_TARGET_NODES ? { target: { op: '<', value: 5 } as const } : {}),
      },
      { name: 'pods placed and ready', unit: 'pods/s', samples: podsPerSec },
      { name: 'log messages per pod', unit: 'msg', samples: msgsPerPod },
      { name: 'log write rate during converge', unit: 'msg/s', samples: msgsPerSec, ofBaseline: 'publish' },
      {
        name: 'write rate ÷ baseline publish',
        unit: 'ratio',
        samples: msgsPerSec.map((r) => r / base),
        ...(n === CONVERGE_TARGET_NODES ? { target: { op: '>=', value: 0.5 } as const } : {}),
      },
    ],
    notes,
  };
}
