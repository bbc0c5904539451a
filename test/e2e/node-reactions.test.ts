// Node administration with real processes: a real nats-server, the controller, two agents
// (DRIVER=sim) and the real dsctl. A label moves a pod in and out, a NoExecute taint evicts it,
// and a memory-pressure reading (CONDITIONS_READINGS_FILE) taints the node while its daemon pod
// keeps running (daemon pods tolerate node.kubernetes.io/memory-pressure, k8s-daemonset.md §2).
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const SSD_DS = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ssd-agent, namespace: default }
spec:
  selector: { matchLabels: { app: ssd-agent } }
  template:
    metadata: { labels: { app: ssd-agent } }
    spec:
      nodeSelector: { disk: ssd }
      containers: [ { name: agent, image: busybox:1.36 } ]
`;

const HEALTHY = JSON.stringify({
  memory: { available: '4Gi', capacity: '8Gi' },
  nodefs: { available: '50Gi', capacity: '100Gi' },
  pids: { available: 32000, capacity: 32768 },
});
const MEMORY_PRESSURE = JSON.stringify({ ...JSON.parse(HEALTHY), memory: { available: '64Mi', capacity: '8Gi' } });

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName: string }; status: { phase: string } }[];
}
interface NodeJson {
  spec: { taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean };
}
interface DsJson {
  status: { desiredNumberScheduled: number; currentNumberScheduled: number; numberMisscheduled: number };
}

describe('node reactions with real processes (DRIVER=sim)', () => {
  let nats: TestNats;
  let dataDir: string;
  let env: Record<string, string>;
  const procs = new Map<string, ServiceProcess>();
  const readingsFile = (node: string): string => join(dataDir, `${node}-readings.json`);

  const dsctl = (...args: string[]) => runCli(args, env);
  const expectOut = async (args: string[], stdout: string): Promise<void> => {
    const r = await dsctl(...args);
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout, stderr: '' });
  };
  const getJson = async <T>(...args: string[]): Promise<T> => {
    const r = await dsctl('get', ...args, '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  /** Running pods of the DaemonSet by node. */
  const runningByNode = async (): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {};
    for (const p of (await getJson<PodList>('pods')).items) {
      if (p.status.phase === 'Running') out[p.spec.nodeName] = [...(out[p.spec.nodeName] ?? []), p.metadata.name];
    }
    return out;
  };
  const taintsOf = async (node: string): Promise<string[]> =>
    ((await getJson<NodeJson>('nodes', node)).spec.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);

  before(async () => {
    nats = await startNats();
    dataDir = await tempDir('node-reactions-e2e-');
    env = { NATS_URL: nats.url, LOG_LEVEL: 'info' };
    const controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'controller-e2e' });
    procs.set('controller', controller);
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const node of ['node-1', 'node-2']) {
      await writeFile(readingsFile(node), HEALTHY);
      procs.set(
        node,
        spawnService(node, 'dist/services/agent/main.js', {
          ...env,
          NODE_NAME: node,
          DATA_DIR: join(dataDir, node),
          DRIVER: 'sim',
          SIM_START_DELAY_MS: '20',
          SIM_READY_DELAY_MS: '20',
          HEARTBEAT_INTERVAL_MS: '200',
          CONDITIONS_INTERVAL_MS: '100',
          CONDITIONS_READINGS_FILE: readingsFile(node),
        }),
      );
    }
    for (const node of ['node-1', 'node-2']) await procs.get(node)!.waitForLog((l) => l.json?.['msg'] === 'node conditions published');
    const r = await runCli(['apply', '-f', '-'], env, SSD_DS);
    assert.equal(r.stdout, 'daemonset.apps/ssd-agent created\n', r.stderr);
  });

  after(async () => {
    for (const p of procs.values()) await p.stop('SIGTERM').catch(() => undefined);
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a label moves the pod in and out (nodeSelector disk=ssd)', async () => {
    assert.deepEqual(await runningByNode(), {});
    await expectOut(['label', 'nodes', 'node-1', 'disk=ssd'], 'node/node-1 labeled\n');
    await eventually(async () => assert.deepEqual(Object.keys(await runningByNode()), ['node-1']), { timeoutMs: 10_000 });
    await expectOut(['label', 'nodes', 'node-1', 'disk-'], 'node/node-1 unlabeled\n');
    await eventually(async () => assert.deepEqual((await getJson<PodList>('pods')).items, []), { timeoutMs: 10_000 });

    const clash = await dsctl('label', 'nodes', 'node-1', 'kubernetes.io/hostname-');
    assert.deepEqual(
      { code: clash.code, stderr: clash.stderr },
      { code: 1, stderr: "error: label kubernetes.io/hostname is set by the node's agent (NODE_LABELS or its defaults); change it there\n" },
    );
  });

  it('a NoExecute taint evicts the pod; removing it brings a new one', async () => {
    await expectOut(['label', 'nodes', 'node-1', 'node-2', 'disk=ssd'], 'node/node-1 labeled\nnode/node-2 labeled\n');
    await eventually(async () => assert.deepEqual(Object.keys(await runningByNode()).sort(), ['node-1', 'node-2']), { timeoutMs: 10_000 });
    const before = await runningByNode();

    await expectOut(['taint', 'nodes', 'node-1', 'dedicated=x:NoExecute'], 'node/node-1 tainted\n');
    assert.deepEqual(await taintsOf('node-1'), ['dedicated=x:NoExecute']);
    await eventually(async () => assert.deepEqual(await runningByNode(), { 'node-2': before['node-2'] }), { timeoutMs: 10_000 });

    const missing = await dsctl('taint', 'nodes', 'node-1', 'dedicated:NoSchedule-');
    assert.deepEqual({ code: missing.code, stderr: missing.stderr }, { code: 1, stderr: 'error: taint "dedicated:NoSchedule" not found\n' });

    await expectOut(['taint', 'nodes', 'node-1', 'dedicated-'], 'node/node-1 untainted\n');
    await eventually(async () => {
      const now = await runningByNode();
      assert.equal(now['node-1']?.length, 1);
      assert.notDeepEqual(now['node-1'], before['node-1']);
      assert.deepEqual(now['node-2'], before['node-2']);
    }, { timeoutMs: 10_000 });
  });

  it('cordon moves no daemon pod', async () => {
    const before = await runningByNode();
    await expectOut(['cordon', 'node-2'], 'node/node-2 cordoned\n');
    await expectOut(['cordon', 'node-2'], 'node/node-2 already cordoned\n');
    assert.equal((await getJson<NodeJson>('nodes', 'node-2')).spec.unschedulable, true);
    assert.match((await dsctl('get', 'nodes', 'node-2')).stdout, /\nnode-2\s+Ready,SchedulingDisabled\s/);
    await expectOut(['uncordon', 'node-2'], 'node/node-2 uncordoned\n');
    assert.deepEqual(await runningByNode(), before);
  });

  it('memory pressure read from the readings file taints the node; its daemon pod stays Running', async () => {
    const before = await runningByNode();
    await writeFile(readingsFile('node-2'), MEMORY_PRESSURE);
    await eventually(async () => assert.deepEqual(await taintsOf('node-2'), ['node.kubernetes.io/memory-pressure:NoSchedule']), {
      timeoutMs: 10_000,
      message: 'node-2 never got the memory-pressure taint',
    });
    // A later decision (node-1 loses its label, so its pod goes) sees node-2's taint too.
    await expectOut(['label', 'nodes', 'node-1', 'disk-'], 'node/node-1 unlabeled\n');
    await eventually(async () => assert.deepEqual(await runningByNode(), { 'node-2': before['node-2'] }), { timeoutMs: 10_000 });
    await eventually(async () => {
      const ds = await getJson<DsJson>('ds', 'ssd-agent');
      assert.deepEqual([ds.status.desiredNumberScheduled, ds.status.currentNumberScheduled, ds.status.numberMisscheduled], [1, 1, 0]);
    }, { timeoutMs: 10_000 });

    const refused = await dsctl('taint', 'nodes', 'node-2', 'node.kubernetes.io/memory-pressure-');
    assert.deepEqual(
      { code: refused.code, stderr: refused.stderr },
      { code: 1, stderr: "error: taint node.kubernetes.io/memory-pressure is set by the node's agent from its conditions\n" },
    );

    await writeFile(readingsFile('node-2'), HEALTHY);
    await eventually(async () => assert.deepEqual(await taintsOf('node-2'), []), { timeoutMs: 10_000 });
  });
});
