// Snapshots on a real server: the controller writes them on its policy, a restarted controller
// starts from one and folds only the tail, dsctl reads through one, and a snapshot that is
// corrupt or belongs to a recreated log is ignored with a reason (full replay instead).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { loadSnapshot } from '../../libs/nats/snapshots.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { LOG_STREAM, SNAPSHOT_BUCKET, nodeSubject, snapshotObjectName } from '../../libs/topology/names.js';
import { encodeEvent } from '../../libs/codec/codec.js';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { loadState } from '../../services/cli/state-loader.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

const SLOTS = '4';
const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: nginx } ] }
`;

/** A logger that keeps what it was told, to assert on start-up messages. */
function recordingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('snapshots (real nats-server)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  const agents: AgentHandle[] = [];
  const silent = pino({ level: 'silent' });
  const controllerConfig = loadControllerConfig({ CONTROLLER_ID: 'snap', SLOTS, SNAPSHOT_EVERY_EVENTS: '10', SNAPSHOT_EVERY_MS: '0' });

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    dir = await tempDir('snapshots-');
  });

  after(async () => {
    for (const a of agents) await a.stop({ deregister: false });
    await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a restarted controller starts from the snapshot and folds only the tail, to the same state', async () => {
    const first = await startController(nc, controllerConfig, silent);
    for (const node of ['n1', 'n2', 'n3']) {
      agents.push(await startAgent(nc, loadAgentConfig({ NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '1', SIM_READY_DELAY_MS: '1' }), silent));
    }
    await applyManifests(nc, await parseManifests(manifest, 't'));
    await eventually(() => assert.equal(first.state.daemonSets.get('default/web')?.status?.numberReady, 3));
    await eventually(async () => {
      const s = await loadSnapshot(nc, 4);
      assert.ok(s.found, s.found ? '' : s.reason);
      assert.ok(s.data.seq >= 10);
      return s;
    }, { timeoutMs: 5_000 });
    await first.stop();

    const { log, lines } = recordingLogger();
    const second = await startController(nc, controllerConfig, log);
    try {
      // The global facts from their snapshot, then each slot from its own.
      const replay = lines.find((l) => l['msg'] === 'replay caught up')!;
      assert.match(String(replay['snapshot']), /^global facts at seq \d+$/);
      assert.equal(replay['fromSeq'], Number(/\d+/.exec(String(replay['snapshot']))![0]) + 1);
      const slotsRead = await eventually(() => {
        const l = lines.find((x) => x['msg'] === 'slots read up');
        assert.ok(l, 'the second controller read its slots');
        return l;
      });
      assert.equal(slotsRead['slots'], 4);
      assert.ok((slotsRead['fromSnapshots'] as number) >= 1, 'at least the slot of web came from a snapshot');
      const full = await loadState(nc, { useSnapshot: false });
      assert.deepStrictEqual(second.state.pods, full.state.pods);
      assert.deepStrictEqual(second.state.nodes, full.state.nodes);
      assert.deepStrictEqual(second.state.daemonSets.get('default/web')!.revisions, full.state.daemonSets.get('default/web')!.revisions);
      // dsctl reads through the snapshot too, and sees the same.
      const viaSnapshot = await loadState(nc);
      assert.ok(viaSnapshot.fromSnapshot !== undefined);
      assert.deepStrictEqual(viaSnapshot.state.pods, full.state.pods);
      // Time travel to before the snapshot folds from the start instead.
      const early = await loadState(nc, { untilSeq: 3 });
      assert.equal(early.fromSnapshot, undefined);
      assert.equal(early.state.seq, 3);
    } finally {
      await second.stop();
    }
  });

  it('a corrupt snapshot is ignored with a reason and the controller replays everything', async () => {
    const store = await new Objm(nc).open(SNAPSHOT_BUCKET);
    await store.putBlob({ name: snapshotObjectName('global') }, new TextEncoder().encode('garbage, not msgpack {'));
    const r = await loadSnapshot(nc, 4);
    assert.equal(r.found, false);
    assert.match((r as { reason: string }).reason, /snapshot (corrupt|refused)/);
    const { log, lines } = recordingLogger();
    const c = await startController(nc, controllerConfig, log);
    try {
      const replay = lines.find((l) => l['msg'] === 'replay caught up');
      assert.match(String(replay?.['snapshot']), /snapshot (corrupt|refused)/);
      assert.equal(replay?.['fromSeq'], 1);
      await eventually(() => assert.ok(lines.some((l) => l['msg'] === 'slots read up')));
      assert.equal(c.state.daemonSets.get('default/web')?.status?.desiredNumberScheduled, 3);
    } finally {
      await c.stop();
    }
  });

  it('a snapshot of a log stream that was since recreated is not used', async () => {
    const c = await startController(nc, controllerConfig, silent);
    await eventually(async () => assert.ok((await loadSnapshot(nc, 4)).found), { timeoutMs: 5_000 }).catch(async () => {
      // Nothing new to snapshot after the corrupt one: fold enough events to trigger one.
      await applyManifests(nc, await parseManifests(manifest.replace('image: nginx', 'image: nginx:2'), 't'));
      await eventually(async () => assert.ok((await loadSnapshot(nc, 4)).found), { timeoutMs: 10_000 });
    });
    await c.stop();
    const before = await loadSnapshot(nc, 4);
    assert.ok(before.found);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(LOG_STREAM);
    await ensureTopology(nc);
    // The new stream grows past the snapshot's sequence, so only the stream's identity can tell
    // that the snapshot belongs to another log.
    const js = jetstream(nc);
    for (let i = 0; i <= before.data.seq; i++) {
      await js.publish(nodeSubject('n1'), encodeEvent({ type: 'NodeReady', v: 1, data: { node: 'n1' } }));
    }
    const r = await loadSnapshot(nc, 4);
    assert.equal(r.found, false);
    assert.match((r as { reason: string }).reason, /another log stream/);
  });
});
