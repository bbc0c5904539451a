// Adding a controller to a running cluster: slots move to the newcomer by drained handover, with
// no slot ever held by two controllers and only a short gap while one changes hands, measured
// from the lease bucket's own history (every write and delete of every slot's lease).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KvWatchInclude, Kvm, type KvWatchEntry } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { desiredSlots } from '../../libs/core/assignment.js';
import { LEASE_BUCKET } from '../../libs/topology/names.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';

const SLOTS = 32;
const TTL = 1500;

describe('rebalancing when a controller joins (real nats-server)', () => {
  let nats: TestNats;
  const conns: NatsConnection[] = [];
  const controllers: ControllerHandle[] = [];
  const history: { slot: number; owner?: string; atMs: number }[] = [];

  const start = async (id: string): Promise<ControllerHandle> => {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const c = await startController(nc, loadControllerConfig({ CONTROLLER_ID: id, SLOTS: String(SLOTS), LEASE_TTL_MS: String(TTL) }), pino({ level: 'silent' }));
    controllers.push(c);
    return c;
  };

  before(async () => {
    nats = await startNats();
  });

  after(async () => {
    for (const c of controllers) await c.stop();
    for (const nc of conns) await nc.close();
    await nats.stop();
  });

  it('a joining controller gets its rendezvous share; no slot is ever held twice; gaps are short', async () => {
    await start('c1');
    await start('c2');
    const nc = conns[0]!;
    const kv = await new Kvm(nc).open(LEASE_BUCKET);
    const owners = async (): Promise<Map<number, string>> => {
      const m = new Map<number, string>();
      for (let s = 0; s < SLOTS; s++) {
        const e = await kv.get(`slot.${s}`);
        if (e?.operation === 'PUT') m.set(s, e.json<{ owner: string }>().owner);
      }
      return m;
    };
    // Settled: every slot held, exactly as rendezvous splits them between c1 and c2.
    const c2Share = desiredSlots('c2', ['c1', 'c2'], SLOTS);
    await eventually(async () => {
      const now = await owners();
      assert.equal(now.size, SLOTS);
      for (const [slot, owner] of now) assert.equal(owner, c2Share.has(slot) ? 'c2' : 'c1');
    }, { message: 'two controllers never settled on their split' });

    const watch = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const e of watch as AsyncIterable<KvWatchEntry>) {
        if (process.env['DEBUG_REBALANCE']) console.log(e.key, e.operation, e.operation === 'PUT' ? e.string() : '');
        const slot = Number(e.key.split('.')[1]);
        history.push({ slot, ...(e.operation === 'PUT' ? { owner: e.json<{ owner: string }>().owner } : {}), atMs: e.created.getTime() });
      }
    })();

    await start('c3');
    const want = desiredSlots('c3', ['c1', 'c2', 'c3'], SLOTS);
    await eventually(async () => {
      const now = await owners();
      const mine = [...now].filter(([, o]) => o === 'c3').map(([s]) => s).sort((a, b) => a - b);
      assert.deepEqual(mine, [...want].sort((a, b) => a - b));
      assert.equal(now.size, SLOTS);
    }, { timeoutMs: 10_000, message: 'c3 never got its share' });
    watch.stop();

    // Walk the lease history: a slot's lease goes owner → (deleted) → new owner, never owner → other owner.
    const holder = new Map<number, { owner?: string; since: number }>();
    let maxGapMs = 0;
    for (const h of history) {
      const prev = holder.get(h.slot);
      if (h.owner !== undefined && prev?.owner !== undefined) assert.equal(h.owner, prev.owner, `slot ${h.slot} passed from ${prev.owner} to ${h.owner} without a release`);
      if (h.owner !== undefined && prev && prev.owner === undefined) maxGapMs = Math.max(maxGapMs, h.atMs - prev.since);
      holder.set(h.slot, { ...(h.owner !== undefined ? { owner: h.owner } : {}), since: h.atMs });
    }
    const moved = new Set(history.filter((h) => h.owner === 'c3').map((h) => h.slot)).size;
    const released = [...new Set(history.filter((h) => h.owner === undefined).map((h) => h.slot))].sort((a, b) => a - b);
    assert.equal(moved, want.size, 'the newcomer took exactly its share');
    assert.deepEqual(released, [...want].sort((a, b) => a - b), 'only the newcomer\'s slots were released by their old owners');
    assert.ok(maxGapMs < TTL, `a slot stayed unowned for ${maxGapMs} ms during the handover`);
    console.log(`# rebalance: ${moved} of ${SLOTS} slots moved to the newcomer; longest unowned gap ${maxGapMs} ms`);
  });
});
