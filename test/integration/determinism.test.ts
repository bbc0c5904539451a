// Determinism, proven on a real recorded log: real controllers and agents run rollouts of two
// DaemonSets in different slots, node churn, a second controller joining (a handover of slots)
// and the first one stopping (a second handover), on a real nats-server. Then the recorded log is
// folded twice (deep-equal states), and every command a controller wrote is re-derived from the
// two parts of the log it had read when it decided: its slot (`s.<slot>.…`) up to the command's
// slotSeq and the global facts (`g.…`) up to its globalSeq, folded in log order; reconciling
// again gives the same ids, in the same order, per DaemonSet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { evolve, partOf } from '../../libs/core/evolve.js';
import { reconcile } from '../../libs/core/reconcile.js';
import { decisionTimeMs, dsKey, initialState, type State } from '../../libs/core/state.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController } from '../../services/controller/controller.js';
import type { Envelope, PodCommand } from '../../libs/events/types.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import type { ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { readLog } from '../support/log.js';

const SLOTS = 8;

// With 8 slots, web (slot 3) and metrics (slot 4) go to different controllers of {det, det-2}.
const manifest = (image: string, name = 'web'): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${name} } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 1 } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: ${name}, image: ${image} } ] }
`;

function fold(log: readonly Envelope[], untilSeq = Number.MAX_SAFE_INTEGER): State {
  // The whole log, in order, as dsctl reads it.
  const state = initialState();
  for (const env of log) {
    if (env.seq > untilSeq) break;
    evolve(state, env, { slots: SLOTS });
  }
  return state;
}

describe('determinism over a recorded log', () => {
  let cluster: InProcessCluster;
  let controller: ControllerHandle;
  let log: Envelope[] = [];

  const converged = (image: string, nodes: number, name = 'web') =>
    eventually(async () => {
      const state = fold(await readLog(cluster.nats.url));
      const ds = state.daemonSets.get(`default/${name}`)!;
      const s = ds.status!;
      assert.equal(ds.spec.template.spec.containers[0]!.image, image);
      assert.deepEqual([s.desiredNumberScheduled, s.updatedNumberScheduled, s.numberAvailable, s.observedGeneration], [nodes, nodes, nodes, ds.generation]);
    }, { timeoutMs: 20_000 });

  before(async () => {
    cluster = await startInProcessCluster({
      nodes: ['a', 'b', 'c', 'd'],
      controllerEnv: { CONTROLLER_ID: 'det', SLOTS: String(SLOTS) },
      agentEnv: { SIM_START_DELAY_MS: '5', SIM_READY_DELAY_MS: '10' },
      dirPrefix: 'determinism-',
    });
    controller = cluster.controller;
    const { nc, agents } = cluster;
    await applyManifests(nc, await parseManifests(manifest('nginx:1.0') + '---\n' + manifest('m:1', 'metrics'), 't'));
    await converged('nginx:1.0', 4);
    await converged('m:1', 4, 'metrics');
    await applyManifests(nc, await parseManifests(manifest('nginx:2.0'), 't')); // a rolling update
    await converged('nginx:2.0', 4);
    // A second controller joins: the slots are split, half of them handed over.
    const second = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'det-2', SLOTS: String(SLOTS), LEASE_TTL_MS: '2000' }), pino({ level: 'silent' }));
    try {
      await eventually(() => assert.ok(second.state.slotParts.size > 0 && second.state.daemonSets.has('default/web')), { timeoutMs: 20_000 });
      await agents.get('b')!.stop({ deregister: true }); // a node leaves
      agents.delete('b');
      await cluster.addAgent('e'); // a node joins
      await converged('nginx:2.0', 4);
      await converged('m:1', 4, 'metrics');
      await applyManifests(nc, await parseManifests(manifest('nginx:1.0') + '---\n' + manifest('m:2', 'metrics'), 't'));
      await converged('nginx:1.0', 4);
      await converged('m:2', 4, 'metrics');
      // The first controller stops: the second takes every slot back from it.
      await controller.stop();
      await applyManifests(nc, await parseManifests(manifest('m:3', 'metrics'), 't'));
      await converged('m:3', 4, 'metrics');
    } finally {
      await second.stop();
    }
    log = await readLog(cluster.nats.url);
  });

  after(async () => {
    await cluster.stop();
  });

  it('folding the same log twice gives deep-equal states', () => {
    assert.ok(log.length > 50, `a substantial log (${log.length} events)`);
    assert.deepStrictEqual(fold(log), fold(log));
    const folded = fold(log);
    assert.equal(folded.daemonSets.get('default/web')!.revisions.length, 2);
    assert.equal(folded.daemonSets.get('default/metrics')!.revisions.length, 3);
  });

  it('every command a controller wrote is what reconciling its slot and the global facts, as far as it had read them, decides', () => {
    const commands = log.filter((e): e is Envelope<PodCommand> => e.event.type === 'PodCreate' || e.event.type === 'PodDelete');
    assert.ok(commands.every((c) => c.event.data.slotSeq !== undefined && c.event.data.globalSeq !== undefined), 'every command says how far it had read');
    // One decision = one (slot position, global position, DaemonSet); its commands keep their order.
    const decisions = new Map<string, { slot: number; slotSeq: number; globalSeq: number; ds: string; recorded: PodCommand[] }>();
    const podOwner = new Map<string, string>();
    for (const env of commands) {
      const d = env.event.data;
      const ds = env.event.type === 'PodCreate' ? dsKey(env.event.data.ds.namespace, env.event.data.ds.name) : podOwner.get(env.event.data.podName)!;
      if (env.event.type === 'PodCreate') podOwner.set(env.event.data.pod.name, ds);
      const key = `${d.slotSeq}|${d.globalSeq}|${ds}`;
      const entry = decisions.get(key) ?? { slot: d.slot, slotSeq: d.slotSeq!, globalSeq: d.globalSeq!, ds, recorded: [] };
      entry.recorded.push(env.event);
      decisions.set(key, entry);
    }
    const parts = log.map((env) => partOf(initialState(), env, SLOTS));
    const slotsDecided = new Set<number>();
    const epochs = new Set<number>();
    let checked = 0;
    for (const d of decisions.values()) {
      // Exactly the two parts the deciding controller had read, in log order.
      const state = initialState();
      log.forEach((env, i) => {
        const part = parts[i];
        if ((part === d.slot && env.seq <= d.slotSeq) || (part === 'global' && env.seq <= d.globalSeq)) evolve(state, env, { slots: SLOTS, inOrder: false });
      });
      const again = reconcile(state, d.ds, { nowMs: decisionTimeMs(state, d.slot), epoch: d.recorded[0]!.data.epoch });
      assert.deepEqual(
        again.commands.map((c) => `${c.type} ${c.data.id} ${c.data.node}`),
        d.recorded.map((c) => `${c.type} ${c.data.id} ${c.data.node}`),
        `decision at slot ${d.slot} seq ${d.slotSeq}, global seq ${d.globalSeq}, for ${d.ds}`,
      );
      slotsDecided.add(d.slot);
      epochs.add(d.recorded[0]!.data.epoch);
      checked++;
    }
    assert.ok(checked >= 10, `several decisions re-derived (${checked})`);
    assert.equal(slotsDecided.size, 2, 'decisions of two slots');
    assert.ok(epochs.size >= 3, `decisions under several owners' epochs (handovers): ${[...epochs].join(', ')}`);
  });
});
