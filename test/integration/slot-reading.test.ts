// Sharding that divides the reading, on a real nats-server: four controllers split eight slots,
// and each one reads exactly the messages of the slots it owns plus the global facts, counted
// against the log's own per-subject counts; none reads the whole log.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { desiredSlots } from '../../libs/core/assignment.js';
import { LOG_STREAM, subjectSlot } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

const SLOTS = 8;
const IDS = ['c1', 'c2', 'c3', 'c4'];
const NODES = ['n1', 'n2', 'n3'];
const NAMES = ['logs', 'metrics', 'web', 'api', 'db', 'cache', 'agent', 'proxy'];

const manifest = (name: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: ${name}, image: ${name}:1 } ] }
`;

/** Messages in the log per part: 'g' for the global facts, else the slot. */
async function countsByPart(nc: NatsConnection): Promise<Map<number | 'g', number>> {
  const info = await (await jetstreamManager(nc)).streams.info(LOG_STREAM, { subjects_filter: '>' });
  const out = new Map<number | 'g', number>();
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
    const part = subjectSlot(subject) ?? 'g';
    out.set(part, (out.get(part) ?? 0) + n);
  }
  return out;
}

describe('per-slot reading (real nats-server, four controllers, eight slots)', () => {
  let nats: TestNats;
  let dir: string;
  const conns: NatsConnection[] = [];
  const controllers = new Map<string, ControllerHandle>();
  const agents: AgentHandle[] = [];

  before(async () => {
    nats = await startNats();
    dir = await tempDir('slot-reading-');
  });

  after(async () => {
    for (const a of agents) await a.stop({ deregister: false });
    for (const c of controllers.values()) await c.stop();
    for (const nc of conns) await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('each controller reads exactly its own slots and the global facts', async () => {
    for (const id of IDS) {
      const nc = await connect({ servers: nats.url });
      conns.push(nc);
      controllers.set(id, await startController(nc, loadControllerConfig({ CONTROLLER_ID: id, SLOTS: String(SLOTS), LEASE_TTL_MS: '1500' }), pino({ level: 'silent' })));
    }
    const nc = conns[0]!;
    // Settled: every controller reads exactly its rendezvous share.
    await eventually(() => {
      for (const id of IDS) assert.deepEqual(controllers.get(id)!.slotsRead(), [...desiredSlots(id, IDS, SLOTS)].sort((a, b) => a - b), id);
    }, { timeoutMs: 20_000, message: 'the split settled' });
    for (const node of NODES) {
      agents.push(await startAgent(nc, loadAgentConfig({ NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '1', SIM_READY_DELAY_MS: '1' }), pino({ level: 'silent' })));
    }
    await eventually(() => {
      for (const c of controllers.values()) assert.equal(c.state.nodes.size, NODES.length);
    });
    // A quiet moment: the log and every controller's read count stay put between two looks.
    const quiet = async (): Promise<{ reads: Map<string, number>; counts: Map<number | 'g', number> }> => {
      let last = '';
      return eventually(async () => {
        const reads = new Map(IDS.map((id) => [id, controllers.get(id)!.readCount()]));
        const counts = await countsByPart(nc);
        const seen = JSON.stringify([[...reads], [...counts]]);
        const same = seen === last;
        last = seen;
        assert.ok(same, 'still moving');
        return { reads, counts };
      }, { timeoutMs: 20_000, intervalMs: 300, message: 'a quiet moment' });
    };
    const { reads: read0, counts: counts0 } = await quiet();

    const slotsUsed = new Set(NAMES.map((n) => dsSlot('default', n, SLOTS)));
    assert.ok(slotsUsed.size >= 5, `the DaemonSets spread over several slots (${[...slotsUsed].join(', ')})`);
    await applyManifests(nc, await parseManifests(NAMES.map(manifest).join('---\n'), 't'));
    // Every DaemonSet ready, as seen by the controller that owns its slot.
    await eventually(() => {
      for (const name of NAMES) {
        const ready = [...controllers.values()].map((c) => c.state.daemonSets.get(`default/${name}`)?.status?.numberReady ?? 0);
        assert.equal(Math.max(...ready), NODES.length, name);
      }
    }, { timeoutMs: 30_000, message: 'every DaemonSet ready' });
    // Quiet: the log stops growing and every controller has read up to it.
    let previous = -1;
    const counts1 = await eventually(async () => {
      const counts = await countsByPart(nc);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const same = total === previous;
      previous = total;
      assert.ok(same, 'the log is still growing');
      for (const id of IDS) {
        const owned = desiredSlots(id, IDS, SLOTS);
        const expected = [...counts].filter(([part]) => part === 'g' || owned.has(part as number)).reduce((a, [part, n]) => a + n - (counts0.get(part) ?? 0), 0);
        assert.equal(controllers.get(id)!.readCount() - read0.get(id)!, expected, `${id} read exactly its slots (${[...owned].join(', ')}) and the global facts`);
      }
      return counts;
    }, { timeoutMs: 20_000, intervalMs: 500, message: 'each controller read exactly its slots and the global facts' });

    const grown = (part: number | 'g'): number => (counts1.get(part) ?? 0) - (counts0.get(part) ?? 0);
    const slotMessages = [...counts1.keys()].filter((p) => p !== 'g').reduce((a, p) => a + grown(p), 0);
    for (const id of IDS) {
      const owned = desiredSlots(id, IDS, SLOTS);
      const mine = [...owned].reduce((a, s) => a + grown(s), 0);
      // About a quarter of the slot-scoped messages each (as the DaemonSets fall), never all of them.
      assert.ok(mine < slotMessages, `${id} read ${mine} of ${slotMessages} slot messages`);
    }
    const shares = IDS.map((id) => [...desiredSlots(id, IDS, SLOTS)].reduce((a, s) => a + grown(s), 0) / slotMessages);
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'the shares add up to the whole: every slot message is read by exactly one controller');
  });
});
