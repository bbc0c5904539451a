// react: N nodes heartbeating with one DaemonSet converged on them; nodes join one at a time
// (an in-process fleet adds each) and the log says how long the system took: from the
// NodeRegistered publish to its PodCreate command, to PodStarted (Running) and to PodReady.

import type { Envelope } from '../libs/events/types.js';
import { connectBus } from '../libs/nats/connect.js';
import { createRootLogger } from '../libs/runtime/logger.js';
import { LOG_STREAM, nodeCommandFilter, podReportSubject } from '../libs/topology/names.js';
import { startFleet } from '../services/fleet/fleet.js';
import { applyDaemonSet, BENCH_BURST, startScenarioCluster, waitConverged, watchLog } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { profileNotes } from './profile.js';

const SAMPLE_TIMEOUT_MS = 30_000;

export async function runReact(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.reactNodes;
  const { cluster, profileDir } = await startScenarioCluster(ctx, 'react');
  const toCreate: number[] = [];
  const toRunning: number[] = [];
  const toReady: number[] = [];
  try {
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    const ds = await applyDaemonSet(cluster, 'react', 'registry.local/logship:v1');
    await waitConverged(cluster, ds, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress });
    await cluster.waitFoldedUp();
    ctx.progress.say(`  react: ${n} nodes converged; adding ${ctx.sizes.reactSamples} nodes one at a time`);

    const probeNc = await connectBus({ url: cluster.nats.url, name: 'bench-react-probe', once: true });
    const probe = await startFleet(
      probeNc,
      { names: [], nodeLabels: {}, heartbeatIntervalMs: 10_000, simStartDelayMs: 0, simReadyDelayMs: 0, simFailRate: 0 },
      createRootLogger('bench-probe', 'silent'),
    );
    try {
      for (let i = 1; i <= ctx.sizes.reactSamples; i++) {
        const node = `react-${i}`;
        const fromSeq = (await cluster.jsm.streams.info(LOG_STREAM)).state.last_seq + 1;
        const create = await watchLog(
          cluster.nc,
          { fromSeq, filter: nodeCommandFilter(node), timeoutMs: SAMPLE_TIMEOUT_MS, what: `PodCreate for ${node}` },
          (env) => env.event.type === 'PodCreate',
        );
        let started: Envelope | undefined;
        const ready = await watchLog(
          cluster.nc,
          { fromSeq, filter: podReportSubject(ds.slot, node), timeoutMs: SAMPLE_TIMEOUT_MS, what: `PodReady from ${node}` },
          (env) => {
            if (env.event.type === 'PodStarted') started ??= env;
            return env.event.type === 'PodReady';
          },
        );
        const [reg] = await probe.addNodes([node]);
        const t0 = reg!.publishedMs;
        const c = await create.hit;
        const r = await ready.hit;
        toCreate.push(c.timeMs - t0);
        toRunning.push((started ?? r).timeMs - t0);
        toReady.push(r.timeMs - t0);
        ctx.progress.tick('react', () => `${i}/${ctx.sizes.reactSamples}: create ${c.timeMs - t0} ms, ready ${r.timeMs - t0} ms`);
      }
    } finally {
      await probe.stop();
      await probeNc.close();
    }
  } finally {
    await cluster.stop();
  }
  const notes: string[] = [];
  if (n !== 10_000) notes.push(`the issue's target is stated for a 10,000-node fleet; this run used ${n} nodes`);
  if (profileDir) notes.push(...(await profileNotes(profileDir)));
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      samples: ctx.sizes.reactSamples,
      daemonSets: 1,
      controller: `separate process, BURST=${BENCH_BURST}`,
      fleet: 'N nodes in a separate fleet process; joining nodes from an in-process fleet (addNodes), SIM delays 0',
      measuredFrom: 'wall clock just before the NodeRegistered publish to the stream time of PodCreate / PodStarted / PodReady (same host clock)',
    },
    metrics: [
      { name: 'join → PodCreate', unit: 'ms', samples: toCreate },
      { name: 'join → Running (PodStarted), p99', unit: 'ms', samples: toRunning, target: { op: '<', value: 100 }, targetOnP99: true },
      { name: 'join → PodReady', unit: 'ms', samples: toReady },
    ],
    notes,
  };
}
