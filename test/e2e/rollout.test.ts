// Rollouts with real processes: a nats-server, the controller, four agents running pods as real
// child processes (readiness from an exec probe), and dsctl. A broken version stalls within
// maxUnavailable, `rollout undo` brings every node back, a good version rolls out; and over the
// whole log, replayed with the pure fold, the rolling update never took more than its budget of
// nodes out and no node ever ran two live pods of the DaemonSet.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { podsOnNode, verdictFor } from '../../libs/core/daemon-view.js';
import { evolve } from '../../libs/core/evolve.js';
import { initialState, type DsRecord, type State } from '../../libs/core/state.js';
import { isPodAvailable } from '../../libs/core/status.js';
import { readLog } from '../support/log.js';
import { processesWithMarker } from '../support/pod-processes.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];
const MAX_UNAVAILABLE = 1;

const processesWith = processesWithMarker;

/** A DaemonSet whose container sleeps and is Ready while its READY variable is non-empty. */
function manifest(image: string, ready: string, marker: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'probe', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'probe' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: MAX_UNAVAILABLE } },
      template: {
        metadata: { labels: { app: 'probe' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'main',
              image,
              command: ['/bin/sh', '-c', 'exec sleep 1000'],
              env: [
                { name: 'READY', value: ready },
                { name: 'E2E_MARKER', value: marker },
              ],
              readinessProbe: { exec: { command: ['/bin/sh', '-c', 'test -n "$READY"'] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

interface PodJson {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName: string };
  status: { conditions: { type: string; status: string }[] };
}

interface DsJson {
  metadata: { generation: number };
  status: { observedGeneration: number; desiredNumberScheduled: number; updatedNumberScheduled: number; numberAvailable: number };
}

/** Desired nodes of `ds` with no live (not terminating) available pod at this point of the fold. */
function unavailableNodes(state: State, ds: DsRecord): number {
  let n = 0;
  for (const node of state.nodes.values()) {
    if (!verdictFor(ds, node).shouldRun) continue;
    const live = podsOnNode(state, ds, node.name).filter((p) => p.deletionMs === undefined);
    if (!live.some((p) => isPodAvailable(p, ds.spec.minReadySeconds, state.lastTimeMs))) n++;
  }
  return n;
}

describe('rollouts with real processes', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  let nats: TestNats;
  let dataDir: string;
  let env: Record<string, string>;
  const marker = `rollout-e2e-${randomBytes(4).toString('hex')}`;
  const procs: ServiceProcess[] = [];
  const dsctl = (...args: string[]) => runCli(args, env);
  const pods = async (): Promise<PodJson[]> => {
    const r = await dsctl('get', 'pods', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: PodJson[] }).items;
  };
  const podsByNode = async (): Promise<Map<string, PodJson>> => {
    const live = (await pods()).filter((p) => p.metadata.deletionTimestamp === undefined);
    return new Map(live.map((p) => [p.spec.nodeName, p]));
  };
  const dsJson = async (): Promise<DsJson> => JSON.parse((await dsctl('get', 'ds', 'probe', '-o', 'json')).stdout) as DsJson;
  const isReady = (p: PodJson): boolean => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  const rolledOut = async (): Promise<void> => {
    const r = await dsctl('rollout', 'status', 'ds/probe', '--timeout=40s');
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /daemon set "probe" successfully rolled out\n$/);
  };

  before(async () => {
    nats = await startNats();
    dataDir = await tempDir('rollout-e2e-');
    env = { NATS_URL: nats.url };
    const controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'c-rollout' });
    procs.push(controller);
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const node of NODES) {
      procs.push(spawnService(node, 'dist/services/agent/main.js', { ...env, NODE_NAME: node, DATA_DIR: join(dataDir, node), DRIVER: 'process' }));
    }
    for (const p of procs.slice(1)) await p.waitForLog((l) => l.json?.['phase'] === 'live');
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a broken version stalls at one node within maxUnavailable; undo brings every node back to the first revision, Ready', async () => {
    const created = await runCli(['apply', '-f', '-'], env, manifest('probe:v1', '1', marker));
    assert.equal(created.stdout, 'daemonset.apps/probe created\n', created.stderr);
    await rolledOut();
    const first = await podsByNode();
    assert.deepEqual([...first.keys()].sort(), NODES);
    const hash1 = first.get('node-1')!.metadata.labels['controller-revision-hash'];

    // A new image and READY emptied in one apply: the new version starts but is never Ready.
    const broken = await runCli(['apply', '-f', '-'], env, manifest('probe:v2', '', marker));
    assert.equal(broken.stdout, 'daemonset.apps/probe configured\n', broken.stderr);
    const stalled = await dsctl('rollout', 'status', 'ds/probe', '--timeout=6s');
    assert.deepEqual([stalled.code, stalled.stderr], [1, 'error: timed out waiting for the condition\n'], stalled.stdout);
    assert.match(stalled.stdout, /Waiting for daemon set "probe" rollout to finish: 1 out of 4 new pods have been updated\.\.\.\n$/);
    // Still stuck after those seconds: one node on the new version, not Ready; the rest untouched.
    const ds = await dsJson();
    assert.deepEqual(
      [ds.status.observedGeneration, ds.status.desiredNumberScheduled, ds.status.updatedNumberScheduled, ds.status.numberAvailable],
      [2, 4, 1, 3],
    );
    const during = await podsByNode();
    const moved = [...during.values()].filter((p) => p.metadata.labels['controller-revision-hash'] !== hash1);
    assert.equal(moved.length, 1);
    assert.equal(isReady(moved[0]!), false);
    const brokenNode = moved[0]!.spec.nodeName;
    for (const node of NODES.filter((n) => n !== brokenNode)) assert.equal(during.get(node)?.metadata.name, first.get(node)!.metadata.name);

    const undo = await dsctl('rollout', 'undo', 'ds/probe');
    assert.deepEqual([undo.code, undo.stdout], [0, 'daemonset.apps/probe rolled back\n'], undo.stderr);
    await rolledOut();
    const back = await podsByNode();
    for (const node of NODES) {
      const pod = back.get(node)!;
      assert.equal(pod.metadata.labels['controller-revision-hash'], hash1, node);
      assert.ok(isReady(pod), `${node} not Ready`);
      // Pods that never left the first revision were not restarted.
      if (node !== brokenNode) assert.equal(pod.metadata.name, first.get(node)!.metadata.name);
    }
    const history = await dsctl('rollout', 'history', 'ds/probe');
    assert.equal(history.stdout, 'daemonset.apps/probe \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n');
  });

  it('a good version rolls out on every node and rollout status exits 0', async () => {
    const set = await dsctl('set', 'image', 'ds/probe', 'main=probe:v3');
    assert.deepEqual([set.code, set.stdout], [0, 'daemonset.apps/probe image updated\n'], set.stderr);
    await rolledOut();
    const now = await podsByNode();
    const hashes = new Set([...now.values()].map((p) => p.metadata.labels['controller-revision-hash']));
    assert.equal(hashes.size, 1);
    assert.deepEqual([...now.keys()].sort(), NODES);
    assert.ok([...now.values()].every(isReady));
    const timeline = await dsctl('rollout', 'history', 'ds/probe', '--revision=4');
    assert.match(timeline.stdout, /\n4 nodes, 4 of 4 pods ready; time to ready: median \S+, max \S+\n$/);
  });

  it('over the whole log: never more than maxUnavailable extra nodes down in a rollout; never two live pods on a node', async () => {
    const log = await readLog(nats.url);
    const state = initialState();
    let baseline: number | undefined;
    let worst = 0;
    let rollouts = 0;
    for (const e of log) {
      const prevHash = state.daemonSets.get('default/probe')?.currentHash;
      evolve(state, e, { slots: 64 });
      const ds = state.daemonSets.get('default/probe');
      if (!ds) continue;
      const down = unavailableNodes(state, ds);
      if (e.event.type === 'DaemonSetApplied' && prevHash !== undefined && prevHash !== ds.currentHash) {
        // A new template: a rollout starts from whatever was down just now.
        baseline = down;
        rollouts++;
      }
      if (baseline !== undefined) {
        assert.ok(down <= baseline + MAX_UNAVAILABLE, `seq ${e.seq}: ${down} nodes down, budget ${baseline} + ${MAX_UNAVAILABLE}`);
        worst = Math.max(worst, down - baseline);
      }
      for (const node of NODES) {
        const live = podsOnNode(state, ds, node).filter((p) => p.deletionMs === undefined && p.phase !== 'Failed' && p.phase !== 'Succeeded');
        assert.ok(live.length <= 1, `seq ${e.seq}: ${node} runs ${live.map((p) => p.name).join(', ')}`);
      }
    }
    assert.equal(rollouts, 3, 'broken apply, undo, set image');
    assert.equal(worst, MAX_UNAVAILABLE, 'the rollouts used their budget');
  });
});
