// The real kubectl against the API facade: real nats-server, controller, three agents and the
// apiserver as separate processes; kubectl reads a kubeconfig that names the facade and nothing
// else. Skipped, saying why, when kubectl is not on PATH.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fluentdDaemonSet } from '../support/manifests.js';
import { eventually } from '../support/eventually.js';
import { freePort, startNats, type TestNats } from '../support/nats-server.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';


function kubectlBinary(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '')) {
    try {
      accessSync(join(dir, 'kubectl'), fsConstants.X_OK);
      return join(dir, 'kubectl');
    } catch {
      // not here: try the next folder
    }
  }
  return undefined;
}

const KUBECTL = kubectlBinary();
const SKIP = KUBECTL === undefined ? 'kubectl is not on PATH' : false;
if (SKIP) console.log(`# skipping the kubectl e2e tests: ${SKIP}`);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const NODES = ['node-1', 'node-2', 'node-3'];
const NS = ['-n', 'kube-system'];
const DS = 'ds/fluentd-elasticsearch';

describe('kubectl against the API facade', { skip: SKIP }, () => {
  let nats: TestNats;
  let dir: string;
  let kubeEnv: NodeJS.ProcessEnv;
  const procs: ServiceProcess[] = [];

  const kubectl = (args: readonly string[], input?: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(KUBECTL!, args, { env: kubeEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: string[] = [];
      const err: string[] = [];
      child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: out.join(''), stderr: err.join('') });
      });
    });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    nats = await startNats();
    dir = await tempDir('kubectl-e2e-');
    const env = { NATS_URL: nats.url, LOG_LEVEL: 'info' };
    const controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'controller-kubectl' });
    procs.push(controller);
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const node of NODES) {
      procs.push(
        spawnService(node, 'dist/services/agent/main.js', { ...env, NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '20', SIM_READY_DELAY_MS: '20' }),
      );
    }
    for (const p of procs.slice(1)) await p.waitForLog((l) => l.json?.['phase'] === 'live');
    const port = await freePort();
    const apiserver = spawnService('apiserver', 'dist/services/apiserver/main.js', { ...env, APISERVER_PORT: String(port) });
    procs.push(apiserver);
    await apiserver.waitForLog((l) => l.json?.['msg'] === 'apiserver listening');
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: daemonset-js
  cluster:
    server: http://127.0.0.1:${port}
contexts:
- name: daemonset-js
  context: { cluster: daemonset-js, user: daemonset-js }
current-context: daemonset-js
users:
- name: daemonset-js
  user: {}
`,
    );
    kubeEnv = { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') };
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl apply -f creates the DaemonSet; get ds -A shows 3/3/3; get pods -o wide shows one per node', async () => {
    const applied = await kubectl(['apply', '-f', '-'], fluentdDaemonSet());
    assert.deepEqual([applied.code, applied.stdout, applied.stderr], [0, 'daemonset.apps/fluentd-elasticsearch created\n', '']);
    await eventually(
      async () => {
        const out = await ok('get', 'ds', '-A');
        assert.match(out, /^NAMESPACE\s+NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
        assert.match(out, /\nkube-system\s+fluentd-elasticsearch\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\d+s\n$/);
      },
      { timeoutMs: 20_000, message: 'kubectl get ds -A never showed 3/3/3' },
    );
    const pods = (await ok('get', 'pods', '-A', '-o', 'wide')).trimEnd().split('\n');
    assert.match(pods[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    const rows = pods.slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => [r[0], r[2], r[3], r[7]]).sort((a, b) => String(a[3]).localeCompare(String(b[3]))), NODES.map((n) => ['kube-system', '1/1', 'Running', n]));
    assert.ok(rows.every((r) => /^fluentd-elasticsearch-[a-z0-9]{5}$/.test(r[1]!)));

    const again = await kubectl(['apply', '-f', '-'], fluentdDaemonSet());
    assert.equal(again.stdout, 'daemonset.apps/fluentd-elasticsearch unchanged\n');
  });

  it('kubectl get nodes and describe ds (with the DaemonSet events)', async () => {
    const nodes = (await ok('get', 'nodes')).trimEnd().split('\n');
    assert.match(nodes[0]!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    assert.deepEqual(nodes.slice(1).map((l) => l.split(/\s+/).slice(0, 3)), NODES.map((n) => [n, 'Ready', '<none>']));
    const describe = await ok('describe', 'ds', 'fluentd-elasticsearch', ...NS);
    assert.match(describe, /^Name:\s+fluentd-elasticsearch\n/);
    assert.match(describe, /\nPods Status:\s+3 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed\n/);
    const events = describe.slice(describe.indexOf('\nEvents:'));
    assert.equal(events.match(/Normal\s+SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: fluentd-elasticsearch-[a-z0-9]{5}\n/g)?.length, 3, describe);
  });

  it('a bad manifest gets kubectl\'s validation error naming the field, and nothing is created', async () => {
    const bad = fluentdDaemonSet().replace('fluentd-elasticsearch\n  namespace', 'bad\n  namespace').replace(/^ *image: .*\n/m, '');
    const r = await kubectl(['apply', '-f', '-'], bad);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The DaemonSet "bad" is invalid: spec.template.spec.containers[0].image: Required value\n');
    const missing = await kubectl(['get', 'ds', 'bad', ...NS]);
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error from server (NotFound): daemonsets.apps "bad" not found\n']);
  });

  it('a stale update gets kubectl\'s conflict error', async () => {
    const stale = await ok('get', DS, ...NS, '-o', 'json');
    assert.equal(await ok('label', DS, ...NS, 'team=logging'), 'daemonset.apps/fluentd-elasticsearch labeled\n');
    const r = await kubectl(['replace', '-f', '-'], stale);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on daemonsets.apps "fluentd-elasticsearch": the object has been modified; please apply your changes to the latest version and try again\n',
    );
  });

  it('kubectl set image, rollout status, rollout history and rollout undo', async () => {
    assert.equal(await ok('set', 'image', DS, ...NS, 'fluentd-elasticsearch=fluentd:v3'), 'daemonset.apps/fluentd-elasticsearch image updated\n');
    const status = await ok('rollout', 'status', DS, ...NS, '--timeout=30s');
    assert.match(status, /daemon set "fluentd-elasticsearch" successfully rolled out\n$/);
    assert.match(await ok('rollout', 'history', DS, ...NS), /^daemonset\.apps\/fluentd-elasticsearch \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n\n$/);
    assert.equal(await ok('rollout', 'undo', DS, ...NS, '--to-revision=2'), 'daemonset.apps/fluentd-elasticsearch skipped rollback (current template already matches revision 2)\n');
    assert.equal(await ok('rollout', 'undo', DS, ...NS), 'daemonset.apps/fluentd-elasticsearch rolled back\n');
    await ok('rollout', 'status', DS, ...NS, '--timeout=30s');
    const images = await ok('get', 'pods', ...NS, '-o', 'jsonpath={.items[*].spec.containers[0].image}');
    assert.deepEqual(images.split(' '), Array(3).fill('quay.io/fluentd_elasticsearch/fluentd:v2.5.2'));
    assert.match(await ok('rollout', 'history', DS, ...NS), /\n2\s+<none>\n3\s+<none>\n\n$/);
  });

  it('kubectl label, taint and cordon nodes', async () => {
    assert.equal(await ok('label', 'node', 'node-1', 'zone=a'), 'node/node-1 labeled\n');
    assert.equal(await ok('get', 'node', 'node-1', '-o', 'jsonpath={.metadata.labels.zone}'), 'a');
    assert.equal(await ok('taint', 'nodes', 'node-2', 'dedicated=infra:NoSchedule'), 'node/node-2 tainted\n');
    assert.equal(await ok('get', 'node', 'node-2', '-o', 'jsonpath={.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}'), 'dedicated=infra:NoSchedule');
    assert.equal(await ok('taint', 'nodes', 'node-2', 'dedicated=infra:NoSchedule-'), 'node/node-2 untainted\n');
    assert.equal(await ok('cordon', 'node-3'), 'node/node-3 cordoned\n');
    assert.match(await ok('get', 'nodes'), /\nnode-3\s+Ready,SchedulingDisabled\s/);
    assert.equal(await ok('uncordon', 'node-3'), 'node/node-3 uncordoned\n');
    const protectedLabel = await kubectl(['label', 'node', 'node-1', 'kubernetes.io/hostname-']);
    assert.equal(protectedLabel.code, 1);
    assert.match(protectedLabel.stderr, /metadata\.labels\[kubernetes\.io\/hostname\]: Forbidden/);
  });

  it('kubectl delete ds removes it and its pods', async () => {
    assert.equal(await ok('delete', 'ds', 'fluentd-elasticsearch', ...NS), 'daemonset.apps "fluentd-elasticsearch" deleted\n');
    const r = await kubectl(['get', 'ds', '-A']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', 'No resources found\n']);
    await eventually(async () => assert.equal((await kubectl(['get', 'pods', ...NS])).stderr, 'No resources found in kube-system namespace.\n'), { timeoutMs: 15_000 });
  });
});
