// `dsctl audit` against a real nats-server: a log written directly with events on their proper
// subjects (a clean rollout from the real evolve/reconcile, then a second pod on a node), audited
// by the real CLI (`node bin/dsctl.js audit`, table and -o json), with exit codes; messages
// deleted from the stream (in the middle, and at the tail) show as sequence gaps, while an
// undecodable message does not. Then the log of real rollouts (the controller and sim agents,
// maxUnavailable and maxSurge) must audit clean.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { LogEvent } from '../../libs/events/types.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import {
  LOG_STREAM,
  clockSubject,
  commandSubject,
  dsStatusSubject,
  dsSubject,
  lifeSubject,
  nodeSubject,
  podReportSubject,
  shardSubject,
} from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { ownNatsServerUnavailable, startNats, type TestNats } from '../support/nats-server.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';
import { runCli } from '../support/processes.js';
import { SLOTS, Scenario, addNodes, dsApplied, podCreateFor, podRefOf, podStarted, shardAcquired } from '../support/scenario.js';

/** The subject each event is published on (libs/topology/names.ts), as its writer would. */
function subjectOf(e: LogEvent): string {
  switch (e.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
      return dsSubject(dsSlot(e.data.namespace, e.data.name, SLOTS), e.data.namespace, e.data.name);
    case 'DaemonSetStatusUpdated':
      return dsStatusSubject(dsSlot(e.data.namespace, e.data.name, SLOTS), e.data.namespace, e.data.name);
    case 'NodeRegistered':
      return nodeSubject(e.data.node);
    case 'PodCreate':
    case 'PodDelete':
      return commandSubject(e.data.slot, e.data.node);
    case 'PodStarted':
    case 'PodReady':
    case 'PodDeleted':
      return podReportSubject(dsSlot(e.data.namespace, 'web', SLOTS), e.data.node);
    case 'ShardAcquired':
      return shardSubject(e.data.slot);
    case 'ClockTicked':
      return clockSubject(e.data.slot);
    default:
      throw new Error(`no subject for ${e.type} in this test`);
  }
}

interface ReportJson {
  apiVersion: string;
  kind: string;
  range: { fromSeq: number; toSeq: number };
  events: number;
  breaks: { kind: string; ds?: string; node?: string; seqs: number[]; message: string }[];
}

describe('dsctl audit (real nats-server)', { skip: ownNatsServerUnavailable() }, () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let env: Readonly<Record<string, string>>;
  const s = new Scenario().given(addNodes(0, 2), dsApplied('web', { templateLabels: { app: 'web' } }));
  const slot = s.ds('web').slot;
  let published = 0;
  /** Seqs of the TwoLivePods break once it is written: the first pod's create, the extra create, its start. */
  let overlap: number[] = [];

  const publish = async (e: LogEvent): Promise<number> => {
    const ack = await publishEvent(js, { subject: subjectOf(e), event: e });
    published = ack.seq;
    return ack.seq;
  };
  const audit = (...args: string[]) => runCli(['audit', ...args], env);
  const auditJson = async (...args: string[]): Promise<{ code: number | null; report: ReportJson }> => {
    const r = await audit('-o', 'json', ...args);
    return { code: r.code, report: JSON.parse(r.stdout) as ReportJson };
  };

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    await ensureTopology(nc, { slots: SLOTS });
    js = jetstream(nc);
    env = { NATS_URL: nats.url };
    // A clean log: the shard taken, two nodes, the DaemonSet, its pods created and running, as
    // the real reconcile decides and simulated agents report.
    s.given(shardAcquired(slot, 1));
    s.converge('web');
    for (const e of s.log) assert.equal(await publish(e.event), e.seq);
    // A message no one can decode: set aside by readers, a position seen, not a gap.
    published = (await js.publish(lifeSubject('node-0'), new Uint8Array([0xc1, 0xff, 0x00]))).seq;
  });

  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('a clean log: exit 0, only the summary line; JSON with no breaks', async () => {
    const r = await audit();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `audited ${published} events (seq 1..${published}): 0 breaks\n`);
    const j = await auditJson();
    assert.equal(j.code, 0);
    assert.deepEqual(j.report, { apiVersion: 'daemonset-js.io/v1', kind: 'AuditReport', range: { fromSeq: 1, toSeq: published }, events: published, breaks: [] });
  });

  it('a second pod running on a node: exit 1, a TwoLivePods row with the sequences that show it', async () => {
    const [first] = s.podsOn('node-0', 'web');
    const extra = podCreateFor(s.ds('web'), 'node-0', 'web-extra');
    const created = await publish(extra);
    const started = await publish(podStarted(podRefOf(extra)));
    overlap = [first!.createSeq, created, started];

    const r = await audit();
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND\s+DAEMONSET\s+NODE\s+SEQS\s+MESSAGE$/);
    assert.match(lines[1]!, new RegExp(`^TwoLivePods\\s+default/web\\s+node-0\\s+${overlap.join(',')}\\s+2 running pods of default/web on node-0: `));
    assert.equal(lines[2], `audited ${published} events (seq 1..${published}): 1 break`);
    assert.equal(lines.length, 3);

    const j = await auditJson();
    assert.equal(j.code, 1);
    assert.equal(j.report.apiVersion, 'daemonset-js.io/v1');
    assert.equal(j.report.kind, 'AuditReport');
    assert.deepEqual(j.report.range, { fromSeq: 1, toSeq: published });
    assert.equal(j.report.events, published);
    assert.equal(j.report.breaks.length, 1);
    const b = j.report.breaks[0]!;
    assert.deepEqual(Object.keys(b), ['kind', 'ds', 'node', 'seqs', 'message']);
    assert.deepEqual({ kind: b.kind, ds: b.ds, node: b.node, seqs: b.seqs }, { kind: 'TwoLivePods', ds: 'default/web', node: 'node-0', seqs: overlap });
    assert.match(b.message, /maxSurge is 0/);
  });

  it('--since after the break and --for another DaemonSet see none; --for ds/web -n default does', async () => {
    const later = await audit('--since', String(overlap[2]! + 1));
    assert.equal(later.code, 0, later.stdout + later.stderr);
    assert.equal(later.stdout, `audited 0 events: 0 breaks\n`);
    const other = await audit('--for', 'ds/other');
    assert.equal(other.code, 0);
    const mine = await auditJson('--for', 'ds/web', '-n', 'default', '--since', String(overlap[2]!));
    assert.equal(mine.code, 1);
    assert.deepEqual(mine.report.range, { fromSeq: overlap[2]!, toSeq: published });
    assert.deepEqual(mine.report.breaks.map((x) => x.kind), ['TwoLivePods']);
    const byTime = await audit('--since', '1h');
    assert.equal(byTime.code, 1);
  });

  it('a message deleted in the middle and one at the tail are sequence gaps', async () => {
    const jsm = await jetstreamManager(nc);
    const middle = s.log.find((e) => e.event.type === 'DaemonSetStatusUpdated')!.seq;
    assert.equal(await jsm.streams.deleteMessage(LOG_STREAM, middle), true);
    const tail = await publish({ type: 'ClockTicked', v: 1, data: { slot, reason: 'test' } });
    assert.equal(await jsm.streams.deleteMessage(LOG_STREAM, tail), true);

    const j = await auditJson();
    assert.equal(j.code, 1);
    assert.deepEqual(
      j.report.breaks.map((x) => ({ kind: x.kind, seqs: x.seqs })),
      [
        { kind: 'SequenceGap', seqs: [middle] },
        { kind: 'TwoLivePods', seqs: overlap },
        { kind: 'SequenceGap', seqs: [tail] },
      ],
    );
    assert.deepEqual(j.report.range, { fromSeq: 1, toSeq: tail });
    assert.equal(j.report.events, tail - 2);
    assert.match(j.report.breaks[2]!.message, /at the end of the log/);
  });

  it('usage errors exit 2 (1 means breaks)', async () => {
    const bad = await audit('--since', 'yesterday-ish');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since takes a log sequence number, an RFC 3339 time or a duration/);
    assert.equal((await audit('-o', 'yaml')).code, 2);
    assert.equal((await audit('--stall-after', 'soon')).code, 2);
    assert.equal((await audit('--no-such-flag')).code, 2);
    const unreachable = await runCli(['audit', '--server', 'nats://127.0.0.1:1'], env);
    assert.equal(unreachable.code, 2);
  });
});

const manifest = (name: string, strategy: string, image: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${name} } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: ${strategy} }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: ${name}, image: ${image} } ] }
`;

describe('dsctl audit over real rollouts (controller and sim agents, real nats-server)', () => {
  let cluster: InProcessCluster;

  before(async () => {
    cluster = await startInProcessCluster({ nodes: ['n1', 'n2', 'n3', 'n4'], controllerEnv: { CONTROLLER_ID: 'audit' }, dirPrefix: 'audit-cli-' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('create and roll out under maxUnavailable 1 and under maxSurge 1: no break', async () => {
    const env = cluster.env;
    for (const [name, strategy] of [['web', '{ maxUnavailable: 1 }'], ['surge', '{ maxSurge: 1, maxUnavailable: 0 }']] as const) {
      assert.equal((await runCli(['apply', '-f', '-'], env, manifest(name, strategy, 'nginx:1'))).code, 0);
      const first = await runCli(['rollout', 'status', `ds/${name}`, '--timeout', '60s'], env);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.equal((await runCli(['set', 'image', `ds/${name}`, `${name}=nginx:2`], env)).code, 0);
      const rolled = await runCli(['rollout', 'status', `ds/${name}`, '--timeout', '60s'], env);
      assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
    }
    const r = await runCli(['audit', '-o', 'json'], env);
    const report = JSON.parse(r.stdout) as ReportJson;
    assert.deepEqual(report.breaks, [], r.stdout);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(report.events > 20, `only ${report.events} events`);
    assert.equal(report.range.fromSeq, 1);
  });
});
