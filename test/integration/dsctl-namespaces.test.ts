// dsctl and namespaces against a real nats-server (controller and two sim agents in process, the
// CLI as a real child process): `apply` of the whole fluentd example (Namespace, then DaemonSet),
// re-apply and configure, a DaemonSet into a namespace that does not exist refused whole with
// kubectl's text, `get ns` (table, -o name, -o json), `delete ns` with its DaemonSets, and the
// built-ins that cannot be deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { fluentdManifest } from '../support/manifests.js';
import { runCli } from '../support/processes.js';

const DS_IN = (namespace: string, name: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: main, image: busybox}]}
`;

describe('dsctl: namespaces', () => {
  let cluster: InProcessCluster;
  const dsctl = (args: readonly string[], input?: string): ReturnType<typeof runCli> => runCli(args, cluster.env, input);

  before(async () => {
    cluster = await startInProcessCluster({ nodes: ['n1', 'n2'], dirPrefix: 'dsctl-ns-' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('apply of the fluentd example creates the Namespace, then the DaemonSet; again: both unchanged', async () => {
    const first = await dsctl(['apply', '-f', '-'], fluentdManifest());
    assert.deepEqual([first.code, first.stdout, first.stderr], [0, 'namespace/logging created\ndaemonset.apps/fluentd-elasticsearch created\n', '']);
    const again = await dsctl(['apply', '-f', '-'], fluentdManifest());
    assert.deepEqual([again.code, again.stdout], [0, 'namespace/logging unchanged\ndaemonset.apps/fluentd-elasticsearch unchanged\n']);
    const labelled = await dsctl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: logging, labels: {team: obs}}\n');
    assert.deepEqual([labelled.code, labelled.stdout], [0, 'namespace/logging configured\n']);
  });

  it('a DaemonSet into a namespace that does not exist is refused and nothing of the file is written', async () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n---\n${DS_IN('missing', 'web')}`;
    const r = await dsctl(['apply', '-f', '-'], text);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'Error from server (NotFound): error when creating "STDIN": namespaces "missing" not found\n']);
    const ns = await dsctl(['get', 'ns', 'fresh']);
    assert.deepEqual([ns.code, ns.stderr], [1, 'Error from server (NotFound): namespaces "fresh" not found\n']);
    // Created earlier in the same file, it is there for the DaemonSet.
    const ok = await dsctl(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n---\n${DS_IN('fresh', 'web')}`);
    assert.deepEqual([ok.code, ok.stdout], [0, 'namespace/fresh created\ndaemonset.apps/web created\n']);
  });

  it('get ns lists the built-ins and the created ones with kubectl\'s columns; -o name and -o json', async () => {
    const table = await dsctl(['get', 'ns']);
    assert.equal(table.code, 0);
    const rows = table.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'AGE']);
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1]]), ['default', 'fresh', 'kube-node-lease', 'kube-public', 'kube-system', 'logging'].map((n) => [n, 'Active']));
    assert.ok(rows.slice(1).every((r) => /^\d+[smhd]/.test(r[2]!)), table.stdout);
    assert.equal((await dsctl(['get', 'namespaces', '-o', 'name'])).stdout, 'namespace/default\nnamespace/fresh\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\nnamespace/logging\n');
    const json = JSON.parse((await dsctl(['get', 'ns/logging', '-o', 'json'])).stdout) as { kind: string; metadata: { name: string; labels: Record<string, string> }; status: unknown };
    assert.deepEqual([json.kind, json.metadata.name, json.metadata.labels, json.status], ['Namespace', 'logging', { team: 'obs', 'kubernetes.io/metadata.name': 'logging' }, { phase: 'Active' }]);
  });

  it('delete ns deletes its DaemonSets and then itself; built-ins are forbidden; a missing one is NotFound', async () => {
    await eventually(async () => assert.match((await dsctl(['get', 'pods', '-n', 'fresh'])).stdout, /^web-/m), { timeoutMs: 10_000 });
    const forbidden = await dsctl(['delete', 'ns', 'kube-system']);
    assert.deepEqual([forbidden.code, forbidden.stderr], [1, 'Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted\n']);
    const r = await dsctl(['delete', 'ns', 'fresh']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'namespace "fresh" deleted\n', '']);
    const ds = await dsctl(['get', 'ds', 'web', '-n', 'fresh']);
    assert.deepEqual([ds.code, ds.stderr], [1, 'Error from server (NotFound): daemonsets.apps "web" not found\n']);
    const gone = await dsctl(['get', 'ns', 'fresh']);
    assert.deepEqual([gone.code, gone.stderr], [1, 'Error from server (NotFound): namespaces "fresh" not found\n']);
    await eventually(async () => assert.equal((await dsctl(['get', 'pods', '-n', 'fresh'])).stderr, 'No resources found in fresh namespace.\n'), { timeoutMs: 10_000 });
    const missing = await dsctl(['delete', 'ns', 'fresh']);
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error from server (NotFound): namespaces "fresh" not found\n']);
  });
});
