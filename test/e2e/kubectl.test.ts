// The real kubectl against the API facade: real nats-server, controller, three agents and the
// apiserver as separate processes; kubectl reads a kubeconfig that names the facade and nothing
// else. Skipped, saying why, when kubectl is not on PATH.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fluentdDaemonSet, fluentdManifest, ssaDaemonSetYaml } from '../support/manifests.js';
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
const TOKEN = 'e2e-bearer-5b0c7d';
const NS = ['-n', 'kube-system'];
const DS = 'ds/fluentd-elasticsearch';

describe('kubectl against the API facade', { skip: SKIP }, () => {
  let nats: TestNats;
  let dir: string;
  let kubeEnv: NodeJS.ProcessEnv;
  /** The same cluster through a second apiserver that requires a bearer token. */
  let guardedPort: number;
  let caPem: string;
  const procs: ServiceProcess[] = [];

  const kubeconfig = (port: number, user: string, tls?: { caPem: string }): string => `apiVersion: v1
kind: Config
clusters:
- name: daemonset-js
  cluster:
    server: ${tls ? 'https' : 'http'}://127.0.0.1:${port}${tls ? `\n    certificate-authority-data: ${Buffer.from(tls.caPem).toString('base64')}` : ''}
contexts:
- name: daemonset-js
  context: { cluster: daemonset-js, user: daemonset-js }
current-context: daemonset-js
users:
- name: daemonset-js
  user: ${user}
`;

  const kubectlWith = (env: NodeJS.ProcessEnv, args: readonly string[], input?: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(KUBECTL!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
  const kubectl = (args: readonly string[], input?: string): Promise<Run> => kubectlWith(kubeEnv, args, input);
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
    const config = join(dir, 'kubeconfig');
    await writeFile(config, kubeconfig(port, '{}'));
    kubeEnv = { PATH: process.env['PATH'], HOME: dir, KUBECONFIG: config, KUBECACHEDIR: join(dir, 'cache') };
    // kubectl sends a token only to an https:// server: the guarded apiserver serves TLS with a
    // self-signed certificate for 127.0.0.1, which the kubeconfigs name as their CA.
    guardedPort = await freePort();
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=daemonset-js',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    caPem = await readFile(join(dir, 'tls.crt'), 'utf8');
    const guarded = spawnService('apiserver-auth', 'dist/services/apiserver/main.js', {
      ...env,
      APISERVER_PORT: String(guardedPort),
      APISERVER_TOKEN_FILE: join(dir, 'token'),
      APISERVER_TLS_CERT_FILE: join(dir, 'tls.crt'),
      APISERVER_TLS_KEY_FILE: join(dir, 'tls.key'),
    });
    procs.push(guarded);
    await guarded.waitForLog((l) => l.json?.['msg'] === 'apiserver listening');
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl apply -f of the whole fluentd manifest creates the Namespace and the DaemonSet; get ds -A shows 3/3/3; get pods -o wide shows one per node', async () => {
    const applied = await kubectl(['apply', '-f', '-'], fluentdManifest());
    assert.deepEqual([applied.code, applied.stdout, applied.stderr], [0, 'namespace/logging created\ndaemonset.apps/fluentd-elasticsearch created\n', '']);
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

    const again = await kubectl(['apply', '-f', '-'], fluentdManifest());
    assert.equal(again.stdout, 'namespace/logging unchanged\ndaemonset.apps/fluentd-elasticsearch unchanged\n');
  });

  it('kubectl get ns lists logging beside the built-ins; a built-in cannot be deleted', async () => {
    const rows = (await ok('get', 'ns')).trimEnd().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1]]), ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'logging'].map((n) => [n, 'Active']));
    assert.equal(await ok('get', 'ns', 'logging', '-o', 'jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name}'), 'logging');
    const r = await kubectl(['delete', 'ns', 'default']);
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted\n']);
  });

  it('kubectl apply --server-side creates, then merges (a label added by kubectl label stays)', async () => {
    const manifest = ssaDaemonSetYaml;
    const created = await kubectl(['apply', '--server-side', '-f', '-'], manifest('nginx:1'));
    assert.deepEqual([created.code, created.stdout, created.stderr], [0, 'daemonset.apps/ssa serverside-applied\n', '']);
    assert.equal(await ok('label', 'ds', 'ssa', '-n', 'logging', 'owner=ops'), 'daemonset.apps/ssa labeled\n');
    const again = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest('nginx:2'));
    assert.deepEqual([again.code, again.stdout], [0, 'daemonset.apps/ssa serverside-applied\n']);
    assert.equal(await ok('get', 'ds', 'ssa', '-n', 'logging', '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.metadata.labels.owner}'), 'nginx:2 ops');
    const ns = await kubectl(['apply', '--server-side', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ssa-ns}\n');
    assert.deepEqual([ns.code, ns.stdout], [0, 'namespace/ssa-ns serverside-applied\n']);
  });

  it('a manifest with an unknown field gets the strict decoding error naming it (fieldValidation=Strict), and nothing is created', async () => {
    const typo = fluentdDaemonSet().replace('fluentd-elasticsearch\n  namespace', 'typo\n  namespace').replace(/^( *)image: (.*)$/m, '$1image: $2\n$1imagePullPolicyy: Always');
    const r = await kubectl(['apply', '-f', '-'], typo);
    assert.deepEqual(
      [r.code, r.stderr],
      [1, 'Error from server (BadRequest): error when creating "STDIN": DaemonSet in version "v1" cannot be handled as a DaemonSet: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"\n'],
    );
    assert.equal((await kubectl(['get', 'ds', 'typo', ...NS])).code, 1);
    const warned = await kubectl(['apply', '--validate=warn', '-f', '-'], typo);
    assert.deepEqual([warned.code, warned.stdout, warned.stderr], [0, 'daemonset.apps/typo created\n', 'Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"\n']);
    assert.equal(await ok('delete', 'ds', 'typo', ...NS), 'daemonset.apps "typo" deleted\n');
  });

  it('with a bearer token configured (over TLS), kubectl without it gets Unauthorized; with it, it works', async () => {
    const config = async (name: string, user: string): Promise<NodeJS.ProcessEnv> => {
      await writeFile(join(dir, name), kubeconfig(guardedPort, user, { caPem }));
      return { ...kubeEnv, KUBECONFIG: join(dir, name), KUBECACHEDIR: join(dir, `cache-${name}`) };
    };
    // (A kubeconfig user with no credentials at all makes kubectl prompt for a password over
    // https, as with any cluster; the integration test sends requests without the header.)
    // A fresh client with a wrong token fails at discovery, which client-go words itself.
    const fresh = await kubectlWith(await config('kubeconfig-fresh-wrong-token', `{ token: ${TOKEN}x }`), ['get', 'ns']);
    assert.equal(fresh.code, 1);
    assert.match(fresh.stderr, /\nerror: You must be logged in to the server \(the server has asked for the client to provide credentials\)\n$/);
    const withToken = await config('kubeconfig-token', `{ token: ${TOKEN} }`);
    const allowed = await kubectlWith(withToken, ['get', 'ns', 'logging', '-o', 'name']);
    assert.deepEqual([allowed.code, allowed.stdout, allowed.stderr], [0, 'namespace/logging\n', '']);
    // With discovery cached, the request itself is refused and kubectl prints the Status's message.
    const wrong = await kubectlWith({ ...withToken, KUBECONFIG: (await config('kubeconfig-wrong-token', `{ token: ${TOKEN}x }`)).KUBECONFIG }, ['get', 'ns', 'logging']);
    assert.deepEqual([wrong.code, wrong.stderr], [1, 'error: You must be logged in to the server (Unauthorized)\n']);
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

  it('kubectl delete ns deletes its DaemonSets, then the namespace', async () => {
    assert.equal(await ok('delete', 'ns', 'logging'), 'namespace "logging" deleted\n');
    // kubectl, seeing a 404, asks for the namespace and names it when it is the one missing.
    const ds = await kubectl(['get', 'ds', 'ssa', '-n', 'logging']);
    assert.deepEqual([ds.code, ds.stderr], [1, 'Error from server (NotFound): namespaces "logging" not found\n']);
    const ns = await kubectl(['get', 'ns', 'logging']);
    assert.deepEqual([ns.code, ns.stderr], [1, 'Error from server (NotFound): namespaces "logging" not found\n']);
    const orphan = await kubectl(['create', '-n', 'logging', '-f', '-'], fluentdDaemonSet().replace('namespace: kube-system', 'namespace: logging'));
    assert.deepEqual([orphan.code, orphan.stderr], [1, 'Error from server (NotFound): error when creating "STDIN": namespaces "logging" not found\n']);
  });

  it('kubectl delete ds removes it and its pods', async () => {
    assert.equal(await ok('delete', 'ds', 'fluentd-elasticsearch', ...NS), 'daemonset.apps "fluentd-elasticsearch" deleted\n');
    const r = await kubectl(['get', 'ds', '-A']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', 'No resources found\n']);
    await eventually(async () => assert.equal((await kubectl(['get', 'pods', ...NS])).stderr, 'No resources found in kube-system namespace.\n'), { timeoutMs: 15_000 });
  });
});
