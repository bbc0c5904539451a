// The Kubernetes API facade against a real nats-server, with the controller, three sim agents
// and the API server in this process: discovery shapes, get/list/Table/watch, the writes kubectl
// sends (create, strategic/merge/JSON patches, update with a stale resourceVersion, delete with
// each propagation policy, node label/taint/cordon patches), and Status errors.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { createWriteContext } from '../../services/apiserver/log-writes.js';
import { jsonMergePatch, jsonPatch, strategicMergePatch, type Json } from '../../services/apiserver/patch.js';
import { startReadModel, type ReadModel } from '../../services/apiserver/read-model.js';
import { startApiServer, type ApiServer } from '../../services/apiserver/server.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

const silent = pino({ level: 'silent' });
const NODES = ['node-1', 'node-2', 'node-3'];
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

type Obj = Record<string, unknown>;

/** The JSON value at `path` (keys and list indexes), undefined when any step is missing. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const step of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[step] : undefined;
  return v;
}

/** The list at `path`; fails the test when it is not one. */
function list(value: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(value, ...path);
  assert.ok(Array.isArray(v), `${path.join('.')} is not a list: ${JSON.stringify(v)}`);
  return v;
}

function setAt(value: unknown, path: readonly (string | number)[], to: unknown): void {
  const parent = at(value, ...path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (to === undefined) delete parent[last];
  else parent[last] = to;
}

const daemonSet = (name: string, image: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': name } },
  spec: {
    selector: { matchLabels: { name } },
    template: {
      metadata: { labels: { name } },
      spec: {
        containers: [{ name: 'main', image, resources: { limits: { memory: '200Mi' } }, env: [{ name: 'A', value: '1' }] }],
        terminationGracePeriodSeconds: 30,
      },
    },
  },
});

describe('strategic merge, JSON merge and JSON patches (pure)', () => {
  const cases: { name: string; original: Json; patch: Json; want: Json }[] = [
    {
      name: 'containers merge by name; fields not in the patch stay (kubectl set image)',
      original: { spec: { containers: [{ name: 'a', image: 'x:1', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y:1' }] } },
      patch: { spec: { containers: [{ name: 'b', image: 'y:2' }] } },
      want: { spec: { containers: [{ name: 'a', image: 'x:1', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'y:2' }] } },
    },
    {
      name: '$patch: delete removes a list element by its merge key',
      original: { spec: { volumes: [{ name: 'v1' }, { name: 'v2' }] } },
      patch: { spec: { volumes: [{ name: 'v1', $patch: 'delete' }] } },
      want: { spec: { volumes: [{ name: 'v2' }] } },
    },
    {
      name: '$patch: replace on a map replaces it whole (rollout undo of a ControllerRevision)',
      original: { spec: { template: { metadata: { labels: { a: '1' }, annotations: { r: 'x' } }, spec: { containers: [{ name: 'c', image: 'new' }] } } } },
      patch: { spec: { template: { $patch: 'replace', metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'old' }] } } } },
      want: { spec: { template: { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'old' }] } } } },
    },
    {
      name: 'lists without a merge key are replaced (tolerations, taints); null deletes a key',
      original: { spec: { tolerations: [{ key: 'a' }], unschedulable: true } },
      patch: { spec: { tolerations: [{ key: 'b' }], unschedulable: null } },
      want: { spec: { tolerations: [{ key: 'b' }] } },
    },
    {
      name: '$setElementOrder orders the merged list',
      original: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] },
      patch: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a', image: '2' }] },
      want: { containers: [{ name: 'b', image: '1' }, { name: 'a', image: '2' }] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(strategicMergePatch(c.original, c.patch), c.want);
    });
  }

  it('JSON merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
    assert.deepEqual(jsonMergePatch({ a: { b: 1, c: 2 }, l: [1] }, { a: { b: null, d: 3 }, l: [2] }), { a: { c: 2, d: 3 }, l: [2] });
    assert.deepEqual(
      jsonPatch({ spec: { containers: [{ image: 'x' }] } }, [
        { op: 'test', path: '/spec/containers/0/image', value: 'x' },
        { op: 'replace', path: '/spec/containers/0/image', value: 'y' },
        { op: 'add', path: '/spec/containers/-', value: { image: 'z' } },
        { op: 'remove', path: '/spec/containers/0' },
      ]),
      { spec: { containers: [{ image: 'z' }] } },
    );
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), /testing value \/a failed/);
  });
});

describe('Kubernetes API facade (real nats-server, controller and 3 agents in-process)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  let controller: ControllerHandle;
  let model: ReadModel;
  let server: ApiServer;
  const agents: AgentHandle[] = [];

  const call = async (method: string, path: string, opts: { body?: unknown; contentType?: string; accept?: string } = {}): Promise<{ code: number; body: unknown }> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        accept: opts.accept ?? 'application/json',
        ...(opts.body !== undefined ? { 'content-type': opts.contentType ?? 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { code: res.status, body: text ? (JSON.parse(text) as unknown) : {} };
  };
  const DS = '/apis/apps/v1/namespaces/kube-system/daemonsets';

  /** Reads watch events until `until` says stop (or the deadline), then closes the stream. */
  const watch = async (path: string, until: (events: unknown[]) => boolean): Promise<unknown[]> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 10_000);
    const events: unknown[] = [];
    try {
      const res = await fetch(`${server.url}${path}`, { signal: abort.signal, headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      const decoder = new TextDecoder();
      let pending = '';
      for await (const chunk of res.body!) {
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          events.push(JSON.parse(pending.slice(0, nl)) as unknown);
          pending = pending.slice(nl + 1);
        }
        if (until(events)) break;
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    return events;
  };

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    dir = await tempDir('apiserver-it-');
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'it', SLOTS: '8' }), silent);
    for (const node of NODES) {
      const cfg = loadAgentConfig({ NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '5', SIM_READY_DELAY_MS: '5' });
      agents.push(await startAgent(nc, cfg, silent.child({ node })));
    }
    model = await startReadModel(nc, silent);
    server = await startApiServer({ host: '127.0.0.1', port: 0, model, writes: await createWriteContext(nc, model, silent), log: silent });
    await eventually(() => assert.equal(model.state.nodes.size, 3));
  });

  after(async () => {
    await server.close();
    await model.stop();
    for (const a of agents) await a.stop({ deregister: false });
    await controller.stop();
    await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('discovery: /version, /api, /api/v1, /apis, /apis/apps/v1; no OpenAPI v2', async () => {
    const version = await call('GET', '/version');
    assert.deepEqual([at(version.body, 'major'), at(version.body, 'minor')], ['1', '32']);
    assert.deepEqual(at((await call('GET', '/api')).body, 'versions'), ['v1']);
    const core = (await call('GET', '/api/v1')).body;
    assert.equal(at(core, 'groupVersion'), 'v1');
    assert.deepEqual(
      list(core, 'resources').map((r) => [at(r, 'name'), at(r, 'kind'), at(r, 'namespaced'), at(r, 'shortNames') ?? []]),
      [
        ['pods', 'Pod', true, ['po']],
        ['nodes', 'Node', false, ['no']],
        ['namespaces', 'Namespace', false, ['ns']],
        ['events', 'Event', true, ['ev']],
      ],
    );
    const groups = (await call('GET', '/apis')).body;
    assert.deepEqual(at(groups, 'groups'), [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }]);
    const apps = (await call('GET', '/apis/apps/v1')).body;
    assert.deepEqual(
      list(apps, 'resources').map((r) => [at(r, 'name'), at(r, 'kind'), at(r, 'shortNames') ?? [], at(r, 'verbs')]),
      [
        ['daemonsets', 'DaemonSet', ['ds'], ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']],
        ['controllerrevisions', 'ControllerRevision', [], ['get', 'list', 'watch']],
      ],
    );
    const v2 = await call('GET', '/openapi/v2');
    assert.deepEqual([v2.code, at(v2.body, 'kind'), at(v2.body, 'reason')], [404, 'Status', 'NotFound']);
    const v3 = (await call('GET', '/openapi/v3')).body;
    assert.deepEqual(Object.keys(at(v3, 'paths') as object).sort(), ['api/v1', 'apis/apps/v1']);
  });

  it('POST creates a DaemonSet (201) and the controller converges it 3/3/3, served by get, list and Table', async () => {
    const created = await call('POST', DS, { body: daemonSet('fluentd', 'fluentd:v1') });
    assert.equal(created.code, 201);
    assert.deepEqual([at(created.body, 'metadata', 'name'), at(created.body, 'metadata', 'generation')], ['fluentd', 1]);
    assert.equal(at(created.body, 'spec', 'updateStrategy', 'rollingUpdate', 'maxUnavailable'), 1, 'defaults are filled in');
    await eventually(async () => {
      const s = at((await call('GET', `${DS}/fluentd`)).body, 'status');
      assert.deepEqual([at(s, 'desiredNumberScheduled'), at(s, 'currentNumberScheduled'), at(s, 'numberReady'), at(s, 'numberAvailable')], [3, 3, 3, 3]);
    });
    const all = (await call('GET', '/apis/apps/v1/daemonsets')).body;
    assert.equal(at(all, 'kind'), 'DaemonSetList');
    assert.equal(at(all, 'metadata', 'resourceVersion'), String(model.servedSeq()));
    assert.deepEqual(list(all, 'items').map((d) => `${at(d, 'metadata', 'namespace')}/${at(d, 'metadata', 'name')}`), ['kube-system/fluentd']);
    assert.ok(Number(at(all, 'items', 0, 'metadata', 'resourceVersion')) > 0);
    const pods = (await call('GET', '/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dfluentd')).body;
    assert.deepEqual(list(pods, 'items').map((p) => at(p, 'spec', 'nodeName')).sort(), NODES);
    const onNode1 = (await call('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1,metadata.namespace%3Dkube-system')).body;
    assert.deepEqual(list(onNode1, 'items').map((p) => at(p, 'spec', 'nodeName')), ['node-1']);
    assert.equal(list((await call('GET', '/api/v1/namespaces/default/pods')).body, 'items').length, 0);

    const table = (await call('GET', `${DS}`, { accept: TABLE })).body;
    assert.equal(at(table, 'kind'), 'Table');
    assert.deepEqual(
      list(table, 'columnDefinitions').filter((c) => at(c, 'priority') === 0).map((c) => at(c, 'name')),
      ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age'],
    );
    const row = list(table, 'rows')[0]!;
    assert.deepEqual(list(row, 'cells').slice(0, 7), ['fluentd', 3, 3, 3, 3, 3, '<none>']);
    assert.match(String(list(row, 'cells')[7]), /^\d+s$/);
    assert.deepEqual([at(row, 'object', 'kind'), at(row, 'object', 'metadata', 'namespace')], ['PartialObjectMetadata', 'kube-system']);

    const nodes = (await call('GET', '/api/v1/nodes', { accept: TABLE })).body;
    assert.deepEqual(list(nodes, 'rows').map((r) => list(r, 'cells').slice(0, 3)), NODES.map((n) => [n, 'Ready', '<none>']));
    const namespaces = (await call('GET', '/api/v1/namespaces')).body;
    assert.deepEqual(list(namespaces, 'items').map((n) => at(n, 'metadata', 'name')), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('events of the DaemonSet, found by the field selector kubectl describe sends', async () => {
    const uid = String(at((await call('GET', `${DS}/fluentd`)).body, 'metadata', 'uid'));
    const q = new URLSearchParams({ fieldSelector: `involvedObject.name=fluentd,involvedObject.namespace=kube-system,involvedObject.kind=DaemonSet,involvedObject.uid=${uid}` });
    const events = (await call('GET', `/api/v1/namespaces/kube-system/events?${q}`)).body;
    const created = list(events, 'items').filter((e) => at(e, 'reason') === 'SuccessfulCreate');
    assert.equal(created.length, 3);
    assert.ok(created.every((e) => at(e, 'type') === 'Normal' && at(e, 'source', 'component') === 'daemonset-controller' && /^Created pod: fluentd-[a-z0-9]{5}$/.test(String(at(e, 'message')))));
  });

  it('a watch from the list resourceVersion replays what changed after it (strategic merge patch of an image)', async () => {
    const listRv = String(at((await call('GET', `${DS}?fieldSelector=metadata.name%3Dfluentd`)).body, 'metadata', 'resourceVersion'));
    const patched = await call('PATCH', `${DS}/fluentd`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'main' }], containers: [{ name: 'main', image: 'fluentd:v2' }] } } } },
    });
    assert.equal(patched.code, 200);
    const main = at(patched.body, 'spec', 'template', 'spec', 'containers', 0);
    assert.deepEqual([at(main, 'image'), at(main, 'resources'), at(main, 'env'), at(patched.body, 'metadata', 'generation')], ['fluentd:v2', { limits: { memory: '200Mi' } }, [{ name: 'A', value: '1' }], 2]);
    const events = await watch(`${DS}?watch=1&fieldSelector=metadata.name%3Dfluentd&resourceVersion=${listRv}`, (evs) =>
      evs.some((e) => at(e, 'object', 'metadata', 'generation') === 2),
    );
    assert.deepEqual([...new Set(events.map((e) => at(e, 'type')))], ['MODIFIED']);
    assert.ok(events.every((e) => Number(at(e, 'object', 'metadata', 'resourceVersion')) > Number(listRv)));
    await eventually(async () => assert.equal(at((await call('GET', `${DS}/fluentd`)).body, 'status', 'updatedNumberScheduled'), 3), { timeoutMs: 15_000 });
  });

  it('controllerrevisions: one per template, controlled by the DaemonSet, with revision and data', async () => {
    const revisions = (await call('GET', '/apis/apps/v1/namespaces/kube-system/controllerrevisions?labelSelector=name%3Dfluentd')).body;
    const items = list(revisions, 'items').sort((a, b) => Number(at(a, 'revision')) - Number(at(b, 'revision')));
    assert.deepEqual(items.map((r) => [at(r, 'revision'), at(r, 'data', 'spec', 'template', 'spec', 'containers', 0, 'image')]), [[1, 'fluentd:v1'], [2, 'fluentd:v2']]);
    assert.deepEqual(at(items[0], 'metadata', 'ownerReferences', 0, 'kind'), 'DaemonSet');
    assert.match(JSON.stringify(at(items[0], 'data')), /^\{"spec":\{"template":\{"\$patch":"replace","metadata":\{"creationTimestamp":null,"labels"/);
  });

  it('merge patch and JSON patch are applied to the served object', async () => {
    const merged = await call('PATCH', `${DS}/fluentd`, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { tier: 'logging' } } } });
    assert.deepEqual([merged.code, at(merged.body, 'metadata', 'labels'), at(merged.body, 'metadata', 'generation')], [200, { tier: 'logging', 'k8s-app': 'fluentd' }, 2]);
    const jp = await call('PATCH', `${DS}/fluentd`, {
      contentType: 'application/json-patch+json',
      body: [{ op: 'replace', path: '/spec/minReadySeconds', value: 2 }],
    });
    assert.deepEqual([jp.code, at(jp.body, 'spec', 'minReadySeconds'), at(jp.body, 'metadata', 'generation')], [200, 2, 3]);
    const yaml = await call('PATCH', `${DS}/fluentd`, { contentType: 'application/yaml', body: {} });
    assert.deepEqual([yaml.code, at(yaml.body, 'reason')], [415, 'UnsupportedMediaType']);
  });

  it('PUT with the current resourceVersion updates; with a stale one it is 409 Conflict', async () => {
    const stale = structuredClone((await call('GET', `${DS}/fluentd`)).body);
    // The controller's status writes change the resourceVersion too (as in Kubernetes): a GET and
    // a PUT may straddle one, which is a rightful 409. Current means current at the PUT, so the
    // GET and PUT are tried again until no status write came between them.
    await eventually(async () => {
      const current = (await call('GET', `${DS}/fluentd`)).body;
      setAt(current, ['spec', 'minReadySeconds'], 0);
      const ok = await call('PUT', `${DS}/fluentd`, { body: current });
      assert.deepEqual([ok.code, at(ok.body, 'spec', 'minReadySeconds')], [200, 0]);
    }, { timeoutMs: 10_000, message: 'a PUT with the current resourceVersion' });
    setAt(stale, ['spec', 'minReadySeconds'], 5);
    const refused = await call('PUT', `${DS}/fluentd`, { body: stale });
    assert.deepEqual(refused, {
      code: 409,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Operation cannot be fulfilled on daemonsets.apps "fluentd": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        details: { name: 'fluentd', group: 'apps', kind: 'daemonsets' },
        code: 409,
      },
    });
  });

  it('Status errors: NotFound, AlreadyExists, Invalid with causes, immutable selector, MethodNotAllowed', async () => {
    const missing = await call('GET', `${DS}/nope`);
    assert.deepEqual([missing.code, at(missing.body, 'reason'), at(missing.body, 'message')], [404, 'NotFound', 'daemonsets.apps "nope" not found']);
    const dup = await call('POST', DS, { body: daemonSet('fluentd', 'fluentd:v1') });
    assert.deepEqual([dup.code, at(dup.body, 'reason'), at(dup.body, 'message')], [409, 'AlreadyExists', 'daemonsets.apps "fluentd" already exists']);

    const bad = daemonSet('bad', 'x');
    setAt(bad, ['spec', 'template', 'spec', 'containers', 0, 'image'], undefined);
    setAt(bad, ['spec', 'template', 'metadata', 'labels'], { name: 'other' });
    const invalid = await call('POST', DS, { body: bad });
    assert.equal(invalid.code, 422);
    assert.equal(at(invalid.body, 'reason'), 'Invalid');
    assert.deepEqual(at(invalid.body, 'details'), {
      name: 'bad',
      group: 'apps',
      kind: 'DaemonSet',
      causes: [
        { reason: 'FieldValueInvalid', message: 'Invalid value: {"name":"other"}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' },
        { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].image' },
      ],
    });
    assert.equal(list((await call('GET', '/apis/apps/v1/daemonsets')).body, 'items').length, 1, 'nothing was written');

    const selector = await call('PATCH', `${DS}/fluentd`, {
      contentType: 'application/merge-patch+json',
      body: { spec: { selector: { matchLabels: { name: 'x' } }, template: { metadata: { labels: { name: 'x' } } } } },
    });
    assert.deepEqual([selector.code, at(selector.body, 'details', 'causes', 0, 'field'), at(selector.body, 'details', 'causes', 0, 'message')], [422, 'spec.selector', 'Invalid value: {"matchLabels":{"name":"x"}}: field is immutable']);

    const podCreate = await call('POST', '/api/v1/namespaces/kube-system/pods', { body: { kind: 'Pod' } });
    assert.deepEqual([podCreate.code, at(podCreate.body, 'reason')], [405, 'MethodNotAllowed']);
    const unknown = await call('GET', '/apis/batch/v1/jobs');
    assert.deepEqual([unknown.code, at(unknown.body, 'reason')], [404, 'NotFound']);
  });

  it('node PATCHes become admin facts: a label (merge patch), a taint and cordon (strategic merge)', async () => {
    const labeled = await call('PATCH', '/api/v1/nodes/node-1', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { zone: 'a' } } } });
    assert.deepEqual([labeled.code, at(labeled.body, 'metadata', 'labels', 'zone')], [200, 'a']);
    assert.deepEqual(model.state.nodes.get('node-1')?.labelsBySource.admin, { zone: 'a' });
    const tainted = await call('PATCH', '/api/v1/nodes/node-2', {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] } },
    });
    assert.deepEqual([tainted.code, at(tainted.body, 'spec', 'taints')], [200, [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }]]);
    const cordoned = await call('PATCH', '/api/v1/nodes/node-3', { contentType: 'application/strategic-merge-patch+json', body: { spec: { unschedulable: true } } });
    assert.deepEqual([cordoned.code, at(cordoned.body, 'spec', 'unschedulable'), at(cordoned.body, 'spec', 'taints')], [200, true, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]]);
    const agentLabel = await call('PATCH', '/api/v1/nodes/node-1', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { 'kubernetes.io/hostname': null } } } });
    assert.deepEqual([agentLabel.code, at(agentLabel.body, 'details', 'causes', 0, 'field')], [422, 'metadata.labels[kubernetes.io/hostname]']);
    const uncordoned = await call('PATCH', '/api/v1/nodes/node-3', { contentType: 'application/strategic-merge-patch+json', body: { spec: { unschedulable: null } } });
    assert.deepEqual([at(uncordoned.body, 'spec', 'unschedulable'), at(uncordoned.body, 'spec', 'taints')], [undefined, undefined]);
    const untainted = await call('PATCH', '/api/v1/nodes/node-2', { contentType: 'application/strategic-merge-patch+json', body: { spec: { taints: null } } });
    assert.deepEqual([untainted.code, at(untainted.body, 'spec', 'taints'), model.state.nodes.get('node-2')?.taints.admin], [200, undefined, []]);
  });

  it('a watch from a resourceVersion older than the buffer gets 410 Expired', async () => {
    const events = await watch(`/api/v1/nodes?watch=1&resourceVersion=1`, (evs) => evs.length > 0);
    assert.deepEqual([at(events[0], 'type'), at(events[0], 'object', 'code'), at(events[0], 'object', 'reason')], ['ERROR', 410, 'Expired']);
  });

  it('DELETE: Orphan leaves the pods without owner; Background removes the DaemonSet at once', async () => {
    const orphanDs = daemonSet('orphaned', 'o:1');
    assert.equal((await call('POST', DS, { body: orphanDs })).code, 201);
    await eventually(async () => assert.equal(at((await call('GET', `${DS}/orphaned`)).body, 'status', 'numberReady'), 3));
    const orphaned = await call('DELETE', `${DS}/orphaned`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' } });
    assert.deepEqual([orphaned.code, at(orphaned.body, 'status')], [200, 'Success']);
    assert.equal((await call('GET', `${DS}/orphaned`)).code, 404);
    const pods = list((await call('GET', '/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dorphaned')).body, 'items');
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => at(p, 'metadata', 'ownerReferences') === undefined));
    const orphanPod = String(at(pods[0], 'metadata', 'name'));
    const refusedPod = await call('DELETE', `/api/v1/namespaces/kube-system/pods/${orphanPod}`);
    assert.deepEqual(
      [refusedPod.code, at(refusedPod.body, 'message')],
      [409, `pods "${orphanPod}" has no controlling DaemonSet here; nothing would act on its deletion`],
    );

    const fluentdPods = list((await call('GET', '/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dfluentd')).body, 'items');
    const victim = String(at(fluentdPods[0], 'metadata', 'name'));
    const deletedPod = await call('DELETE', `/api/v1/namespaces/kube-system/pods/${victim}`);
    assert.deepEqual([deletedPod.code, at(deletedPod.body, 'metadata', 'name')], [200, victim]);
    await eventually(async () => {
      const now = list((await call('GET', '/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dfluentd')).body, 'items');
      const names = now.map((p) => String(at(p, 'metadata', 'name')));
      assert.ok(!names.includes(victim), `${victim} is still there`);
      assert.equal(names.length, 3, 'the DaemonSet replaced it');
    }, { timeoutMs: 15_000 });

    const gone = await call('DELETE', `${DS}/fluentd?propagationPolicy=Background`);
    assert.deepEqual([gone.code, at(gone.body, 'details', 'name')], [200, 'fluentd']);
    assert.equal((await call('GET', `${DS}/fluentd`)).code, 404);
    await eventually(async () => assert.equal(list((await call('GET', '/api/v1/namespaces/kube-system/pods?labelSelector=name%3Dfluentd')).body, 'items').length, 0));
    const again = await call('DELETE', `${DS}/fluentd`);
    assert.deepEqual([again.code, at(again.body, 'message')], [404, 'daemonsets.apps "fluentd" not found']);
  });
});
