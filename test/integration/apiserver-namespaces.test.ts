// The API facade's namespaces, server-side apply, fieldValidation and bearer token, against a
// real nats-server with the controller and two sim agents in this process: Namespace objects as
// logged events (create, patch, update with a stale resourceVersion, delete with its DaemonSets,
// built-ins forbidden), DaemonSets refused in a namespace that does not exist, two concurrent
// creates of one namespace, `application/apply-patch+yaml`, unknown fields, and 401s.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { decodeEvent } from '../../libs/codec/codec.js';
import { LOG_STREAM, namespaceSubject } from '../../libs/topology/names.js';
import { readToken } from '../../services/apiserver/config.js';
import { createWriteContext } from '../../services/apiserver/log-writes.js';
import { startReadModel, type ReadModel } from '../../services/apiserver/read-model.js';
import { startApiServer, type ApiServer } from '../../services/apiserver/server.js';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { ssaDaemonSetYaml } from '../support/manifests.js';

const silent = pino({ level: 'silent' });
const TOKEN = 'kubectl-token-7f3a9c';

type Obj = Record<string, unknown>;

function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const step of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[step] : undefined;
  return v;
}

const daemonSet = (name: string, namespace: string, image: string, container: Obj = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace },
  spec: {
    selector: { matchLabels: { name } },
    template: { metadata: { labels: { name } }, spec: { containers: [{ name: 'main', image, ...container }] } },
  },
});

interface Reply {
  readonly code: number;
  readonly body: unknown;
  readonly warnings: string | null;
}

describe('API facade: namespaces, server-side apply, fieldValidation, bearer token', () => {
  let cluster: InProcessCluster;
  let model: ReadModel;
  let server: ApiServer;
  let guarded: ApiServer;

  const request = async (base: string, method: string, path: string, opts: { body?: unknown; text?: string; contentType?: string; token?: string } = {}): Promise<Reply> => {
    const text = opts.text ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined);
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(text !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
        ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      ...(text !== undefined ? { body: text } : {}),
    });
    const reply = await res.text();
    return { code: res.status, body: reply ? (JSON.parse(reply) as unknown) : {}, warnings: res.headers.get('warning') };
  };
  const call = (method: string, path: string, opts: { body?: unknown; text?: string; contentType?: string } = {}): Promise<Reply> => request(server.url, method, path, opts);
  const status = (r: Reply): unknown[] => [r.code, at(r.body, 'reason'), at(r.body, 'message')];
  /** Every event written on a namespace's subject, oldest first, as `seq type`. */
  const onSubject = async (subject: string): Promise<{ seq: number; type: string }[]> => {
    const jsm = await jetstreamManager(cluster.nc);
    const out: { seq: number; type: string }[] = [];
    for (let seq = 1; seq <= (await jsm.streams.info(LOG_STREAM)).state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(LOG_STREAM, { seq }).catch(() => undefined);
      if (!m || m.subject !== subject) continue;
      const r = decodeEvent(m.data);
      if (r.ok) out.push({ seq, type: r.event.type });
    }
    return out;
  };

  before(async () => {
    cluster = await startInProcessCluster({ nodes: ['node-1', 'node-2'], dirPrefix: 'apiserver-ns-' });
    model = await startReadModel(cluster.nc, silent);
    const writes = await createWriteContext(cluster.nc, model, silent);
    server = await startApiServer({ host: '127.0.0.1', port: 0, model, writes, log: silent });
    const tokenFile = join(cluster.dir, 'token');
    await writeFile(tokenFile, `  ${TOKEN}\n`);
    guarded = await startApiServer({ host: '127.0.0.1', port: 0, model, writes, log: silent, token: await readToken(tokenFile) });
  });

  after(async () => {
    await guarded?.close();
    await server?.close();
    await model?.stop();
    await cluster?.stop();
  });

  it('POST creates a Namespace (201) served by get and list; a second POST is 409 AlreadyExists; a bad name is 422', async () => {
    const created = await call('POST', '/api/v1/namespaces?fieldValidation=Strict', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logging', labels: { team: 'obs' } } } });
    assert.equal(created.code, 201);
    assert.deepEqual(at(created.body, 'metadata', 'labels'), { team: 'obs', 'kubernetes.io/metadata.name': 'logging' });
    assert.deepEqual(at(created.body, 'status'), { phase: 'Active' });
    const got = await call('GET', '/api/v1/namespaces/logging');
    assert.deepEqual([got.code, at(got.body, 'metadata', 'uid')], [200, at(created.body, 'metadata', 'uid')]);
    const names = ((await call('GET', '/api/v1/namespaces')).body as { items: Obj[] }).items.map((n) => at(n, 'metadata', 'name'));
    assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'logging']);
    const again = await call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logging' } } });
    assert.deepEqual(status(again), [409, 'AlreadyExists', 'namespaces "logging" already exists']);
    const builtin = await call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } });
    assert.deepEqual(status(builtin), [409, 'AlreadyExists', 'namespaces "default" already exists']);
    const bad = await call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } } });
    assert.equal(bad.code, 422);
    assert.match(String(at(bad.body, 'message')), /^Namespace "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of/);
    assert.deepEqual((await onSubject(namespaceSubject('logging'))).map((e) => e.type), ['NamespaceCreated']);
  });

  it('two concurrent creates of one namespace: exactly one wins, the other is AlreadyExists', async () => {
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'race' } };
    const replies = await Promise.all([call('POST', '/api/v1/namespaces', { body }), call('POST', '/api/v1/namespaces', { body })]);
    assert.deepEqual(replies.map((r) => r.code).sort(), [201, 409]);
    assert.deepEqual((await onSubject(namespaceSubject('race'))).map((e) => e.type), ['NamespaceCreated']);
  });

  it('a DaemonSet in a namespace that does not exist is 404 namespaces "x" not found; in a created one it is 201', async () => {
    const missing = await call('POST', '/apis/apps/v1/namespaces/nope/daemonsets', { body: daemonSet('web', 'nope', 'nginx:1') });
    assert.deepEqual(status(missing), [404, 'NotFound', 'namespaces "nope" not found']);
    assert.equal(model.state.daemonSets.has('nope/web'), false);
    const ok = await call('POST', '/apis/apps/v1/namespaces/logging/daemonsets', { body: daemonSet('web', 'logging', 'nginx:1') });
    assert.equal(ok.code, 201);
  });

  it('a patch of a namespace\'s labels keeps its uid; a PUT with a stale resourceVersion is 409 Conflict', async () => {
    const before = (await call('GET', '/api/v1/namespaces/logging')).body as Obj;
    const patched = await call('PATCH', '/api/v1/namespaces/logging', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { tier: 'infra' } } } });
    assert.equal(patched.code, 200);
    assert.deepEqual(at(patched.body, 'metadata', 'labels'), { team: 'obs', tier: 'infra', 'kubernetes.io/metadata.name': 'logging' });
    assert.equal(at(patched.body, 'metadata', 'uid'), at(before, 'metadata', 'uid'));
    const stale = await call('PUT', '/api/v1/namespaces/logging', { body: before });
    assert.deepEqual(status(stale), [409, 'Conflict', 'Operation cannot be fulfilled on namespaces "logging": the object has been modified; please apply your changes to the latest version and try again']);
  });

  it('server-side apply (YAML) creates a missing DaemonSet (201), then merges: applied fields replace, others stay', async () => {
    const yaml = ssaDaemonSetYaml;
    const path = '/apis/apps/v1/namespaces/logging/daemonsets/ssa?fieldManager=kubectl&fieldValidation=Strict';
    const created = await call('PATCH', path, { text: yaml('nginx:1'), contentType: 'application/apply-patch+yaml' });
    assert.deepEqual([created.code, at(created.body, 'spec', 'template', 'spec', 'containers', 0, 'image'), at(created.body, 'metadata', 'generation')], [201, 'nginx:1', 1]);
    // Someone else adds a label and an env var; the next apply does not mention them.
    const merged = await call('PATCH', '/apis/apps/v1/namespaces/logging/daemonsets/ssa', {
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { labels: { owner: 'ops' } }, spec: { template: { spec: { containers: [{ name: 'main', env: [{ name: 'A', value: '1' }] }] } } } },
    });
    assert.equal(merged.code, 200);
    const applied = await call('PATCH', `${path}&force=true`, { text: yaml('nginx:2'), contentType: 'application/apply-patch+yaml' });
    assert.equal(applied.code, 200);
    const main = at(applied.body, 'spec', 'template', 'spec', 'containers', 0);
    assert.deepEqual(
      [at(main, 'image'), at(main, 'env'), at(applied.body, 'metadata', 'labels'), at(applied.body, 'metadata', 'generation')],
      ['nginx:2', [{ name: 'A', value: '1' }], { owner: 'ops' }, 3],
    );
    assert.equal(at(applied.body, 'metadata', 'managedFields'), undefined, 'no managedFields: the log keeps no field ownership');
  });

  it('server-side apply creates a Namespace, and configures one', async () => {
    const body = (labels: Obj): unknown => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'applied', labels } });
    const created = await call('PATCH', '/api/v1/namespaces/applied?fieldManager=kubectl', { body: body({ a: '1' }), contentType: 'application/apply-patch+yaml' });
    assert.deepEqual([created.code, at(created.body, 'metadata', 'labels', 'a')], [201, '1']);
    const again = await call('PATCH', '/api/v1/namespaces/applied?fieldManager=kubectl', { body: body({ b: '2' }), contentType: 'application/apply-patch+yaml' });
    assert.deepEqual([again.code, at(again.body, 'metadata', 'labels')], [200, { a: '1', b: '2', 'kubernetes.io/metadata.name': 'applied' }]);
  });

  it('fieldValidation: Strict refuses an unknown field naming it; Warn accepts with a Warning header and drops it; Ignore is silent', async () => {
    const typo = (name: string): Obj => daemonSet(name, 'logging', 'nginx:1', { imagePullPolicyy: 'Always' });
    const strict = await call('POST', '/apis/apps/v1/namespaces/logging/daemonsets?fieldValidation=Strict', { body: typo('typo') });
    assert.deepEqual(status(strict), [
      400,
      'BadRequest',
      'DaemonSet in version "v1" cannot be handled as a DaemonSet: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
    ]);
    assert.equal((await call('GET', '/apis/apps/v1/namespaces/logging/daemonsets/typo')).code, 404);
    const patch = await call('PATCH', '/apis/apps/v1/namespaces/logging/daemonsets/web?fieldValidation=Strict', {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'main', imagePullPolicyy: 'Always' }] } } } },
    });
    assert.deepEqual(status(patch), [400, 'BadRequest', 'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"']);
    const warn = await call('POST', '/apis/apps/v1/namespaces/logging/daemonsets?fieldValidation=Warn', { body: typo('warned') });
    assert.deepEqual([warn.code, warn.warnings], [201, '299 - "unknown field \\"spec.template.spec.containers[0].imagePullPolicyy\\""']);
    const main = at(warn.body, 'spec', 'template', 'spec', 'containers', 0);
    assert.deepEqual([at(main, 'image'), Object.keys(main as Obj).includes('imagePullPolicyy')], ['nginx:1', false]);
    const ignore = await call('POST', '/apis/apps/v1/namespaces/logging/daemonsets?fieldValidation=Ignore', { body: typo('ignored') });
    assert.deepEqual([ignore.code, ignore.warnings], [201, null]);
    const unsupported = await call('POST', '/apis/apps/v1/namespaces/logging/daemonsets?fieldValidation=Loud', { body: typo('x') });
    assert.deepEqual(status(unsupported), [400, 'BadRequest', 'fieldValidation parameter unsupported: Loud']);
  });

  it('deleting a namespace deletes its DaemonSets first (background), then the namespace; built-ins are 403 Forbidden', async () => {
    const forbidden = await call('DELETE', '/api/v1/namespaces/default');
    assert.deepEqual(status(forbidden), [403, 'Forbidden', 'namespaces "default" is forbidden: this namespace may not be deleted']);
    const inLogging = (): string[] => [...model.state.daemonSets.values()].filter((d) => d.namespace === 'logging' && !d.deletion).map((d) => d.name).sort();
    assert.deepEqual(inLogging(), ['ignored', 'ssa', 'warned', 'web']);
    const deleted = await call('DELETE', '/api/v1/namespaces/logging');
    assert.deepEqual([deleted.code, at(deleted.body, 'status', 'phase')], [200, 'Terminating']);
    assert.deepEqual(inLogging(), []);
    assert.deepEqual(status(await call('GET', '/api/v1/namespaces/logging')), [404, 'NotFound', 'namespaces "logging" not found']);
    assert.equal((await call('GET', '/apis/apps/v1/namespaces/logging/daemonsets/web')).code, 404);
    // The namespace's own event comes after every DaemonSetDeleted.
    const nsEvents = await onSubject(namespaceSubject('logging'));
    assert.deepEqual(nsEvents.map((e) => e.type), ['NamespaceCreated', 'NamespaceCreated', 'NamespaceDeleted']);
    const jsm = await jetstreamManager(cluster.nc);
    const last = await jsm.streams.getMessage(LOG_STREAM, { last_by_subj: 's.*.ds.>' });
    assert.ok(last !== null && last.seq < nsEvents[2]!.seq);
    assert.deepEqual(status(await call('DELETE', '/api/v1/namespaces/logging')), [404, 'NotFound', 'namespaces "logging" not found']);
    // The pods of its DaemonSets go too.
    await eventually(() => assert.deepEqual([...model.state.pods.values()].filter((p) => p.namespace === 'logging'), []), { timeoutMs: 10_000 });
    // And it can be created again, with a new uid.
    assert.equal((await call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'logging' } } })).code, 201);
  });

  it('with a token configured: 401 Unauthorized without it or with a wrong one, never echoing it; health checks stay open', async () => {
    const none = await request(guarded.url, 'GET', '/api/v1/namespaces');
    assert.deepEqual(none.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const wrong = await request(guarded.url, 'GET', '/api/v1/namespaces', { token: `${TOKEN}x` });
    assert.deepEqual([wrong.code, JSON.stringify(wrong.body).includes(TOKEN)], [401, false]);
    const write = await request(guarded.url, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sneaky' } } });
    assert.equal(write.code, 401);
    assert.equal(model.state.namespaces.has('sneaky'), false);
    const right = await request(guarded.url, 'GET', '/api/v1/namespaces/default', { token: TOKEN });
    assert.deepEqual([right.code, at(right.body, 'metadata', 'name')], [200, 'default']);
    const health = await fetch(`${guarded.url}/healthz`);
    assert.deepEqual([health.status, await health.text()], [200, 'ok']);
  });
});
