// rollout: N nodes with a DaemonSet (maxUnavailable 10%) converged; write a new image as the CLI
// does (DaemonSetApplied, generation + 1, expected last sequence) and time until every pod is
// updated and ready. The log itself is checked: the number of nodes without an available pod of
// the DaemonSet never exceeded the budget (counted from each PodDelete command to the
// replacement's PodReady).

import { jetstream } from '@nats-io/jetstream';
import { rollingBudget } from '../libs/core/reconcile.js';
import type { DaemonSetApplied, Envelope } from '../libs/events/types.js';
import { publishEvent } from '../libs/nats/publish.js';
import { LOG_STREAM, dsSubject } from '../libs/topology/names.js';
import { appliedSpec, applyDaemonSet, BENCH_BURST, followLog, startScenarioCluster, waitConverged, type AppliedDs, type Cluster } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { profileNotes } from './profile.js';
import { BENCH_NAMESPACE } from './workload.js';

const NAME = 'rollout';
const MAX_UNAVAILABLE = '10%';

export interface AvailabilityTracker {
  fold(env: Envelope): void;
  /** The most nodes without an available pod at once so far. */
  maxUnavailable(): number;
  lastSeq(): number;
}

/** Nodes without an available pod of one DaemonSet, from the log; every node starts with one ready pod. */
export function trackAvailability(nodes: Iterable<string>, dsUid: string): AvailabilityTracker {
  const readyOn = new Map<string, number>();
  for (const n of nodes) readyOn.set(n, 1);
  const created = new Set<string>();
  const counted = new Set<string>();
  const gone = new Set<string>();
  let unavailable = 0;
  let max = 0;
  let last = 0;

  const change = (node: string, delta: number): void => {
    const before = readyOn.get(node) ?? 0;
    const after = before + delta;
    readyOn.set(node, after);
    if (before > 0 && after === 0) unavailable++;
    if (before === 0 && after > 0) unavailable--;
    max = Math.max(max, unavailable);
  };
  /** A pod stops being available (delete command, not ready, failed, deleted). */
  const lose = (node: string, uid: string): void => {
    if (gone.has(uid)) return;
    gone.add(uid);
    // A pod not created while tracking is one of the pods that were ready at the start.
    if (counted.has(uid) || !created.has(uid)) change(node, -1);
  };

  return {
    fold(env: Envelope): void {
      last = env.seq;
      const e = env.event;
      switch (e.type) {
        case 'PodCreate':
          if (e.data.ds.uid === dsUid) created.add(e.data.pod.uid);
          break;
        case 'PodDelete':
          lose(e.data.node, e.data.podUid);
          break;
        case 'PodNotReady':
        case 'PodFailed':
        case 'PodDeleted':
          lose(e.data.node, e.data.podUid);
          break;
        case 'PodReady':
          if (created.has(e.data.podUid) && !counted.has(e.data.podUid) && !gone.has(e.data.podUid)) {
            counted.add(e.data.podUid);
            change(e.data.node, +1);
          }
          break;
        default:
          break;
      }
    },
    maxUnavailable: () => max,
    lastSeq: () => last,
  };
}

async function setImage(cluster: Cluster, prev: AppliedDs, image: string): Promise<AppliedDs> {
  const d = prev.event.data;
  const template = d.spec.template;
  const event: DaemonSetApplied = {
    type: 'DaemonSetApplied',
    v: 1,
    data: {
      ...d,
      generation: d.generation + 1,
      spec: {
        ...d.spec,
        template: { ...template, spec: { ...template.spec, containers: template.spec.containers.map((c) => ({ ...c, image })) } },
      },
    },
  };
  const ack = await publishEvent(jetstream(cluster.nc), {
    subject: dsSubject(prev.slot, BENCH_NAMESPACE, prev.name),
    event,
    expectLastSubjectSeq: prev.seq,
  });
  const stored = await cluster.jsm.streams.getMessage(LOG_STREAM, { seq: ack.seq });
  return { name: prev.name, slot: prev.slot, seq: ack.seq, timeMs: stored?.time.getTime() ?? Date.now(), event };
}

export async function runRollout(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.rolloutNodes;
  const { cluster, profileDir } = await startScenarioCluster(ctx, 'rollout');
  const seconds: number[] = [];
  const maxUnavailable: number[] = [];
  const budget = rollingBudget({ maxUnavailable: MAX_UNAVAILABLE, maxSurge: 0 }, n).maxUnavailable;
  const notes: string[] = [];
  try {
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    const first = await applyDaemonSet(cluster, NAME, 'registry.local/logship:v1', MAX_UNAVAILABLE);
    await waitConverged(cluster, first, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress });
    await cluster.waitFoldedUp();
    const nodes = Array.from({ length: n }, (_, i) => `sim-${i + 1}`);
    for (let run = 1; run <= ctx.sizes.rolloutRuns; run++) {
      const prev = await appliedSpec(cluster, NAME);
      const tracker = trackAvailability(nodes, prev.event.data.uid);
      // From the end of the converged log: every node has one ready pod at this point.
      const fromSeq = (await cluster.jsm.streams.info(LOG_STREAM)).state.last_seq + 1;
      const follower = await followLog(cluster.nc, { fromSeq }, (env) => tracker.fold(env));
      const next = await setImage(cluster, prev, `registry.local/logship:v${run + 1}`);
      const end = await waitConverged(cluster, next, n, { timeoutMs: 120_000 + n * 50, progress: ctx.progress });
      while (tracker.lastSeq() < end.seq) await new Promise((r) => setTimeout(r, 20));
      await follower.stop();
      const ms = end.timeMs - next.timeMs;
      seconds.push(ms / 1000);
      maxUnavailable.push(tracker.maxUnavailable());
      ctx.progress.say(`  rollout run ${run}: ${n} pods updated in ${(ms / 1000).toFixed(2)} s; at most ${tracker.maxUnavailable()} unavailable (budget ${budget})`);
      if (tracker.maxUnavailable() > budget) notes.push(`run ${run}: ${tracker.maxUnavailable()} nodes were unavailable at once, over the budget of ${budget}`);
      await cluster.waitFoldedUp();
    }
  } finally {
    await cluster.stop();
  }
  if (n !== 10_000) notes.push(`the 15 s target is for 10,000 nodes; this run used ${n}, so it is not judged`);
  if (profileDir) notes.push(...(await profileNotes(profileDir)));
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      runs: ctx.sizes.rolloutRuns,
      maxUnavailable: MAX_UNAVAILABLE,
      maxSurge: 0,
      budgetNodes: budget,
      controller: `separate process, BURST=${BENCH_BURST}`,
      fleet: 'separate process, SIM_START_DELAY_MS=0, SIM_READY_DELAY_MS=0',
      measuredFrom: 'stream time of the new DaemonSetApplied to the status with every pod updated, ready and available',
      unavailableCountedAs: 'a node from the PodDelete of its ready pod until its replacement reports PodReady',
    },
    metrics: [
      { name: 'rollout time', unit: 's', samples: seconds, ...(n === 10_000 ? { target: { op: '<', value: 15 } as const } : {}) },
      { name: 'max unavailable seen in the log', unit: 'nodes', samples: maxUnavailable, target: { op: '<', value: budget + 1 }, targetOnP99: true },
    ],
    notes,
  };
}
