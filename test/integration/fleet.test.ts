// Fleet mode against a real nats-server, with the controller in this process: 50 simulated nodes
// over one connection (and a second, 3-node fleet beside it) get exactly one pod each and
// report it Ready; each node acts only on its own commands; a stale epoch is refused with
// CommandRejected; stopping deregisters every node, and a restart is a new incarnation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { decodeEvent } from '../../libs/codec/codec.js';
import { podKey } from '../../libs/core/state.js';
import type { AnyEvent, PodCreate } from '../../libs/events/types.js';
import { connectBus } from '../../libs/nats/connect.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { commandSubject, LOG_STREAM, nodeSubject, podReportSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { fleetNodeNames } from '../../services/fleet/config.js';
import { startFleet, type FleetHandle, type FleetOptions } from '../../services/fleet/fleet.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';

const silent = pino({ level: 'silent' });
const SLOTS = 8;
const FLEET_NODES = 50;

const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [ { name: web, image: nginx:1.25 } ] }
`;

function fleetOptions(names: readonly string[]): FleetOptions {
  return { names, nodeLabels: { zone: 'z1' }, heartbeatIntervalMs: 500, simStartDelayMs: 5, simReadyDelayMs: 5, simFailRate: 0 };
}

async function lastOn(jsm: JetStreamManager, subject: string): Promise<AnyEvent | undefined> {
  try {
    const m = await jsm.streams.getMessage(LOG_STREAM, { last_by_subj: subject });
    if (!m) return undefined;
    const r = decodeEvent(m.data);
    return r.ok ? r.event : undefined;
  } catch {
    return undefined;
  }
}

describe('fleet mode (real nats-server, controller in-process)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let fleetNc: NatsConnection;
  let otherNc: NatsConnection;
  let jsm: JetStreamManager;
  let controller: ControllerHandle;
  let fleet: FleetHandle;
  let other: FleetHandle;
  const names = fleetNodeNames('sim-', 1, FLEET_NODES);
  const otherNames = fleetNodeNames('other-', 1, 3);
  const slot = dsSlot('default', 'web', SLOTS);

  before(async () => {
    nats = await startNats();
    nc = await connectBus({ url: nats.url, name: 'fleet-it' });
    jsm = await jetstreamManager(nc);
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'it', SLOTS: String(SLOTS), BURST: '100000' }), silent);
    fleetNc = await connectBus({ url: nats.url, name: 'fleet-it/sim' });
    otherNc = await connectBus({ url: nats.url, name: 'fleet-it/other' });
    fleet = await startFleet(fleetNc, fleetOptions(names), silent);
    other = await startFleet(otherNc, fleetOptions(otherNames), silent);
  });

  after(async () => {
    await other?.stop();
    await fleet?.stop();
    await controller?.stop();
    for (const c of [otherNc, fleetNc, nc]) await c?.close();
    await nats?.stop();
  });

  it('registers every node with its own incarnation, the default labels and NODE_LABELS', async () => {
    assert.deepEqual(fleet.nodes(), names);
    assert.equal(fleet.registrations.length, FLEET_NODES);
    assert.equal(new Set(names.map((n) => fleet.incarnation(n))).size, FLEET_NODES, 'incarnations are distinct');
    await eventually(() => {
      for (const n of [...names, ...otherNames]) assert.ok(controller.state.nodes.has(n), `${n} registered`);
    });
    const node = controller.state.nodes.get('sim-7')!;
    assert.equal(node.incarnation, fleet.incarnation('sim-7'));
    assert.equal(node.labels['kubernetes.io/hostname'], 'sim-7');
    assert.equal(node.labels['zone'], 'z1');
    // Each registration's sequence is where that node's commands start.
    const seqs = fleet.registrations.map((r) => r.seq);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'registrations were written in order');
  });

  it('apply: every fleet node gets exactly one pod and reports it Ready', async () => {
    await applyManifests(nc, await parseManifests(manifest, 'test'));
    const all = [...names, ...otherNames];
    await eventually(
      () => {
        const s = controller.state.daemonSets.get('default/web')?.status;
        assert.deepEqual([s?.desiredNumberScheduled, s?.currentNumberScheduled, s?.numberReady], [all.length, all.length, all.length]);
      },
      { timeoutMs: 20_000 },
    );
    for (const n of all) {
      const pods = [...controller.state.pods.values()].filter((p) => p.node === n);
      assert.equal(pods.length, 1, `${n} has exactly one pod`);
      const pod = pods[0]!;
      assert.deepEqual([pod.owner?.name, pod.phase, pod.ready], ['web', 'Running', true]);
      const host = n.startsWith('sim-') ? fleet : other;
      assert.deepEqual(host.running(n), [pod.uid], `${n} runs exactly the pod placed on it`);
    }
  });

  it('a fleet node acts only on its own commands; a stale epoch is refused with CommandRejected', async () => {
    const js = jetstream(nc);
    const placed = await lastOn(jsm, commandSubject(slot, 'sim-7'));
    assert.equal(placed?.type, 'PodCreate');
    const real = placed as PodCreate;
    assert.ok(real.data.epoch >= 1);
    const before = fleet.stats();
    const running = fleet.running('sim-7');

    // A command for a node no fleet hosts: nobody acts on it or answers it.
    const forStranger: PodCreate = {
      ...real,
      data: { ...real.data, id: 'stranger-create', node: 'stranger-1', pod: { ...real.data.pod, uid: 'stranger-uid', name: 'web-stranger' } },
    };
    await publishEvent(js, { subject: commandSubject(slot, 'stranger-1'), event: forStranger, msgId: forStranger.data.id });
    // Then a command for sim-7 from an epoch below the one it has seen for this slot.
    const stale: PodCreate = {
      ...real,
      data: {
        ...real.data,
        id: 'stale-create',
        epoch: real.data.epoch - 1,
        ds: { namespace: 'default', name: 'ghost', uid: 'ghost-uid' },
        pod: { ...real.data.pod, uid: 'stale-uid', name: 'ghost-stale' },
      },
    };
    const staleAck = await publishEvent(js, { subject: commandSubject(slot, 'sim-7'), event: stale, msgId: stale.data.id });

    // Everything sim-7 reports after the stale command (the controller may also react to the
    // refused pod, so look for the refusal among the reports rather than at the last one).
    const reports: AnyEvent[] = [];
    const reader = await openLogReader({
      nc,
      filter: podReportSubject(slot, 'sim-7'),
      fromSeq: staleAck.seq + 1,
      onEnvelope: (env) => reports.push(env.event),
    });
    const rejected = await eventually(() => {
      const r = reports.find((e) => e.type === 'CommandRejected');
      assert.ok(r, `no CommandRejected yet; reports: ${reports.map((e) => e.type).join(', ')}`);
      return r;
    });
    await reader.stop();
    assert.deepEqual(rejected, {
      type: 'CommandRejected',
      v: 1,
      data: {
        node: 'sim-7',
        commandId: 'stale-create',
        commandType: 'PodCreate',
        slot,
        epoch: real.data.epoch - 1,
        namespace: 'default',
        podName: 'ghost-stale',
        podUid: 'stale-uid',
        reason: 'StaleEpoch',
        message: `epoch ${real.data.epoch - 1} is below ${real.data.epoch}, the highest seen for slot ${slot}`,
      },
    });
    // The stranger's command came first in the log, so it was delivered (and skipped) by now.
    assert.equal(fleet.stats().rejected, before.rejected + 1, 'one refusal: the stale command');
    assert.deepEqual(fleet.running('sim-7'), running, 'sim-7 still runs only its own pod');
    for (const n of names) assert.ok(!fleet.running(n).includes('stranger-uid'));
    for (const n of otherNames) assert.ok(!other.running(n).includes('stranger-uid'));
    assert.equal(await lastOn(jsm, podReportSubject(slot, 'stranger-1')), undefined, 'nobody answered for the stranger');
    // The controller folded the refusal (and may have collected the dangling pod): none is left.
    await eventually(() => assert.equal(controller.state.pods.get(podKey('default', 'ghost-stale')), undefined));
  });

  it('stop deregisters every node of that fleet; a restarted fleet registers new incarnations', async () => {
    const incarnations = new Map(names.map((n) => [n, fleet.incarnation(n)!]));
    await fleet.stop();
    for (const n of names) {
      assert.deepEqual(await lastOn(jsm, nodeSubject(n)), { type: 'NodeDeregistered', v: 1, data: { node: n, incarnation: incarnations.get(n) } });
    }
    await eventually(() => {
      for (const n of names) assert.ok(!controller.state.nodes.has(n), `${n} is gone`);
      assert.ok(![...controller.state.pods.values()].some((p) => p.node.startsWith('sim-')), 'their pods went with them');
    });
    for (const n of otherNames) assert.ok(controller.state.nodes.has(n), `${n} of the other fleet stays`);

    const restarted = await startFleet(fleetNc, fleetOptions(names.slice(0, 2)), silent);
    try {
      for (const n of names.slice(0, 2)) {
        assert.notEqual(restarted.incarnation(n), incarnations.get(n), `${n} came back as a new incarnation`);
        await eventually(() => assert.equal(controller.state.nodes.get(n)?.incarnation, restarted.incarnation(n)));
      }
    } finally {
      await restarted.stop();
    }
  });
});
