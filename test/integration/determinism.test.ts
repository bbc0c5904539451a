// Determinism, proven on a real recorded log: a real controller and agents run a rollout, node
// churn and deletions on a real nats-server; then the recorded log is folded twice (deep-equal
// states), and every command the controller wrote is re-derived by folding the log up to the
// command's causeSeq and reconciling again: same ids, same order, per DaemonSet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { evolve } from '../../libs/core/evolve.js';
import { reconcile } from '../../libs/core/reconcile.js';
import { dsKey, initialState, type State } from '../../libs/core/state.js';
import type { Envelope, PodCommand } from '../../libs/events/types.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import type { ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { readLog } from '../support/log.js';

const SLOTS = 8;

const manifest = (image: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 1 } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: ${image} } ] }
`;

function fold(log: readonly Envelope[], untilSeq = Number.MAX_SAFE_INTEGER): State {
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

  const converged = (image: string, nodes: number) =>
    eventually(() => {
      const ds = controller.state.daemonSets.get('default/web')!;
      const s = ds.status!;
      assert.equal(ds.spec.template.spec.containers[0]!.image, image);
      assert.deepEqual([s.desiredNumberScheduled, s.updatedNumberScheduled, s.numberAvailable, s.observedGeneration], [nodes, nodes, nodes, ds.generation]);
    }, { timeoutMs: 15_000 });

  before(async () => {
    cluster = await startInProcessCluster({
      nodes: ['a', 'b', 'c', 'd'],
      controllerEnv: { CONTROLLER_ID: 'det', SLOTS: String(SLOTS) },
      agentEnv: { SIM_START_DELAY_MS: '5', SIM_READY_DELAY_MS: '10' },
      dirPrefix: 'determinism-',
    });
    controller = cluster.controller;
    const { nc, agents } = cluster;
    await applyManifests(nc, await parseManifests(manifest('nginx:1.0'), 't'));
    await converged('nginx:1.0', 4);
    await applyManifests(nc, await parseManifests(manifest('nginx:2.0'), 't')); // a rolling update
    await converged('nginx:2.0', 4);
    await agents.get('b')!.stop({ deregister: true }); // a node leaves
    agents.delete('b');
    await cluster.addAgent('e'); // a node joins
    await converged('nginx:2.0', 4);
    await applyManifests(nc, await parseManifests(manifest('nginx:1.0'), 't')); // back to the first template
    await converged('nginx:1.0', 4);
    log = await readLog(cluster.nats.url);
  });

  after(async () => {
    await cluster.stop();
  });

  it('folding the same log twice gives deep-equal states', () => {
    assert.ok(log.length > 50, `a substantial log (${log.length} events)`);
    assert.deepStrictEqual(fold(log), fold(log));
    const live = controller.state;
    const folded = fold(log);
    assert.equal(folded.daemonSets.get('default/web')!.currentHash, live.daemonSets.get('default/web')!.currentHash);
    assert.deepEqual([...folded.pods.keys()].sort(), [...live.pods.keys()].filter((k) => folded.pods.has(k)).sort());
  });

  it('every command the controller wrote is what reconciling the log at its causeSeq decides', () => {
    const commands = log.filter((e): e is Envelope<PodCommand> => e.event.type === 'PodCreate' || e.event.type === 'PodDelete');
    assert.ok(commands.some((c) => c.event.data.causeSeq > 0));
    // One decision = one (causeSeq, DaemonSet) pair; commands of a decision keep their order.
    const decisions = new Map<string, PodCommand[]>();
    const state = initialState();
    for (const env of commands) {
      const owner = env.event.type === 'PodCreate' ? env.event.data.ds : undefined;
      const key = `${env.event.data.causeSeq}|${owner ? dsKey(owner.namespace, owner.name) : 'default/web'}`;
      decisions.set(key, [...(decisions.get(key) ?? []), env.event]);
    }
    let i = 0;
    let checked = 0;
    for (const [key, recorded] of [...decisions].sort((a, b) => Number(a[0].split('|')[0]) - Number(b[0].split('|')[0]))) {
      const [causeSeq, ds] = [Number(key.split('|')[0]), key.split('|')[1]!];
      while (i < log.length && log[i]!.seq <= causeSeq) evolve(state, log[i++]!, { slots: SLOTS });
      assert.equal(state.seq, causeSeq);
      const again = reconcile(state, ds, { nowMs: state.lastTimeMs, epoch: recorded[0]!.data.epoch });
      assert.deepEqual(
        again.commands.map((c) => `${c.type} ${c.data.id} ${c.data.node}`),
        recorded.map((c) => `${c.type} ${c.data.id} ${c.data.node}`),
        `decision at seq ${causeSeq} for ${ds}`,
      );
      checked++;
    }
    assert.ok(checked >= 6, `several decisions re-derived (${checked})`);
  });
});
