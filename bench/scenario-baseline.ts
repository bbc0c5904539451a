// baseline: raw JetStream on this machine — pipelined publish (1024 in flight, msg ids, payloads
// of real PodCreate / PodReady events) and an ordered-consumer read of the same stream. What the
// system's own figures are measured against: the physical limit.

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeEvent } from '../libs/codec/codec.js';
import { connectBus } from '../libs/nats/connect.js';
import { ensureTopology } from '../libs/nats/topology.js';
import { LOG_STREAM } from '../libs/topology/names.js';
import { startNats } from '../test/support/nats-server.js';
import type { BenchSizes } from './context.js';
import { BASELINE_IN_FLIGHT, publishPipelined, type RawMessage } from './pipeline.js';
import type { Progress } from './progress.js';
import { readRaw } from './raw-read.js';
import type { BaselineFigures } from './result.js';
import { summarize } from './stats.js';
import { sampleEvents } from './workload.js';

export interface BaselineRun {
  readonly figures: BaselineFigures;
  readonly serverVersion: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export async function measureBaseline(sizes: BenchSizes, progress: Progress): Promise<BaselineRun> {
  const nats = await startNats();
  const nc = await connectBus({ url: nats.url, name: 'bench-baseline', once: true });
  try {
    const { slots } = await ensureTopology(nc);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const { podCreate, podReady } = sampleEvents(slots);
    const payloads = [
      { subject: podCreate.subject, data: encodeEvent(podCreate.event) },
      { subject: podReady.subject, data: encodeEvent(podReady.event) },
    ];
    const n = sizes.baselineMessages;
    const publishRates: number[] = [];
    const readRates: number[] = [];
    for (let run = 1; run <= sizes.baselineRuns; run++) {
      const source = function* (): Generator<RawMessage> {
        for (let i = 0; i < n; i++) {
          const p = payloads[i % 2]!;
          yield { subject: p.subject, data: p.data, msgId: `baseline-${run}-${i}` };
        }
      };
      const firstSeq = (await jsm.streams.info(LOG_STREAM)).state.last_seq + 1;
      const started = performance.now();
      await publishPipelined(js, source(), {
        onAck: (acked) => progress.tick('baseline publish', () => `run ${run}: ${acked}/${n}`),
      });
      const pubMs = performance.now() - started;
      publishRates.push((n / pubMs) * 1000);
      const readMs = await readRaw(nc, firstSeq, n, (seen) => progress.tick('baseline read', () => `run ${run}: ${seen}/${n}`));
      readRates.push((n / readMs) * 1000);
      progress.say(`  baseline run ${run}: publish ${Math.round(publishRates.at(-1)!)} msg/s, read ${Math.round(readRates.at(-1)!)} msg/s`);
    }
    return {
      figures: {
        publish: summarize(publishRates),
        read: summarize(readRates),
        messagesPerRun: n,
        payloadBytes: { PodCreate: payloads[0]!.data.length, PodReady: payloads[1]!.data.length },
      },
      serverVersion: nc.info?.version ?? 'unknown',
      parameters: {
        messagesPerRun: n,
        runs: sizes.baselineRuns,
        inFlight: BASELINE_IN_FLIGHT,
        msgIds: true,
        payloads: 'PodCreate and PodReady alternating, encoded with libs/codec',
        payloadBytes: { PodCreate: payloads[0]!.data.length, PodReady: payloads[1]!.data.length },
        stream: `${LOG_STREAM} as ensureTopology creates it (file storage, 2 min duplicate window)`,
        connection: 'connectBus (noAsyncTraces: true)',
      },
    };
  } finally {
    await nc.close();
    await nats.stop();
  }
}
