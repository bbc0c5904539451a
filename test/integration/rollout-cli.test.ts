// `dsctl set image` and `dsctl rollout status|history|undo|restart|pause|resume` against a real
// nats-server, with the controller and three sim agents running in this process and the real
// CLI (`node bin/dsctl.js`) as the user runs it. First the pure parts, table-driven.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { initialState, type DsRecord, type DsStatus, type PodRecord, type Revision, type State } from '../../libs/core/state.js';
import { templateHash } from '../../libs/core/template-hash.js';
import type { DefaultedDaemonSetSpec, PodTemplateSpec } from '../../libs/model/types.js';
import { readTopology } from '../../libs/nats/topology.js';
import { dsSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { applyManifests, lastSpec, parseManifests } from '../../services/cli/apply.js';
import { followRolloutStatus } from '../../services/cli/rollout/follow-status.js';
import { formatGoDuration, parseGoDuration } from '../../libs/present/go-duration.js';
import { keptRevisions } from '../../libs/present/kept-revisions.js';
import { summarizeTimeline, type PodTimeline } from '../../libs/present/revision-timeline.js';
import { rollbackPlan } from '../../services/cli/rollout/rollback-plan.js';
import { setImages } from '../../services/cli/rollout/set-image.js';
import { daemonSetStatusView } from '../../services/cli/rollout/status-viewer.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { createsByNode, readLog } from '../support/log.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

// ---- pure parts ---------------------------------------------------------------------------------

describe('go durations (time.ParseDuration, Duration.String)', () => {
  const parses: [string, number | undefined][] = [
    ['0', 0],
    ['0s', 0],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['1h2m3.5s', 3_723_500],
    ['-1s', -1_000],
    ['', undefined],
    ['30', undefined],
    ['1x', undefined],
    ['s', undefined],
    ['1m 30s', undefined],
  ];
  for (const [text, ms] of parses) it(`parses ${JSON.stringify(text)}`, () => assert.equal(parseGoDuration(text), ms));
  const formats: [number, string][] = [
    [0, '0s'],
    [412, '412ms'],
    [412.5, '412.5ms'],
    [1_500, '1.5s'],
    [123_250, '2m3.25s'],
    [3_600_000, '1h0m0s'],
  ];
  for (const [ms, text] of formats) it(`formats ${ms} ms as ${text}`, () => assert.equal(formatGoDuration(ms), text));
});

const TEMPLATE = (image: string): PodTemplateSpec => ({
  metadata: { labels: { app: 'x' } },
  spec: { containers: [{ name: 'main', image }, { name: 'side', image: 'busybox:1' }], initContainers: [{ name: 'init', image: 'busybox:1' }] },
});

function dsRecord(over: Partial<DsRecord> = {}): DsRecord {
  const spec: DefaultedDaemonSetSpec = {
    selector: { matchLabels: { app: 'x' } },
    template: TEMPLATE('a:1'),
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    minReadySeconds: 0,
    revisionHistoryLimit: 10,
  };
  return {
    namespace: 'default',
    name: 'x',
    uid: 'uid-x',
    slot: 0,
    generation: 1,
    templateGeneration: 1,
    labels: {},
    annotations: {},
    spec,
    createdMs: 0,
    currentHash: 'h1',
    revisions: [],
    createsByNode: new Map(),
    failedBackoff: new Map(),
    rolledOff: new Map(),
    lastSpecSeq: 1,
    ...over,
  };
}

const status = (s: Partial<DsStatus>): DsStatus => ({
  desiredNumberScheduled: 3,
  currentNumberScheduled: 3,
  numberReady: 3,
  numberAvailable: 3,
  numberUnavailable: 0,
  updatedNumberScheduled: 3,
  numberMisscheduled: 0,
  observedGeneration: 1,
  ...s,
});

describe('DaemonSetStatusViewer (rollout_status.go)', () => {
  const cases: [string, DsRecord, ReturnType<typeof daemonSetStatusView>][] = [
    [
      'OnDelete is refused',
      dsRecord({ spec: { ...dsRecord().spec, updateStrategy: { type: 'OnDelete' } }, status: status({}) }),
      { kind: 'error', message: 'rollout status is only available for RollingUpdate strategy type' },
    ],
    ['no status yet', dsRecord(), { kind: 'progress', message: 'Waiting for daemon set spec update to be observed...', done: false }],
    [
      'generation not observed',
      dsRecord({ generation: 2, status: status({}) }),
      { kind: 'progress', message: 'Waiting for daemon set spec update to be observed...', done: false },
    ],
    [
      'pods not updated',
      dsRecord({ status: status({ updatedNumberScheduled: 1 }) }),
      { kind: 'progress', message: 'Waiting for daemon set "x" rollout to finish: 1 out of 3 new pods have been updated...', done: false },
    ],
    [
      'updated pods not available',
      dsRecord({ status: status({ numberAvailable: 2 }) }),
      { kind: 'progress', message: 'Waiting for daemon set "x" rollout to finish: 2 of 3 updated pods are available...', done: false },
    ],
    ['done', dsRecord({ status: status({}) }), { kind: 'progress', message: 'daemon set "x" successfully rolled out', done: true }],
    [
      'done with nothing desired',
      dsRecord({ status: status({ desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 }) }),
      { kind: 'progress', message: 'daemon set "x" successfully rolled out', done: true },
    ],
  ];
  for (const [name, ds, want] of cases) it(name, () => assert.deepEqual(daemonSetStatusView(ds), want));
});

const rev = (revision: number, hash: string): Revision => ({ revision, hash, template: TEMPLATE(hash), appliedMs: revision, seq: revision });

function stateWithPods(ds: DsRecord, hashes: string[]): State {
  const state = initialState();
  state.daemonSets.set('default/x', ds);
  const byNode = new Map<string, Set<string>>();
  hashes.forEach((hash, i) => {
    const pod: PodRecord = {
      namespace: 'default', name: `x-${i}`, uid: `p${i}`, node: `n${i}`, slot: 0, owner: { name: 'x', uid: ds.uid }, hash,
      templateGeneration: 1, labels: {}, createdMs: 0, createSeq: 0, phase: 'Running', ready: true, readyTransitionMs: 0, restartCount: 0,
    };
    state.pods.set(`default/x-${i}`, pod);
    byNode.set(pod.node, new Set([`default/x-${i}`]));
  });
  state.podsByOwner.set(ds.uid, byNode);
  return state;
}

describe('kept revisions (DaemonSetsController.cleanupHistory)', () => {
  const revisions = [rev(1, 'h1'), rev(2, 'h2'), rev(3, 'h3'), rev(4, 'h4')];
  const cases: [string, number, string[], number[]][] = [
    ['limit 10 keeps everything', 10, [], [1, 2, 3, 4]],
    ['limit 1 keeps the current and the newest old one', 1, [], [3, 4]],
    ['limit 0 keeps the current only', 0, [], [4]],
    ['a revision a pod still runs is never pruned', 0, ['h2', 'h4'], [2, 4]],
    ['the oldest unused ones go first', 1, ['h1'], [1, 4]],
  ];
  for (const [name, limit, podHashes, want] of cases) {
    it(name, () => {
      const ds = dsRecord({ currentHash: 'h4', revisions, spec: { ...dsRecord().spec, revisionHistoryLimit: limit } });
      assert.deepEqual(keptRevisions(ds, stateWithPods(ds, podHashes)).map((r) => r.revision), want);
    });
  }
});

describe('rollback plan (DaemonSetRollbacker.Rollback)', () => {
  const history = [rev(1, 'h1'), rev(2, 'h2'), rev(3, 'h3')];
  const cases: [string, Revision[], number, ReturnType<typeof rollbackPlan>][] = [
    ['0 → the second-highest', history, 0, { kind: 'write', revision: history[1]! }],
    ['an explicit revision', history, 1, { kind: 'write', revision: history[0]! }],
    ['0 with one revision', [history[2]!], 0, { kind: 'error', message: 'no last revision to roll back to' }],
    ['not found', history, 7, { kind: 'error', message: 'unable to find specified revision 7 in history' }],
    ['negative', history, -1, { kind: 'error', message: 'unable to find specified revision -1 in history' }],
    ['already current', history, 3, { kind: 'skip', message: 'skipped rollback (current template already matches revision 3)' }],
  ];
  for (const [name, h, to, want] of cases) it(name, () => assert.deepEqual(rollbackPlan(h, 'h3', to), want));
});

describe('set image (set_image.go setImage)', () => {
  const cases: [string, [string, string][], string[], string[], string[]][] = [
    ['one container', [['main', 'a:2']], ['a:2', 'busybox:1'], ['busybox:1'], []],
    ['an init container', [['init', 'b:2']], ['a:1', 'busybox:1'], ['b:2'], []],
    ['* sets them all', [['*', 'c:3']], ['c:3', 'c:3'], ['c:3'], []],
    ['unknown names are reported, the rest applied', [['nope', 'x'], ['side', 's:2']], ['a:1', 's:2'], ['busybox:1'], ['nope']],
  ];
  for (const [name, pairs, containers, inits, missing] of cases) {
    it(name, () => {
      const r = setImages(TEMPLATE('a:1'), pairs.map(([container, image]) => ({ container, image })));
      assert.deepEqual(r.template.spec.containers.map((c) => c.image), containers);
      assert.deepEqual(r.template.spec.initContainers?.map((c) => c.image), inits);
      assert.deepEqual(r.missing, missing);
    });
  }
});

describe('revision timeline summary', () => {
  const pod = (node: string, createdMs: number, readyMs?: number): PodTimeline => ({
    node, pod: `p-${node}-${createdMs}`, podUid: `${node}${createdMs}`, dsUid: 'u', hash: 'h', createdMs, ...(readyMs !== undefined ? { readyMs } : {}),
  });
  it('counts distinct nodes; median and max over the pods that became ready', () => {
    assert.deepEqual(summarizeTimeline([pod('a', 0, 100), pod('b', 0, 300), pod('c', 10, 210), pod('c', 500)]), {
      nodes: 3, pods: 4, ready: 3, medianMs: 200, maxMs: 300,
    });
    assert.deepEqual(summarizeTimeline([pod('a', 0, 100), pod('b', 0, 300)]), { nodes: 2, pods: 2, ready: 2, medianMs: 200, maxMs: 300 });
    assert.deepEqual(summarizeTimeline([pod('a', 0)]), { nodes: 1, pods: 1, ready: 0 });
  });
});

// ---- against the bus ----------------------------------------------------------------------------

const silent = pino({ level: 'silent' });
const NODES = ['n1', 'n2', 'n3'];

interface DsYaml {
  name: string;
  image: string;
  changeCause?: string;
  strategy?: 'OnDelete';
}

const manifest = ({ name, image, changeCause, strategy }: DsYaml): string => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: default
${changeCause ? `  annotations: { kubernetes.io/change-cause: "${changeCause}" }\n` : ''}spec:
  selector: { matchLabels: { app: ${name} } }
${strategy ? `  updateStrategy: { type: ${strategy} }\n` : ''}  template:
    metadata:
      labels: { app: ${name} }
      annotations: { sim.daemonset.io/ready-delay-ms: "120" }
    spec: { containers: [ { name: ${name}, image: "${image}" } ] }
`;

const PROGRESS = [
  /^Waiting for daemon set spec update to be observed\.\.\.$/,
  /^Waiting for daemon set "web" rollout to finish: (\d+) out of 3 new pods have been updated\.\.\.$/,
  /^Waiting for daemon set "web" rollout to finish: (\d+) of 3 updated pods are available\.\.\.$/,
  /^daemon set "web" successfully rolled out$/,
];

describe('dsctl set image and rollout (real nats-server, in-process controller and agents)', () => {
  // Definitely assigned by `before`; `after` still checks, for a `before` that failed half-way.
  let nats!: TestNats;
  let nc!: NatsConnection;
  let dir!: string;
  let controller!: ControllerHandle;
  let env: Record<string, string>;
  const agents: AgentHandle[] = [];
  const dsctl = (...args: string[]) => runCli(args, env);
  const apply = async (m: DsYaml): Promise<string[]> => (await applyManifests(nc, await parseManifests(manifest(m), 'test'))).lines;
  const ds = (name: string): DsRecord => {
    const r = controller.state.daemonSets.get(`default/${name}`);
    assert.ok(r, `no DaemonSet ${name}`);
    return r;
  };
  const rolledOut = async (name: string, generation: number): Promise<void> => {
    await eventually(() => {
      const s = ds(name).status;
      assert.deepEqual([s?.observedGeneration, s?.updatedNumberScheduled, s?.numberAvailable], [generation, 3, 3]);
    }, { timeoutMs: 15_000, message: `${name} never rolled out generation ${generation}` });
  };
  const specSeq = async (name: string): Promise<number | undefined> => {
    const { slots } = (await readTopology(nc))!;
    return (await lastSpec(await jetstreamManager(nc), dsSubject(dsSlot('default', name, slots), 'default', name)))?.seq;
  };

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    env = { NATS_URL: nats.url };
    dir = await tempDir('rollout-it-');
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'it', SLOTS: '8' }), silent);
    for (const node of NODES) {
      const cfg = loadAgentConfig({ NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '20', SIM_READY_DELAY_MS: '20' });
      agents.push(await startAgent(nc, cfg, silent.child({ node })));
    }
    assert.deepEqual(await apply({ name: 'web', image: 'nginx:1.25', changeCause: 'apply nginx:1.25' }), ['daemonset.apps/web created']);
  });

  after(async () => {
    for (const a of agents) await a.stop({ deregister: false });
    await (controller as ControllerHandle | undefined)?.stop();
    await (nc as NatsConnection | undefined)?.close();
    await (nats as TestNats | undefined)?.stop();
    if ((dir as string | undefined) !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('rollout status follows a new DaemonSet until it is rolled out and exits 0', async () => {
    const r = await dsctl('rollout', 'status', 'ds/web', '--timeout=30s');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), 'daemon set "web" successfully rolled out');
    for (const l of lines) assert.ok(PROGRESS.some((p) => p.test(l)), `not a status line: ${l}`);
  });

  it('set image writes generation+1 with the new image; rollout status prints the progression and exits 0', async () => {
    await rolledOut('web', 1);
    // The change-cause of revision 2 is whatever the DaemonSet's annotation says when it is made.
    assert.deepEqual(await apply({ name: 'web', image: 'nginx:1.25', changeCause: 'set image nginx:1.26' }), ['daemonset.apps/web configured']);
    const set = await dsctl('set', 'image', 'ds/web', 'web=nginx:1.26');
    assert.deepEqual([set.code, set.stdout, set.stderr], [0, 'daemonset.apps/web image updated\n', '']);
    const seen: string[] = [];
    const [cli] = await Promise.all([
      dsctl('rollout', 'status', 'daemonset/web', '--timeout=30s'),
      followRolloutStatus({ nc, namespace: 'default', name: 'web', timeoutMs: 30_000, watch: true, write: (l) => seen.push(l) }),
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trimEnd().split('\n').at(-1), 'daemon set "web" successfully rolled out');
    // Followed live from just after the write: the rollout (three nodes, one at a time) shows.
    assert.equal(seen.at(-1), 'daemon set "web" successfully rolled out');
    assert.ok(seen.length >= 2, `no progression seen: ${JSON.stringify(seen)}`);
    let updated = -1;
    for (const [i, l] of seen.entries()) {
      assert.ok(PROGRESS.some((p) => p.test(l)), `not a status line: ${l}`);
      if (i > 0) assert.notEqual(l, seen[i - 1], 'a message repeated');
      const m = PROGRESS[1]!.exec(l);
      if (m) {
        assert.ok(Number(m[1]) >= updated, `updated went back: ${JSON.stringify(seen)}`);
        updated = Number(m[1]);
      }
    }
    const web = ds('web');
    assert.equal(web.generation, 2);
    assert.equal(web.spec.template.spec.containers[0]!.image, 'nginx:1.26');
    assert.deepEqual(
      [...controller.state.pods.values()].filter((p) => p.owner?.name === 'web').map((p) => [p.node, p.hash]).sort(),
      NODES.map((n) => [n, web.currentHash]),
    );
  });

  it('set image with an unchanged image prints nothing, writes nothing and exits 0', async () => {
    const seq = await specSeq('web');
    const r = await dsctl('set', 'image', 'ds', 'web', 'web=nginx:1.26');
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    assert.equal(await specSeq('web'), seq);
  });

  it('set image naming an unknown container fails with kubectl\'s text and writes nothing', async () => {
    const seq = await specSeq('web');
    const r = await dsctl('set', 'image', 'ds/web', 'nope=nginx:9');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'error: unable to find container named "nope"\n']);
    assert.equal(await specSeq('web'), seq);
  });

  it('set image of a missing DaemonSet is NotFound', async () => {
    const r = await dsctl('set', 'image', 'ds/ghost', 'a=b');
    assert.deepEqual([r.code, r.stderr], [1, 'Error from server (NotFound): daemonsets.apps "ghost" not found\n']);
  });

  it('rollout history lists both revisions with their change-cause, as kubectl prints it', async () => {
    const r = await dsctl('rollout', 'history', 'ds/web');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps/web \nREVISION  CHANGE-CAUSE\n1         apply nginx:1.25\n2         set image nginx:1.26\n\n');
  });

  it('rollout history --revision=1 prints its pod template and the per-node timeline of its rollout', async () => {
    const r = await dsctl('rollout', 'history', 'ds/web', '--revision=1');
    assert.equal(r.code, 0, r.stderr);
    const hash1 = ds('web').revisions.find((x) => x.revision === 1)!.hash;
    assert.ok(r.stdout.startsWith('daemonset.apps/web with revision #1\nPod Template:\n  Labels:'), r.stdout);
    assert.match(r.stdout, /\n {4}Image: +nginx:1\.25\n/);
    assert.match(r.stdout, new RegExp(`\\nRollout of revision #1 \\(controller-revision-hash=${hash1}\\):\\nNODE +POD +CREATED +READY +DURATION\\n`));
    const rows = r.stdout.split('\n').filter((l) => /^n\d /.test(l));
    assert.deepEqual(rows.map((l) => l.split(/ +/)[0]).sort(), NODES);
    for (const row of rows) {
      const [, pod, created, ready, duration] = row.split(/ +/);
      assert.match(pod!, /^web-[a-z0-9]{5}$/);
      assert.ok(Date.parse(ready!) >= Date.parse(created!), row);
      assert.equal(duration, formatGoDuration(Date.parse(ready!) - Date.parse(created!)));
    }
    assert.match(r.stdout, /\n3 nodes, 3 of 3 pods ready; time to ready: median \S+, max \S+\n$/);
  });

  it('rollout history --revision of an unknown revision fails with kubectl\'s text', async () => {
    const r = await dsctl('rollout', 'history', 'ds/web', '--revision=9');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'error: unable to find the specified revision\n']);
  });

  it('rollout history -o json prints the ControllerRevisions in a List', async () => {
    const r = await dsctl('rollout', 'history', 'ds/web', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as {
      kind: string;
      items: { apiVersion: string; kind: string; revision: number; metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; creationTimestamp: string }; data: { spec: { template: PodTemplateSpec } } }[];
    };
    const web = ds('web');
    assert.equal(list.kind, 'List');
    assert.deepEqual(
      list.items.map((i) => [i.apiVersion, i.kind, i.revision, i.metadata.name, i.metadata.namespace, i.metadata.labels['controller-revision-hash'], i.metadata.annotations['kubernetes.io/change-cause']]),
      web.revisions.map((x) => ['apps/v1', 'ControllerRevision', x.revision, `web-${x.hash}`, 'default', x.hash, x.revision === 1 ? 'apply nginx:1.25' : 'set image nginx:1.26']),
    );
    for (const item of list.items) {
      assert.equal(templateHash(web.revisions.find((x) => x.revision === item.revision)!.template), item.metadata.labels['controller-revision-hash']);
      assert.match(item.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.equal(list.items[1]!.data.spec.template.spec.containers[0]!.image, 'nginx:1.26');
  });

  it('rollout undo to a revision that is not in the history fails with kubectl\'s text', async () => {
    const r = await dsctl('rollout', 'undo', 'ds/web', '--to-revision=7');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'error: unable to find specified revision 7 in history\n']);
  });

  it('rollout undo to the current revision is skipped', async () => {
    const seq = await specSeq('web');
    const r = await dsctl('rollout', 'undo', 'ds/web', '--to-revision=2');
    assert.deepEqual([r.code, r.stdout], [0, 'daemonset.apps/web skipped rollback (current template already matches revision 2)\n']);
    assert.equal(await specSeq('web'), seq);
  });

  it('a broken rollout stalls at one node; rollout status times out; undo makes the first hash current again as revision 3, restarting no pod already on it', async () => {
    assert.deepEqual(await apply({ name: 'stall', image: 'nginx:1.25' }), ['daemonset.apps/stall created']);
    await rolledOut('stall', 1);
    const hash1 = ds('stall').currentHash;
    const set = await dsctl('set', 'image', 'ds/stall', 'stall=nginx:broken');
    assert.equal(set.stdout, 'daemonset.apps/stall image updated\n', set.stderr);
    await eventually(() => {
      const s = ds('stall').status;
      assert.deepEqual([s?.observedGeneration, s?.updatedNumberScheduled, s?.numberAvailable], [2, 1, 2]);
    }, { timeoutMs: 10_000 });

    const timedOut = await dsctl('rollout', 'status', 'ds/stall', '--timeout=1s');
    assert.deepEqual([timedOut.code, timedOut.stderr], [1, 'error: timed out waiting for the condition\n']);
    assert.equal(timedOut.stdout, 'Waiting for daemon set "stall" rollout to finish: 1 out of 3 new pods have been updated...\n');

    const before = await readLog(nats.url);
    const brokenNode = [...controller.state.pods.values()].find((p) => p.owner?.name === 'stall' && p.hash !== hash1)!.node;
    const undo = await dsctl('rollout', 'undo', 'ds/stall');
    assert.deepEqual([undo.code, undo.stdout], [0, 'daemonset.apps/stall rolled back\n'], undo.stderr);
    const status = await dsctl('rollout', 'status', 'ds/stall', '--timeout=30s');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /daemon set "stall" successfully rolled out\n$/);

    const stall = ds('stall');
    assert.equal(stall.currentHash, hash1);
    assert.equal(stall.generation, 3);
    assert.deepEqual(stall.revisions.map((x) => [x.revision, x.hash === hash1]), [[2, false], [3, true]]);
    const createsBefore = createsByNode(before, 'stall');
    const createsAfter = createsByNode(await readLog(nats.url), 'stall');
    for (const node of NODES) {
      const added = createsAfter.get(node)!.slice(createsBefore.get(node)!.length);
      assert.equal(added.length, node === brokenNode ? 1 : 0, `node ${node} got ${added.length} new pods`);
    }
    const history = await dsctl('rollout', 'history', 'ds/stall');
    assert.equal(history.stdout, 'daemonset.apps/stall \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n');
  });

  it('rollout restart sets the restartedAt template annotation, a new revision rolls out', async () => {
    // The controller's record is live: keep the values, not the object.
    const { generation, currentHash } = ds('web');
    const r = await dsctl('rollout', 'restart', 'ds/web');
    assert.deepEqual([r.code, r.stdout], [0, 'daemonset.apps/web restarted\n'], r.stderr);
    const json = JSON.parse((await dsctl('get', 'ds', 'web', '-o', 'json')).stdout) as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    assert.match(json.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const status = await dsctl('rollout', 'status', 'ds/web', '--timeout=30s');
    assert.equal(status.code, 0, status.stderr);
    const after = ds('web');
    assert.equal(after.generation, generation + 1);
    assert.deepEqual(after.revisions.map((x) => x.revision), [1, 2, 3]);
    assert.notEqual(after.currentHash, currentHash);
    assert.equal(after.revisions.find((x) => x.revision === 3)!.hash, after.currentHash);
  });

  it('rollout status of an OnDelete DaemonSet fails; undo with one revision has no last revision', async () => {
    assert.deepEqual(await apply({ name: 'od', image: 'nginx:1.25', strategy: 'OnDelete' }), ['daemonset.apps/od created']);
    const status = await dsctl('rollout', 'status', 'ds/od');
    assert.deepEqual([status.code, status.stdout, status.stderr], [1, '', 'error: rollout status is only available for RollingUpdate strategy type\n']);
    const undo = await dsctl('rollout', 'undo', 'ds/od');
    assert.deepEqual([undo.code, undo.stderr], [1, 'error: no last revision to roll back to\n']);
  });

  it('rollout status --watch=false prints the status once and exits 0', async () => {
    const r = await dsctl('rollout', 'status', 'ds/stall', '--watch=false');
    assert.deepEqual([r.code, r.stdout], [0, 'daemon set "stall" successfully rolled out\n'], r.stderr);
  });

  it('rollout pause and resume are refused for DaemonSets, as kubectl refuses them', async () => {
    const pause = await dsctl('rollout', 'pause', 'ds/web');
    assert.deepEqual([pause.code, pause.stdout, pause.stderr], [1, '', 'error: daemonsets.apps "web" pausing is not supported\n']);
    const resume = await dsctl('rollout', 'resume', 'daemonset/web');
    assert.deepEqual([resume.code, resume.stderr], [1, 'error: daemonsets.apps "web" resuming is not supported\n']);
  });

  it('rollout verbs on a missing DaemonSet are NotFound; a bad --timeout is refused', async () => {
    for (const verb of ['status', 'history', 'undo', 'restart']) {
      const r = await dsctl('rollout', verb, 'ds/ghost');
      assert.deepEqual([verb, r.code, r.stderr], [verb, 1, 'Error from server (NotFound): daemonsets.apps "ghost" not found\n']);
    }
    const bad = await dsctl('rollout', 'status', 'ds/web', '--timeout=soon');
    assert.deepEqual([bad.code, bad.stderr], [1, 'error: invalid argument "soon" for "--timeout" flag: time: invalid duration "soon"\n']);
  });
});
