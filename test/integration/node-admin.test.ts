// Node administration against a real nats-server, with the controller and agents in this
// process: dsctl taint / label / cordon / uncordon (kubectl's texts), how a DaemonSet reacts
// (k8s-daemonset.md §2 and §3), and the agent's measured pressure conditions.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { effectiveTaints } from '../../libs/core/node-taints.js';
import type { PodRecord } from '../../libs/core/state.js';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { CliError } from '../../services/cli/errors.js';
import { setUnschedulable } from '../../services/cli/node/cordon.js';
import { labelNodes, parseLabelCommand } from '../../services/cli/node/label.js';
import { lastNodeSeq, writeNodeEvent } from '../../services/cli/node/node-write.js';
import type { NodeCommandOutcome } from '../../services/cli/node/outcome.js';
import { parseTaintCommand, taintNodes } from '../../services/cli/node/taint.js';
import { loadState } from '../../services/cli/state-loader.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { readLog } from '../support/log.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

const silent = pino({ level: 'silent' });

const SSD_DS = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ssd, namespace: default }
spec:
  selector: { matchLabels: { app: ssd } }
  template:
    metadata: { labels: { app: ssd } }
    spec:
      nodeSelector: { disk: ssd }
      containers: [ { name: agent, image: busybox:1.36 } ]
`;

const HEALTHY = JSON.stringify({
  memory: { available: '4Gi', capacity: '8Gi' },
  nodefs: { available: '50Gi', capacity: '100Gi' },
  pids: { available: 32000, capacity: 32768 },
});
const MEMORY_PRESSURE = JSON.stringify({ ...JSON.parse(HEALTHY), memory: { available: '50Mi', capacity: '8Gi' } });

/** What a dsctl command would print, as one value to compare. */
const printed = (o: NodeCommandOutcome): { stdout: string[]; stderr: string[]; exitCode: number } => ({
  stdout: o.stdout,
  stderr: o.stderr,
  exitCode: o.exitCode,
});
const ok = (...stdout: string[]) => ({ stdout, stderr: [], exitCode: 0 });
const err = (...stderr: string[]) => ({ stdout: [], stderr, exitCode: 1 });

describe('node administration (real nats-server)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  let controller: ControllerHandle;
  const agents = new Map<string, AgentHandle>();

  const agentConfig = (node: string, labels = '') =>
    loadAgentConfig({
      NODE_NAME: node,
      NODE_LABELS: labels,
      DATA_DIR: join(dir, node),
      DRIVER: 'sim',
      SIM_START_DELAY_MS: '5',
      SIM_READY_DELAY_MS: '5',
      CONDITIONS_INTERVAL_MS: '50',
      CONDITIONS_READINGS_FILE: join(dir, `${node}-readings.json`),
    });
  const start = async (node: string, labels = ''): Promise<AgentHandle> => {
    const a = await startAgent(nc, agentConfig(node, labels), silent.child({ node }));
    agents.set(node, a);
    return a;
  };
  const readings = (node: string, json: string): Promise<void> => writeFile(join(dir, `${node}-readings.json`), json);

  const taint = async (args: string[], overwrite = false) => printed(await taintNodes(nc, parseTaintCommand(args), overwrite));
  const label = async (args: string[], overwrite = false) => printed(await labelNodes(nc, parseLabelCommand(args), overwrite));
  const cordon = async (node: string, on: boolean) => printed(await setUnschedulable(nc, [node], on));

  const ssdPods = (node: string): PodRecord[] =>
    [...controller.state.pods.values()].filter((p) => p.owner?.name === 'ssd' && p.node === node);
  const status = () => controller.state.daemonSets.get('default/ssd')?.status;
  /** The controller has folded everything written so far on this node's subject. */
  const folded = async (node: string): Promise<void> => {
    const seq = await lastNodeSeq(nc, node);
    await eventually(() => assert.ok(controller.state.seq >= seq, `controller at ${controller.state.seq}, ${node} at ${seq}`));
  };
  /** Pod commands for `node` written after `seq`, as `type pod`. */
  const podCommandsAfter = async (node: string, seq: number): Promise<string[]> =>
    (await readLog(nats.url))
      .filter((e) => e.seq > seq && (e.event.type === 'PodCreate' || e.event.type === 'PodDelete') && e.event.data.node === node)
      .map((e) => (e.event.type === 'PodCreate' ? `PodCreate ${e.event.data.pod.name}` : `PodDelete ${e.event.type === 'PodDelete' ? e.event.data.podName : ''}`));

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    dir = await tempDir('node-admin-it-');
    for (const n of ['n1', 'n2', 'n3']) await readings(n, HEALTHY);
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'it', SLOTS: '8' }), silent);
    await start('n1');
    await start('n2');
    const { lines } = await applyManifests(nc, await parseManifests(SSD_DS, 'test'));
    assert.deepEqual(lines, ['daemonset.apps/ssd created']);
    await eventually(() => assert.deepEqual(status()?.desiredNumberScheduled, 0));
  });

  after(async () => {
    for (const a of agents.values()) await a.stop({ deregister: false });
    await controller.stop();
    await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad arguments with kubectl\'s texts before reading anything', () => {
    const cases: [() => unknown, string][] = [
      [() => parseTaintCommand(['nodes', 'n1']), 'error: at least one taint update is required'],
      [() => parseTaintCommand(['nodes', 'n1', 'dedicated=x']), 'error: invalid taint spec: dedicated=x'],
      [() => parseTaintCommand(['nodes', 'n1', 'dedicated=x:Sometimes']), 'error: invalid taint effect: Sometimes, unsupported taint effect'],
      [() => parseTaintCommand(['nodes', 'n1', 'a=1:NoSchedule', 'a=2:NoSchedule']), 'error: duplicated taints with the same key and effect: {a 2 NoSchedule <nil>}'],
      [() => parseTaintCommand(['nodes', 'n1', 'a=1:NoSchedule', 'a-']), 'error: can not both modify and remove the following taint(s) in the same command: a='],
      [() => parseTaintCommand(['nodes', 'n1', 'a=1:NoSchedule', 'n2']), 'error: all resources must be specified before taint changes: n2'],
      [() => parseTaintCommand(['pods', 'p1', 'a=1:NoSchedule']), 'error: invalid resource type pods, only ["node" "nodes"] are supported'],
      [() => parseTaintCommand(['nodes', 'a=1:NoSchedule']), "error: at least one resource name must be specified since 'all' parameter is not set"],
      [() => parseLabelCommand(['nodes', 'n1']), 'error: at least one label update is required'],
      [() => parseLabelCommand(['nodes', 'n1', 'a=b=c']), 'error: invalid label spec: a=b=c'],
      [() => parseLabelCommand(['nodes', 'n1', 'a=b', 'a-']), 'error: can not both modify and remove a label in the same command'],
      [
        () => parseLabelCommand(['nodes', 'n1', 'disk=-ssd']),
        `error: invalid label value: "disk=-ssd": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    ];
    for (const [run, message] of cases) assert.throws(run, (e: unknown) => e instanceof CliError && e.message === message, message);
  });

  it('every verb names a missing node as kubectl does', async () => {
    const missing = err('Error from server (NotFound): nodes "ghost" not found');
    assert.deepEqual(await taint(['nodes', 'ghost', 'a=1:NoSchedule']), missing);
    assert.deepEqual(await label(['nodes', 'ghost', 'a=1']), missing);
    assert.deepEqual(await cordon('ghost', true), missing);
    assert.deepEqual(await cordon('ghost', false), missing);
  });

  it('label nodes n1 disk=ssd → n1 gets the pod; disk- → its pod is deleted (nodeSelector)', async () => {
    assert.deepEqual(await label(['nodes', 'n1', 'disk=ssd']), ok('node/n1 labeled'));
    await eventually(() => assert.equal(ssdPods('n1').filter((p) => p.phase === 'Running').length, 1));
    assert.deepEqual(ssdPods('n2'), []);
    assert.deepEqual(controller.state.nodes.get('n1')?.labelsBySource.admin, { disk: 'ssd' });

    assert.deepEqual(await label(['nodes', 'n1', 'disk=hdd']), err("error: 'disk' already has a value (ssd), and --overwrite is false"));
    assert.deepEqual(await label(['node/n1', 'disk=ssd']), ok('node/n1 not labeled'));
    assert.deepEqual(await label(['nodes', 'n1', 'absent-']), { stdout: ['node/n1 not labeled'], stderr: ['label "absent" not found.'], exitCode: 0 });
    assert.deepEqual(
      await label(['nodes', 'n1', 'kubernetes.io/hostname-']),
      err("error: label kubernetes.io/hostname is set by the node's agent (NODE_LABELS or its defaults); change it there"),
    );
    assert.deepEqual(
      await label(['nodes', 'n1', 'Bad Key!=x']),
      err(
        `The Node "n1" is invalid: metadata.labels: Invalid value: "Bad Key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ),
    );

    assert.deepEqual(await label(['nodes', 'n1', 'disk-']), ok('node/n1 unlabeled'));
    await eventually(() => assert.deepEqual(ssdPods('n1'), []));
    assert.equal(status()?.desiredNumberScheduled, 0);

    // An admin label can overlay an agent label with --overwrite, and its removal restores the agent's.
    assert.deepEqual(await label(['nodes', 'n1', 'kubernetes.io/hostname=other'], true), ok('node/n1 labeled'));
    assert.deepEqual(await label(['nodes', 'n1', 'kubernetes.io/hostname-']), ok('node/n1 unlabeled'));
    await folded('n1');
    assert.equal(controller.state.nodes.get('n1')?.labels['kubernetes.io/hostname'], 'n1');
  });

  it('taint NoSchedule keeps the running pod as misscheduled; NoExecute deletes it; removing the taint brings it back', async () => {
    assert.deepEqual(await label(['nodes', 'n1', 'disk=ssd']), ok('node/n1 labeled'));
    await eventually(() => assert.equal(ssdPods('n1').filter((p) => p.phase === 'Running').length, 1));
    const [first] = ssdPods('n1');

    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated=x:NoSchedule']), ok('node/n1 tainted'));
    await eventually(() => assert.deepEqual([status()?.desiredNumberScheduled, status()?.numberMisscheduled], [0, 1]));
    assert.deepEqual(ssdPods('n1').map((p) => p.uid), [first!.uid], 'a NoSchedule taint must not evict the running pod');

    assert.deepEqual(
      await taint(['nodes', 'n1', 'dedicated=x:NoSchedule']),
      err('error: node n1 already has dedicated taint(s) with same effect(s) and --overwrite is false'),
    );
    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated=y:NoSchedule'], true), ok('node/n1 modified'));

    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated=x:NoExecute']), ok('node/n1 tainted'));
    await eventually(() => assert.deepEqual(ssdPods('n1'), []));
    assert.deepEqual(
      controller.state.nodes.get('n1')?.taints.admin?.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`),
      ['dedicated=x:NoExecute', 'dedicated=y:NoSchedule'],
    );

    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated:NoSchedule-']), ok('node/n1 untainted'));
    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated:NoSchedule-']), err('error: taint "dedicated:NoSchedule" not found'));
    assert.deepEqual(await taint(['nodes', 'n1', 'dedicated-']), ok('node/n1 untainted'));
    await eventually(() => {
      assert.equal(ssdPods('n1').filter((p) => p.phase === 'Running').length, 1);
      assert.deepEqual([status()?.desiredNumberScheduled, status()?.numberMisscheduled], [1, 0]);
    });
    assert.notEqual(ssdPods('n1')[0]!.uid, first!.uid, 'the pod came back as a new pod');
    assert.deepEqual(controller.state.nodes.get('n1')?.taints.admin, []);
  });

  it('cordon changes no pod, and a cordoned new node still gets one', async () => {
    const [pod] = ssdPods('n1');
    assert.deepEqual(await cordon('n1', true), ok('node/n1 cordoned'));
    assert.deepEqual(await cordon('n1', true), ok('node/n1 already cordoned'));
    const cordonedAt = await lastNodeSeq(nc, 'n1');
    assert.deepEqual(
      await taint(['nodes', 'n1', 'node.kubernetes.io/unschedulable-']),
      err('error: taint node.kubernetes.io/unschedulable is set by cordon; run dsctl uncordon n1'),
    );

    // A new node without the label, cordoned, then labelled: it gets its pod although cordoned.
    await start('n3');
    assert.deepEqual(await cordon('n3', true), ok('node/n3 cordoned'));
    assert.deepEqual(await label(['nodes', 'n3', 'disk=ssd']), ok('node/n3 labeled'));
    await eventually(() => assert.equal(ssdPods('n3').filter((p) => p.phase === 'Running').length, 1));
    assert.equal(controller.state.nodes.get('n3')?.unschedulable, true);
    // That decision saw n1 cordoned too (reconcile reads the whole view): nothing was done to n1.
    assert.deepEqual(await podCommandsAfter('n1', cordonedAt), []);
    assert.deepEqual(ssdPods('n1').map((p) => p.uid), [pod!.uid]);

    assert.deepEqual(await cordon('n1', false), ok('node/n1 uncordoned'));
    assert.deepEqual(await cordon('n1', false), ok('node/n1 already uncordoned'));
    assert.deepEqual(await cordon('n3', false), ok('node/n3 uncordoned'));
  });

  it('an admin label survives an agent restart', async () => {
    const n1 = agents.get('n1')!;
    await n1.stop({ deregister: false });
    const again = await start('n1');
    assert.equal(again.incarnation, n1.incarnation);
    await folded('n1');
    assert.deepEqual(controller.state.nodes.get('n1')?.labelsBySource.admin, { disk: 'ssd' });
    const { state } = await loadState(nc);
    assert.equal(state.nodes.get('n1')?.labels['disk'], 'ssd');
    assert.equal(ssdPods('n1').length, 1);
  });

  it('memory pressure measured by the agent taints the node; the daemon pod stays; the taint is not an admin\'s to remove', async () => {
    assert.deepEqual(await label(['nodes', 'n2', 'disk=ssd']), ok('node/n2 labeled'));
    await eventually(() => assert.equal(ssdPods('n2').filter((p) => p.phase === 'Running').length, 1));
    const [pod] = ssdPods('n2');

    await readings('n2', MEMORY_PRESSURE);
    await eventually(() =>
      assert.deepEqual(controller.state.nodes.get('n2')?.taints.agent, [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }]),
    );
    // The controller has folded the agent's taint: every command after this point came after it.
    const taintedAt = controller.state.seq;
    assert.deepEqual(
      effectiveTaints(controller.state.nodes.get('n2')!).map((t) => `${t.key}:${t.effect}`),
      ['node.kubernetes.io/memory-pressure:NoSchedule'],
    );
    assert.deepEqual(
      await taint(['nodes', 'n2', 'node.kubernetes.io/memory-pressure-']),
      err("error: taint node.kubernetes.io/memory-pressure is set by the node's agent from its conditions"),
    );
    assert.deepEqual(
      await taint(['nodes', 'n2', 'node.kubernetes.io/memory-pressure:NoSchedule']),
      err('error: node n2 already has node.kubernetes.io/memory-pressure taint(s) with same effect(s) and --overwrite is false'),
    );

    // A later decision (n1 loses the label: its pod goes) reads the whole view, n2's taint included.
    assert.deepEqual(await label(['nodes', 'n1', 'disk-']), ok('node/n1 unlabeled'));
    await eventually(() => assert.deepEqual(ssdPods('n1'), []));
    assert.deepEqual(await podCommandsAfter('n2', taintedAt), []);
    assert.deepEqual(ssdPods('n2').map((p) => p.uid), [pod!.uid]);
    assert.deepEqual([status()?.desiredNumberScheduled, status()?.numberMisscheduled], [2, 0]); // n2 and n3

    await readings('n2', HEALTHY);
    await eventually(() => assert.deepEqual(controller.state.nodes.get('n2')?.taints.agent, []));
  });

  it('a write that expects a stale sequence of the node subject is kubectl\'s Conflict', async () => {
    const last = await lastNodeSeq(nc, 'n2');
    await assert.rejects(
      writeNodeEvent(nc, { type: 'NodeUnschedulableSet', v: 1, data: { node: 'n2', unschedulable: true } }, last - 1),
      (e: unknown) =>
        e instanceof CliError &&
        e.message ===
          'Error from server (Conflict): Operation cannot be fulfilled on nodes "n2": the object has been modified; please apply your changes to the latest version and try again',
    );
    assert.equal(await lastNodeSeq(nc, 'n2'), last, 'the conflicting write landed');
  });
});
