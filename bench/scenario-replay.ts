// replay: how fast a process that starts can fold the log (openLogReader + evolve, what the
// controller and the CLI do) against how fast an ordered consumer can merely read it, over the
// same realistic log (written pipelined first, produced by the real core: see workload.ts).

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeEvent } from '../libs/codec/codec.js';
import { evolve } from '../libs/core/evolve.js';
import { initialState } from '../libs/core/state.js';
import { connectBus } from '../libs/nats/connect.js';
import { openLogReader } from '../libs/nats/log-reader.js';
import { partsOf } from '../libs/core/snapshot.js';
import { saveSnapshot } from '../libs/nats/snapshots.js';
import { spawnService } from '../test/support/processes.js';
import { ensureTopology } from '../libs/nats/topology.js';
import { LOG_STREAM } from '../libs/topology/names.js';
import { startNats } from '../test/support/nats-server.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { publishPipelined, type RawMessage } from './pipeline.js';
import { readRaw } from './raw-read.js';
import { simulatedLog } from './workload.js';

export async function runReplay(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const s = ctx.sizes;
  const nats = await startNats();
  const nc = await connectBus({ url: nats.url, name: 'bench-replay', once: true });
  const writeRates: number[] = [];
  const readRates: number[] = [];
  const foldRates: number[] = [];
  const coldNoSnapshot: number[] = [];
  const coldWithSnapshot: number[] = [];
  let lastState = initialState();
  const notes: string[] = [];
  const counts: Record<string, number> = {};
  let serverVersion = 'unknown';
  try {
    serverVersion = nc.info?.version ?? 'unknown';
    const { slots } = await ensureTopology(nc);
    const jsm = await jetstreamManager(nc);
    const firstSeq = (await jsm.streams.info(LOG_STREAM)).state.last_seq + 1;
    const source = function* (): Generator<RawMessage> {
      for (const item of simulatedLog({ nodes: s.replayNodes, daemonSets: s.replayDaemonSets, slots, events: s.replayEvents, firstSeq, startMs: Date.now() })) {
        counts[item.event.type] = (counts[item.event.type] ?? 0) + 1;
        yield { subject: item.subject, data: encodeEvent(item.event), ...(item.msgId ? { msgId: item.msgId } : {}) };
      }
    };
    ctx.progress.say(`  replay: writing ${s.replayEvents} events (${s.replayNodes} nodes, ${s.replayDaemonSets} DaemonSets, rollouts until the count is reached)`);
    const started = performance.now();
    const written = await publishPipelined(jetstream(nc), source(), {
      onAck: (acked) => ctx.progress.tick('replay write', () => `${acked}/${s.replayEvents}`),
    });
    writeRates.push((written / (performance.now() - started)) * 1000);
    const stored = (await jsm.streams.info(LOG_STREAM)).state.last_seq - firstSeq + 1;
    if (stored !== written) notes.push(`${written} events were published but ${stored} stored (duplicates dropped by msg id)`);
    notes.push(`events by type: ${JSON.stringify(counts)}`);
    notes.push('write rate includes producing the events with the real core (reconcile + evolve + encode) in the same process');

    for (let run = 1; run <= s.replayRuns; run++) {
      const rawMs = await readRaw(nc, firstSeq, stored, (seen) => ctx.progress.tick('replay read', () => `run ${run}: ${seen}/${stored}`));
      readRates.push((stored / rawMs) * 1000);

      const state = initialState();
      const foldStart = performance.now();
      const reader = await openLogReader({ nc, onEnvelope: (env) => evolve(state, env, { slots }) });
      const progressTimer = setInterval(() => ctx.progress.tick('replay fold', () => `run ${run}: ${state.seq}/${stored}`), 1000);
      await reader.caughtUp;
      const foldMs = performance.now() - foldStart;
      clearInterval(progressTimer);
      await reader.stop();
      foldRates.push((stored / foldMs) * 1000);
      if (run === 1) notes.push(`folded state: ${state.nodes.size} nodes, ${state.daemonSets.size} DaemonSets, ${state.pods.size} pods, seq ${state.seq}`);
      lastState = state;
      ctx.progress.say(`  replay run ${run}: raw read ${Math.round(readRates.at(-1)!)} msg/s, fold ${Math.round(foldRates.at(-1)!)} msg/s`);
    }

    // Cold start of a real controller process over this log: to 'replay caught up' (state
    // rebuilt) — first with no snapshot, then from a snapshot of the folded state.
    const coldStart = async (label: string): Promise<number> => {
      const started = performance.now();
      const controller = spawnService(`controller-${label}`, 'dist/services/controller/main.js', {
        NATS_URL: nats.url,
        CONTROLLER_ID: `bench-cold-${label}`,
        SNAPSHOT_EVERY_EVENTS: '0',
        SNAPSHOT_EVERY_MS: '0',
        LOG_LEVEL: 'info',
      });
      try {
        await controller.waitForLog((l) => l.json?.['msg'] === 'replay caught up', { timeoutMs: 300_000, message: 'replay caught up' });
        return performance.now() - started;
      } finally {
        await controller.stop('SIGTERM');
      }
    };
    for (let run = 1; run <= s.replayRuns; run++) {
      coldNoSnapshot.push(await coldStart(`none-${run}`));
      ctx.progress.say(`  cold start run ${run} without a snapshot: ${Math.round(coldNoSnapshot.at(-1)!)} ms`);
    }
    const snap = await saveSnapshot(nc, lastState, slots, partsOf(lastState));
    notes.push(`snapshot: ${snap.bytes} bytes at seq ${snap.seq}`);
    for (let run = 1; run <= s.replayRuns; run++) {
      coldWithSnapshot.push(await coldStart(`snap-${run}`));
      ctx.progress.say(`  cold start run ${run} from a snapshot: ${Math.round(coldWithSnapshot.at(-1)!)} ms`);
    }
    notes.push('cold start = spawn of dist/services/controller/main.js until it logs "replay caught up" (includes Node start-up, connect, snapshot load)');
  } finally {
    await nc.close();
    await nats.stop();
  }
  return {
    serverVersion,
    parameters: {
      events: s.replayEvents,
      nodes: s.replayNodes,
      daemonSets: s.replayDaemonSets,
      runs: s.replayRuns,
      fold: 'openLogReader (decode + validate + authorship) + evolve, one process',
      rawRead: 'ordered consumer, callback counting messages only',
    },
    metrics: [
      { name: 'write (pipelined, realistic events)', unit: 'msg/s', samples: writeRates, ofBaseline: 'publish' },
      { name: 'raw ordered read', unit: 'msg/s', samples: readRates, ofBaseline: 'read' },
      { name: 'fold (openLogReader + evolve)', unit: 'msg/s', samples: foldRates, ofBaseline: 'read' },
      { name: 'fold ÷ raw read', unit: 'ratio', samples: foldRates.map((f, i) => f / readRates[i]!) },
      { name: 'controller cold start, no snapshot', unit: 'ms', samples: coldNoSnapshot },
      { name: 'controller cold start, from a snapshot', unit: 'ms', samples: coldWithSnapshot },
    ],
    notes,
  };
}
