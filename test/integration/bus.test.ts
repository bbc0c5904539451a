// The bus wiring against a real nats-server: topology, dead letters, authorship, optimistic
// concurrency, and time travel, with the controller and agents running in this process.
import { classifyReason } from '../../libs/nats/reject-counters.js';
import { deadLetterSubject } from '../../libs/topology/names.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeEvent } from '../../libs/codec/codec.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { compareVersions, ensureTopology } from '../../libs/nats/topology.js';
import { DEAD_LETTER_STREAM, HEADER_REASON, HEADER_ORIGINAL_SUBJECT, dsSubject, nodeAdminSubject, nodeSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { loadState } from '../../services/cli/state-loader.js';
import type { ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startInProcessCluster, type InProcessCluster } from '../support/in-process-cluster.js';

const manifest = (image: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: ${image} } ] }
`;

describe('bus integration (real nats-server)', () => {
  let cluster: InProcessCluster;
  let nc: NatsConnection;
  let controller: ControllerHandle;

  before(async () => {
    cluster = await startInProcessCluster({ nodes: ['n1', 'n2'], dirPrefix: 'bus-it-' });
    ({ nc, controller } = cluster);
  });

  after(async () => {
    await cluster.stop();
  });

  it('ensureTopology is idempotent and keeps the slot count it was created with', async () => {
    assert.deepEqual(await ensureTopology(nc, { slots: 99 }), { slots: 8 });
    assert.deepEqual(await ensureTopology(nc), { slots: 8 });
    assert.ok(compareVersions('2.9.10', '2.9.0') > 0);
    assert.ok(compareVersions('2.8.4', '2.9.0') < 0);
  });

  it('applies through the bus and the controller converges 2/2/2', async () => {
    const { lines } = await applyManifests(nc, await parseManifests(manifest('nginx:1.25'), 'test'));
    assert.deepEqual(lines, ['daemonset.apps/web created']);
    await eventually(() => {
      const s = controller.state.daemonSets.get('default/web')?.status;
      assert.deepEqual([s?.desiredNumberScheduled, s?.currentNumberScheduled, s?.numberReady], [2, 2, 2]);
    });
  });

  it('an undecodable message is set aside with its reason, and the controller goes on', async () => {
    const js = jetstream(nc);
    const bad = await js.publish(nodeSubject('n9'), new TextEncoder().encode('{"not":"msgpack"'));
    await eventually(async () => {
      const jsm = await jetstreamManager(nc);
      const last = (await jsm.streams.info(DEAD_LETTER_STREAM)).state.last_seq;
      const m = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq: last });
      assert.ok(m);
      assert.equal(m.subject, deadLetterSubject('controller', classifyReason(m.header.get(HEADER_REASON))));
      assert.equal(m.header.get(HEADER_ORIGINAL_SUBJECT), nodeSubject('n9'));
      assert.match(m.header.get(HEADER_REASON), /^(not MessagePack|event)/);
    });
    assert.ok(controller.state.seq >= bad.seq, 'the controller folded past the bad message');
    // Still live: a label change on a real node is folded.
    await publishEvent(js, { subject: nodeAdminSubject('n1'), event: { type: 'NodeLabelsSet', v: 1, data: { node: 'n1', source: 'admin', labels: { zone: 'a' } } } });
    await eventually(() => assert.equal(controller.state.nodes.get('n1')?.labels['zone'], 'a'));
  });

  it('an event naming another node than its subject is refused (forged authorship)', async () => {
    const js = jetstream(nc);
    const forged = await js.publish(
      nodeSubject('n1'),
      encodeEvent({ type: 'NodeDeregistered', v: 1, data: { node: 'n2', incarnation: cluster.agents.get('n2')!.incarnation } }),
    );
    await eventually(() => assert.ok(controller.state.seq >= forged.seq));
    assert.ok(controller.state.nodes.has('n2'), 'a forged deregistration removed n2');
  });

  it('two writers of one DaemonSet cannot both win: a stale expected sequence is a conflict', async () => {
    const js = jetstream(nc);
    const { slots } = await ensureTopology(nc);
    const subject = dsSubject(dsSlot('default', 'web', slots), 'default', 'web');
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.getMessage('DS_LOG', { last_by_subj: subject }))!;
    const ds = controller.state.daemonSets.get('default/web')!;
    const event = {
      type: 'DaemonSetApplied' as const,
      v: 1 as const,
      data: { namespace: 'default', name: 'web', uid: ds.uid, generation: 2, labels: {}, annotations: {}, spec: ds.spec },
    };
    await publishEvent(js, { subject, event, expectLastSubjectSeq: last.seq });
    await assert.rejects(publishEvent(js, { subject, event, expectLastSubjectSeq: last.seq }), ConflictError);
  });

  it('replay --at folds the log only up to that sequence', async () => {
    const { state: now } = await loadState(nc);
    const firstPodCreate = [...now.pods.values()].map((p) => p.createSeq).sort((a, b) => a - b)[0]!;
    const { state: then } = await loadState(nc, { untilSeq: firstPodCreate - 1 });
    assert.equal(then.seq, firstPodCreate - 1);
    assert.equal(then.pods.size, 0);
    assert.ok(then.daemonSets.has('default/web'));
    const { state: after1 } = await loadState(nc, { untilSeq: firstPodCreate });
    assert.equal(after1.pods.size, 1);
  });
});
