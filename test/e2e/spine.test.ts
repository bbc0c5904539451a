// The whole loop with real processes: a real nats-server, the controller, agents and dsctl,
// each a separate process, talking only through JetStream. This is issue #2's acceptance run.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FLUENTD_MANIFEST_YAML, fluentdManifest } from '../support/manifests.js';
import { eventually } from '../support/eventually.js';
import { createsByNode, readLog } from '../support/log.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const FLUENTD_INLINE = FLUENTD_MANIFEST_YAML;

interface DsJson {
  status: { desiredNumberScheduled: number; currentNumberScheduled: number; numberReady: number; observedGeneration: number };
}
interface PodList {
  items: { metadata: { name: string }; spec: { nodeName: string }; status: { phase: string } }[];
}

describe('the spine: apply a DaemonSet, one pod per node, through JetStream', () => {
  let nats: TestNats;
  let dataDir: string;
  let env: Record<string, string>;
  const procs = new Map<string, ServiceProcess>();

  const startAgent = (node: string, extra: Record<string, string> = {}): ServiceProcess => {
    const p = spawnService(node, 'dist/services/agent/main.js', {
      ...env,
      NODE_NAME: node,
      DATA_DIR: join(dataDir, node),
      DRIVER: 'sim',
      SIM_START_DELAY_MS: '20',
      SIM_READY_DELAY_MS: '20',
      HEARTBEAT_INTERVAL_MS: '200',
      ...extra,
    });
    procs.set(node, p);
    return p;
  };
  const startController = (): ServiceProcess => {
    const p = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'controller-e2e', NODE_GRACE_MS: '3000' });
    procs.set('controller', p);
    return p;
  };
  const dsctl = (...args: string[]) => runCli(args, env);
  const getJson = async <T>(...args: string[]): Promise<T> => {
    const r = await dsctl('get', ...args, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const podsByNode = async (): Promise<Map<string, string[]>> => {
    const list = await getJson<PodList>('pods', '-n', 'kube-system');
    const out = new Map<string, string[]>();
    for (const p of list.items) out.set(p.spec.nodeName, [...(out.get(p.spec.nodeName) ?? []), p.metadata.name]);
    return out;
  };

  before(async () => {
    nats = await startNats();
    dataDir = await tempDir('spine-e2e-');
    env = { NATS_URL: nats.url, LOG_LEVEL: 'info' };
    const controller = startController();
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const n of ['node-1', 'node-2', 'node-3']) startAgent(n);
    for (const n of ['node-1', 'node-2', 'node-3']) await procs.get(n)!.waitForLog((l) => l.json?.['phase'] === 'live');
  });

  after(async () => {
    for (const p of procs.values()) await p.stop('SIGTERM').catch(() => undefined);
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('apply creates the DaemonSet; every node runs exactly one Running pod; 3/3/3', async () => {
    const manifest = fluentdManifest();
    const r = await runCli(['apply', '-f', '-'], env, manifest);
    assert.equal(r.code, 0, r.stderr);
    // The file's Namespace comes first, as kubectl applies it.
    assert.equal(r.stdout, 'namespace/logging created\ndaemonset.apps/fluentd-elasticsearch created\n');

    await eventually(async () => {
      const ds = await getJson<DsJson>('ds', 'fluentd-elasticsearch', '-n', 'kube-system');
      assert.deepEqual(
        [ds.status.desiredNumberScheduled, ds.status.currentNumberScheduled, ds.status.numberReady, ds.status.observedGeneration],
        [3, 3, 3, 1],
      );
    }, { timeoutMs: 15_000, message: 'DaemonSet never reached 3/3/3' });
    const pods = await getJson<PodList>('pods', '-n', 'kube-system');
    assert.deepEqual(pods.items.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
    assert.ok(pods.items.every((p) => p.status.phase === 'Running' && /^fluentd-elasticsearch-[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(p.metadata.name)));

    const table = await dsctl('get', 'ds', '-n', 'kube-system');
    assert.match(table.stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
    assert.match(table.stdout, /\nfluentd-elasticsearch\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\d+s\n$/);

    const again = await runCli(['apply', '-f', '-'], env, manifest);
    assert.equal(again.stdout, 'namespace/logging unchanged\ndaemonset.apps/fluentd-elasticsearch unchanged\n');
  });

  it('a bad manifest is refused whole, naming the field, and nothing is written', async () => {
    const before = (await readLog(nats.url)).length;
    const bad = FLUENTD_INLINE.replace('name: fluentd-elasticsearch\n  template', 'name: other\n  template') // selector ≠ labels
      + '---\n' + FLUENTD_INLINE.split('---\n')[1]!.replace('name: fluentd-elasticsearch\n  namespace', 'name: second-ok\n  namespace');
    const r = await runCli(['apply', '-f', '-'], env, bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The DaemonSet "fluentd-elasticsearch" is invalid: .*spec\.template\.metadata\.labels/s);
    assert.equal(r.stdout, '');
    assert.equal((await readLog(nats.url)).length, before, 'a refused apply wrote to the log');
  });

  it('a new node gets its pod; a node stopped with SIGTERM leaves and loses its pod', async () => {
    startAgent('node-4');
    await eventually(async () => assert.equal((await podsByNode()).get('node-4')?.length, 1), { timeoutMs: 10_000 });

    assert.equal(await procs.get('node-2')!.stop('SIGTERM'), 0);
    procs.delete('node-2');
    await eventually(async () => {
      const byNode = await podsByNode();
      assert.deepEqual([...byNode.keys()].sort(), ['node-1', 'node-3', 'node-4']);
      assert.ok([...byNode.values()].every((names) => names.length === 1));
      const nodes = await dsctl('get', 'nodes');
      assert.doesNotMatch(nodes.stdout, /node-2/);
    }, { timeoutMs: 10_000 });
  });

  it('a controller killed with -9 rebuilds its state from the log and issues no duplicate command', async () => {
    const beforeLog = await readLog(nats.url);
    const createsBefore = createsByNode(beforeLog, 'fluentd-elasticsearch');
    await procs.get('controller')!.kill9();
    const controller = startController();
    await controller.waitForLog((l) => l.json?.['msg'] === 'replay caught up');
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    // Prove it is live and deciding: a node joining now gets exactly one pod.
    startAgent('node-5');
    await eventually(async () => assert.equal((await podsByNode()).get('node-5')?.length, 1), { timeoutMs: 10_000 });
    const creates = createsByNode(await readLog(nats.url), 'fluentd-elasticsearch');
    for (const [node, pods] of createsBefore) assert.deepEqual(creates.get(node), pods, `node ${node} got another create after the restart`);
    assert.equal(creates.get('node-5')?.length, 1);
    // The global facts, then its slots (all of them: it is alone): each from the log's start, or
    // from the snapshot the first controller wrote of a part it had read from the start.
    const replayed = controller.lines().find((l) => l.json?.['msg'] === 'replay caught up')!.json!;
    const slotsRead = controller.lines().find((l) => l.json?.['msg'] === 'slots read up')!.json!;
    assert.equal(slotsRead['slots'], 64);
    const read = (replayed['events'] as number) + (slotsRead['events'] as number);
    assert.ok(read >= beforeLog.length || (slotsRead['fromSnapshots'] as number) > 0, `the restarted controller rebuilt its state from the log (read ${read} of ${beforeLog.length}, ${String(slotsRead['fromSnapshots'])} slots from snapshots)`);
  });

  it('an agent killed with -9 comes back with the same incarnation and its pod; nothing is created again', async () => {
    const createsBefore = createsByNode(await readLog(nats.url), 'fluentd-elasticsearch');
    await procs.get('node-3')!.kill9();
    const again = startAgent('node-3');
    await again.waitForLog((l) => l.json?.['msg'] === 'node registered' && l.json?.['resumed'] === true);
    await again.waitForLog((l) => l.json?.['phase'] === 'live' && l.json?.['pods'] === 1);
    const creates = createsByNode(await readLog(nats.url), 'fluentd-elasticsearch');
    assert.deepEqual(creates.get('node-3'), createsBefore.get('node-3'));
  });

  it('a node whose heartbeats stop becomes NotReady and keeps its pod; it is Ready again when they resume', async () => {
    const agent = procs.get('node-1')!;
    const podBefore = (await podsByNode()).get('node-1');
    process.kill(agent.pid, 'SIGSTOP');
    try {
      await eventually(async () => {
        const nodes = await dsctl('get', 'nodes');
        assert.match(nodes.stdout, /\nnode-1\s+NotReady\s/);
      }, { timeoutMs: 15_000, message: 'node-1 never became NotReady' });
      const json = await getJson<{ spec: { taints?: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string }[] } }>('nodes', 'node-1');
      assert.deepEqual(json.status.conditions.find((c) => c.type === 'Ready')?.status, 'Unknown');
      assert.ok(json.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
      // Daemon pods tolerate unreachable: the pod stays.
      assert.deepEqual((await podsByNode()).get('node-1'), podBefore);
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }
    await eventually(async () => {
      const nodes = await dsctl('get', 'nodes');
      assert.match(nodes.stdout, /\nnode-1\s+Ready\s/);
    }, { timeoutMs: 15_000, message: 'node-1 never became Ready again' });
  });

  it('delete ds removes the DaemonSet and then its pods', async () => {
    const r = await dsctl('delete', 'ds', 'fluentd-elasticsearch', '-n', 'kube-system');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps "fluentd-elasticsearch" deleted\n');
    await eventually(async () => {
      const ds = await dsctl('get', 'ds', '-n', 'kube-system');
      assert.equal(ds.stdout, '');
      assert.match(ds.stderr, /No resources found in kube-system namespace/);
      assert.equal((await getJson<PodList>('pods', '-n', 'kube-system')).items.length, 0);
    }, { timeoutMs: 10_000 });
    const missing = await dsctl('delete', 'ds', 'fluentd-elasticsearch', '-n', 'kube-system');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NotFound.*daemonsets.apps "fluentd-elasticsearch" not found/);
  });
});
