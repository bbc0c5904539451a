// `dsctl events` (table, JSON with each command's cause, --since, -w) and schema evolution: a log
// holding an older version of an event is upcast at decode, by the controller and by dsctl alike.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeValue } from '../../libs/codec/codec.js';
import { nodeSubject } from '../../libs/topology/names.js';
import type { ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { REPO_ROOT, runCli } from '../support/processes.js';

const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: nginx } ] }
`;

interface EventJson {
  seq: number;
  reason: string;
  object: string;
  message: string;
  cause?: number;
}

describe('dsctl events and schema evolution (real nats-server)', () => {
  let cluster: InProcessCluster;
  let nc: NatsConnection;
  let controller: ControllerHandle;
  let env: Readonly<Record<string, string>>;

  before(async () => {
    cluster = await startInProcessCluster({ nodes: ['n1', 'n2'], controllerEnv: { CONTROLLER_ID: 'ev' }, dirPrefix: 'events-cli-' });
    ({ nc, controller, env } = cluster);
    assert.equal((await runCli(['apply', '-f', '-'], env, manifest)).code, 0);
    await eventually(() => assert.equal(controller.state.daemonSets.get('default/web')?.status?.numberReady, 2));
  });

  after(async () => {
    await cluster.stop();
  });

  it('lists the DaemonSet\'s events; in JSON each command names the log position it was decided at', async () => {
    const table = await runCli(['events', '--for', 'ds/web'], env);
    assert.match(table.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    assert.equal([...table.stdout.matchAll(/SuccessfulCreate\s+daemonset\/web\s+Created pod: web-\w{5}/g)].length, 2);
    const json = JSON.parse((await runCli(['events', '--for', 'ds/web', '-o', 'json'], env)).stdout) as { items: EventJson[] };
    const creates = json.items.filter((e) => e.reason === 'SuccessfulCreate');
    assert.equal(creates.length, 2);
    for (const c of creates) assert.ok(c.cause !== undefined && c.cause < c.seq, 'a command is decided before it is written');
    // The cause is a point of the log one can go back to: the pods did not exist yet there.
    const before = await runCli(['replay', '--at', String(creates[0]!.cause), 'get', 'pods'], env);
    assert.match(before.stderr, /No resources found in default namespace/);
  });

  it('--since filters by time and refuses nonsense', async () => {
    assert.match((await runCli(['events', '--since', '1h', '--for', 'ds/web'], env)).stdout, /SuccessfulCreate/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await runCli(['events', '--since', future], env)).stdout, 'No events found in default namespace.\n');
    const bad = await runCli(['events', '--since', 'yesterday-ish'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--since takes a duration/);
  });

  it('-w prints new events as they happen, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/dsctl.js', 'events', '--for', 'ds/web', '-w'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await eventually(() => assert.match(out, /Created pod: web-/), { message: 'the listing never came' });
      const pod = [...controller.state.pods.values()][0]!;
      assert.equal((await runCli(['delete', 'pod', pod.name], env)).code, 0);
      await eventually(() => assert.match(out, new RegExp(`SuccessfulDelete\\s+daemonset/web\\s+Deleted pod: ${pod.name} \\(DeletedByUser\\)`)), { message: `no delete line in:\n${out}` });
      await eventually(() => assert.equal([...out.matchAll(/Created pod: web-/g)].length, 3), { message: `no replacement line in:\n${out}` });
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 0);
  });

  it('an older event version in the log is upcast at decode (NodeRegistered v0 → v1)', async () => {
    // A legacy writer's payload: v0 had no incarnation, capacity or allocatable.
    const legacy = encodeValue({ type: 'NodeRegistered', v: 0, data: { node: 'legacy-node', labels: { zone: 'old' } } });
    await jetstream(nc).publish(nodeSubject('legacy-node'), legacy);
    await eventually(() => {
      const node = controller.state.nodes.get('legacy-node');
      assert.ok(node, 'the controller folded the v0 event');
      assert.equal(node.incarnation, 'legacy');
      assert.equal(node.labels['zone'], 'old');
    });
    const got = await runCli(['get', 'nodes', 'legacy-node', '-o', 'json'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { metadata: { labels: Record<string, string> } }).metadata.labels['zone'], 'old');
    // It is a node like any other: the DaemonSet places a pod there.
    await eventually(() => assert.ok([...controller.state.pods.values()].some((p) => p.node === 'legacy-node')));
  });
});
