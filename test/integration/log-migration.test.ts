// dsctl migrate-log against a real nats-server, on a log recorded with the build before per-slot
// subjects (test/fixtures/legacy-layout-log.json, see record-legacy-log.md): 127 messages of a
// rollout, a pod delete, a cordon, a namespace and NotReady verdicts, sequences up to 129 with 50
// and 129 deleted. The fixture is loaded as an old-layout DS_LOG at the same sequences, each with
// its recorded time in Ds-Time (a publish cannot set the stream time). Then: the topology checks,
// dsctl and the controller refuse it, naming dsctl migrate-log; migrate-log (the real CLI) carries
// it over; every event is at its old sequence with its payload, ids and time; the fold gives what
// the old build showed; a second run does nothing; interrupted runs finish when run again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager, type StoredMsg, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { publishHeartbeat } from '../../libs/nats/heartbeats.js';
import { copyToHolding, inspectMigration, LogMigrationError, migrateLog, refillLog, swapLog } from '../../libs/nats/log-migration/mod.js';
import { ensureTopology, LegacyLogLayoutError, LogMigrationInProgressError, readTopology } from '../../libs/nats/topology.js';
import { legacyToCurrentSubject, MIGRATION_FILLER_SUBJECT, MIGRATION_STREAM } from '../../libs/topology/legacy-layout.js';
import { CONFIG_BUCKET, CONFIG_SLOTS_KEY, HEADER_TIME, HEARTBEAT_STREAM, HEARTBEAT_SUBJECTS, LEGACY_LOG_SUBJECTS, LOG_STREAM, LOG_SUBJECTS, MEMBERS_BUCKET, SNAPSHOT_BUCKET } from '../../libs/topology/names.js';
import { loadState } from '../../services/cli/state-loader.js';
import { ownNatsServerUnavailable, startNats, type TestNats } from '../support/nats-server.js';
import { REPO_ROOT, runCli, spawnService } from '../support/processes.js';

interface FixtureMessage {
  readonly seq: number;
  readonly subject: string;
  readonly time: string;
  readonly timeMs: number;
  readonly headers: [string, string][];
  readonly payload: string;
}

interface FixtureFacts {
  readonly daemonSets: {
    namespace: string;
    name: string;
    uid: string;
    slot: number;
    generation: number;
    templateGeneration: number;
    currentHash: string;
    lastSpecSeq: number;
    createdMs: number;
    revisions: { revision: number; hash: string; seq: number; appliedMs: number; image: string }[];
    status: Record<string, number>;
  }[];
  readonly pods: { namespace: string; name: string; uid: string; node: string; hash: string; phase: string; ready: boolean }[];
  readonly nodes: { name: string; ready: string; unschedulable: boolean }[];
  readonly namespaces: string[];
}

interface K8sList {
  readonly items: { metadata: Record<string, unknown> & { name: string; namespace?: string }; spec: Record<string, unknown>; status: Record<string, unknown> }[];
}

interface Fixture {
  readonly stream: { readonly config: StreamConfig; readonly state: { messages: number; first_seq: number; last_seq: number; deleted: number[] } };
  readonly dsctl: Record<string, K8sList>;
  readonly facts: FixtureFacts;
  readonly messages: FixtureMessage[];
}

const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'legacy-layout-log.json'), 'utf8')) as Fixture;
/** The slot count of the recorded topology (SLOTS=16 in the recording). */
const SLOTS = 16;

/**
 * Loads the fixture as an old-layout DS_LOG at its sequences (a placeholder, then deleted, where
 * it has none), with the topology's config bucket and an old snapshot object. `withTime`: each
 * message carries its recorded time in Ds-Time; without, its time is the load's stream time.
 */
async function loadLegacyLog(nc: NatsConnection, opts: { withTime: boolean }): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const config = { ...fixture.stream.config };
  assert.deepEqual(config.subjects, [...LEGACY_LOG_SUBJECTS]);
  await jsm.streams.add(config);
  const bySeq = new Map(fixture.messages.map((m) => [m.seq, m]));
  for (let seq = 1; seq <= fixture.stream.state.last_seq; seq++) {
    const m = bySeq.get(seq);
    if (!m) {
      // No `expect`: the server would store it as a header of the message.
      assert.equal((await js.publish('ev.placeholder.deleted', new Uint8Array(0))).seq, seq);
      await jsm.streams.deleteMessage(LOG_STREAM, seq, true);
      continue;
    }
    const h = headers();
    for (const [k, v] of m.headers) h.append(k, v);
    if (opts.withTime) h.set(HEADER_TIME, String(m.timeMs));
    const ack = await js.publish(m.subject, Buffer.from(m.payload, 'base64'), { headers: h });
    assert.equal(ack.seq, seq);
  }
  const kv = await new Kvm(nc).create(CONFIG_BUCKET, { history: 1 });
  await kv.put(CONFIG_SLOTS_KEY, String(SLOTS));
  const store = await new Objm(nc).create(SNAPSHOT_BUCKET);
  await store.putBlob({ name: 'state' }, new Uint8Array([1, 2, 3]));
  const info = await jsm.streams.info(LOG_STREAM);
  assert.equal(info.state.last_seq, fixture.stream.state.last_seq);
  assert.equal(info.state.messages, fixture.stream.state.messages);
}

/** Removes every stream, so the next test loads a fresh log. */
async function wipe(jsm: JetStreamManager): Promise<void> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  for (const name of names) await jsm.streams.delete(name);
}

/** The loaded log's stream times (ms), by sequence: what Ds-Time must say for a message that had none. */
async function streamTimes(jsm: JetStreamManager): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const m of fixture.messages) {
    const stored = await jsm.streams.getMessage(LOG_STREAM, { seq: m.seq });
    assert.ok(stored);
    out.set(m.seq, Math.floor(Date.parse(stored.timestamp)));
  }
  return out;
}

/** A message of the log, or null when there is none (nats.js answers either way, by version). */
async function storedOrNull(jsm: JetStreamManager, query: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
  try {
    return await jsm.streams.getMessage(LOG_STREAM, query);
  } catch (err) {
    if (/no message found/.test(String(err))) return null;
    throw err;
  }
}

/** Every fixture message at its sequence with its subject mapped, its payload, its id, no precondition, and its time. */
async function assertCarriedOver(jsm: JetStreamManager, timeOf: (m: FixtureMessage) => number): Promise<void> {
  const info: StreamInfo = await jsm.streams.info(LOG_STREAM);
  assert.deepEqual(info.config.subjects, [...LOG_SUBJECTS]);
  assert.equal(info.state.last_seq, fixture.stream.state.last_seq, 'same last sequence');
  assert.equal(info.state.messages, fixture.stream.state.messages, 'same message count');
  const { subjects: _old, description: _d, ...oldRest } = fixture.stream.config;
  const { subjects: _new, description, ...newRest } = info.config;
  assert.deepEqual(newRest, oldRest, 'the old settings');
  assert.equal(description ?? '', '', 'no in-progress mark left');
  for (const m of fixture.messages) {
    const got = await jsm.streams.getMessage(LOG_STREAM, { seq: m.seq });
    assert.ok(got, `seq ${m.seq}`);
    const mapped = legacyToCurrentSubject(m.subject);
    assert.ok(mapped.ok);
    assert.equal(got.subject, mapped.subject, `seq ${m.seq}`);
    assert.deepEqual(Buffer.from(got.data), Buffer.from(m.payload, 'base64'), `seq ${m.seq}: payload byte for byte`);
    assert.equal(got.header.get(HEADER_TIME), String(timeOf(m)), `seq ${m.seq}: time`);
    const want = m.headers.filter(([k]) => !k.startsWith('Nats-Expected-'));
    const carried: [string, string][] = [];
    for (const k of got.header.keys()) if (k !== HEADER_TIME) for (const v of got.header.values(k)) carried.push([k, v]);
    assert.deepEqual(carried, want, `seq ${m.seq}: headers (ids kept, publish preconditions not)`);
  }
  for (const seq of fixture.stream.state.deleted) assert.equal(await storedOrNull(jsm, { seq }), null, `seq ${seq} stays without a message`);
  assert.equal(await storedOrNull(jsm, { last_by_subj: MIGRATION_FILLER_SUBJECT }), null, 'no filler left');
  await assert.rejects(jsm.streams.info(MIGRATION_STREAM), /stream not found/, 'the holding stream is gone');
}

async function assertNoSnapshots(nc: NatsConnection): Promise<void> {
  const store = await new Objm(nc).open(SNAPSHOT_BUCKET);
  assert.deepEqual((await store.list()).map((o) => o.name), []);
}

const sortBy = <T>(items: readonly T[], key: (t: T) => string): T[] => [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

const skip = ownNatsServerUnavailable();

describe('dsctl migrate-log on a log recorded in the old layout', { skip }, () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let env: Record<string, string>;

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    env = { NATS_URL: nats.url };
    assert.equal(fixture.messages.length, fixture.stream.state.messages);
    assert.deepEqual(fixture.stream.state.deleted, [50, 129], 'the fixture has a gap in the middle and one at the end');
  });

  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  describe('an old log is refused, naming the way forward', () => {
    before(async () => {
      await wipe(jsm);
      await loadLegacyLog(nc, { withTime: true });
    });

    it('readTopology and ensureTopology throw LegacyLogLayoutError naming `dsctl migrate-log`', async () => {
      for (const call of [() => readTopology(nc), () => ensureTopology(nc, { slots: SLOTS })]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof LegacyLogLayoutError, String(err));
          assert.match(err.message, /^the log DS_LOG is in the layout before per-slot subjects \(ev\.>, cmd\.>\): stop the controllers and run `dsctl migrate-log` to carry it over/);
          return true;
        });
      }
      // ensureTopology created nothing beside it.
      assert.deepEqual((await jsm.streams.info(LOG_STREAM)).config.subjects, [...LEGACY_LOG_SUBJECTS]);
    });

    it('dsctl prints it as one clean error and exits 1', async () => {
      const r = await runCli(['get', 'ds', '-A'], env);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: the log DS_LOG is in the layout before per-slot subjects \(ev\.>, cmd\.>\): stop the controllers and run `dsctl migrate-log` to carry it over/);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack');
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });

    it('a controller logs it and exits 1 instead of starting', async () => {
      const controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'c-legacy', SLOTS: String(SLOTS) });
      const status = await controller.exited;
      assert.equal(status.code, 1, controller.output());
      const fatal = controller.lines().find((l) => l.json?.['level'] === 'fatal');
      assert.ok(fatal, controller.output());
      const err = fatal.json?.['err'] as { type?: string; message?: string } | undefined;
      assert.equal(err?.type, 'LegacyLogLayoutError');
      assert.match(err?.message ?? '', /run `dsctl migrate-log`/);
      assert.ok(!controller.lines().some((l) => l.json === undefined && /^\s+at /.test(l.text)), `no stack printed outside the log line:\n${controller.output()}`);
      assert.deepEqual((await jsm.streams.info(LOG_STREAM)).config.subjects, [...LEGACY_LOG_SUBJECTS], 'the log is untouched');
    });

    it('--dry-run says what it would do and changes nothing', async () => {
      const r = await runCli(['migrate-log', '--dry-run'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /DS_LOG is in the layout before per-slot subjects \(ev\.>, cmd\.>\): 127 message\(s\), sequences up to 129 \(2 without a message\)/);
      assert.match(r.stdout, /would copy them to DS_LOG_MIGRATION/);
      assert.match(r.stdout, /ev\.ds\.… -> s\.<slot>\.ds\.…: 3 message\(s\) on 2 subject\(s\)/);
      assert.match(r.stdout, /cmd\.<slot>\.… -> s\.<slot>\.cmd\.…: \d+ message\(s\)/);
      assert.match(r.stdout, /still running: no controller registered as live, no agent heard from lately/);
      const info = await jsm.streams.info(LOG_STREAM);
      assert.deepEqual(info.config.subjects, [...LEGACY_LOG_SUBJECTS]);
      assert.equal(info.state.messages, 127);
      await assert.rejects(jsm.streams.info(MIGRATION_STREAM), /stream not found/);
    });

    it('refuses while a controller is registered as live, and changes nothing', async () => {
      const members = await new Kvm(nc).create(MEMBERS_BUCKET, { history: 1, ttl: 60_000 });
      await members.put('c9', JSON.stringify({ id: 'c9', startedMs: 1, pid: 4242, host: 'box' }));
      try {
        const r = await runCli(['migrate-log'], env);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: controllers registered as live: c9 \(pid 4242 on box\)\. Stop every controller, agent, fleet and apiserver first .* or pass --force if they are gone/);
        assert.deepEqual((await jsm.streams.info(LOG_STREAM)).config.subjects, [...LEGACY_LOG_SUBJECTS]);
        await assert.rejects(jsm.streams.info(MIGRATION_STREAM), /stream not found/);
      } finally {
        await members.delete('c9');
      }
    });
  });

  describe('a running agent holds it back too', () => {
    before(async () => {
      await wipe(jsm);
      await loadLegacyLog(nc, { withTime: true });
    });

    it('refuses while an agent has sent a heartbeat lately; --dry-run names it', async () => {
      await jsm.streams.add({ name: HEARTBEAT_STREAM, subjects: [...HEARTBEAT_SUBJECTS], max_msgs_per_subject: 1 });
      publishHeartbeat(nc, { type: 'Heartbeat', v: 1, data: { node: 'node-1', incarnation: 'inc-1', sentMs: Date.now() } });
      await nc.flush();
      const dry = await runCli(['migrate-log', '--dry-run'], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /still running \(stop them first, or --force\): agents heard from lately \(their last heartbeat\): node-1 \(\d+ s ago\)/);
      const r = await runCli(['migrate-log'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: agents heard from lately \(their last heartbeat\): node-1 \(\d+ s ago\)\. Stop every controller, agent, fleet and apiserver first/);
      assert.deepEqual((await jsm.streams.info(LOG_STREAM)).config.subjects, [...LEGACY_LOG_SUBJECTS]);
      const forced = await runCli(['migrate-log', '--force'], env);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /agents heard from lately \(their last heartbeat\): node-1 \(\d+ s ago\) \(gone on with --force\)/);
      assert.deepEqual((await jsm.streams.info(LOG_STREAM)).config.subjects, [...LOG_SUBJECTS]);
    });
  });

  describe('the migration', () => {
    before(async () => {
      await wipe(jsm);
      await loadLegacyLog(nc, { withTime: true });
    });

    it('carries every event over at its sequence with its payload, ids and time', async () => {
      const r = await runCli(['migrate-log'], env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /the log DS_LOG is in the current layout \(s\.>, g\.>\): 127 message\(s\) carried over at their sequences \(last 129\)/);
      assert.match(r.stdout, /2 sequence\(s\) without a message in the old log stay without one/);
      assert.match(r.stdout, /publish preconditions not carried: Nats-Expected-Last-Subject-Sequence \(6\)/);
      assert.match(r.stdout, /1 snapshot object\(s\) deleted from ds_snapshots/);
      assert.match(r.stderr, /^migrate-log: copying 127 messages of DS_LOG to DS_LOG_MIGRATION$/m, 'progress on stderr');
      await assertCarriedOver(jsm, (m) => m.timeMs);
      await assertNoSnapshots(nc);
      assert.deepEqual(await readTopology(nc), { slots: SLOTS });
    });

    it('the migrated log folds to the DaemonSets, revisions, pods and nodes the old build showed', async () => {
      const { state } = await loadState(nc, { useSnapshot: false });
      const want = fixture.facts;
      assert.deepEqual(
        sortBy([...state.daemonSets.values()], (d) => d.name).map((d) => ({
          namespace: d.namespace,
          name: d.name,
          uid: d.uid,
          slot: d.slot,
          generation: d.generation,
          templateGeneration: d.templateGeneration,
          currentHash: d.currentHash,
          lastSpecSeq: d.lastSpecSeq,
          createdMs: d.createdMs,
          revisions: d.revisions.map((rev) => ({ revision: rev.revision, hash: rev.hash, seq: rev.seq, appliedMs: rev.appliedMs, image: rev.template.spec?.containers[0]?.image })),
          status: d.status,
        })),
        sortBy(want.daemonSets, (d) => d.name),
      );
      assert.deepEqual(
        sortBy([...state.pods.values()], (p) => p.name).map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid, node: p.node, hash: p.hash, phase: p.phase, ready: p.ready })),
        sortBy(want.pods, (p) => p.name),
      );
      assert.deepEqual(
        sortBy([...state.nodes.values()], (n) => n.name).map((n) => ({ name: n.name, ready: n.ready, unschedulable: n.unschedulable })),
        sortBy(want.nodes, (n) => n.name),
      );
      assert.deepEqual([...state.namespaces.keys()].sort(), [...want.namespaces].sort());
    });

    it('dsctl get shows what the old build’s dsctl printed (names, uids, resource versions, times, revisions, status)', async () => {
      const ds = await runCli(['get', 'ds', '-A', '-o', 'json'], env);
      assert.equal(ds.code, 0, ds.stderr);
      const pick = (l: K8sList) =>
        sortBy(l.items, (i) => i.metadata.name).map((i) => ({
          name: i.metadata.name,
          namespace: i.metadata.namespace,
          uid: i.metadata['uid'],
          generation: i.metadata['generation'],
          resourceVersion: i.metadata['resourceVersion'],
          creationTimestamp: i.metadata['creationTimestamp'],
          labels: i.metadata['labels'],
          annotations: i.metadata['annotations'],
          status: i.status,
        }));
      assert.deepEqual(pick(JSON.parse(ds.stdout) as K8sList), pick(fixture.dsctl['get ds -A -o json']!));
      const pods = await runCli(['get', 'pods', '-A', '-o', 'json'], env);
      assert.equal(pods.code, 0, pods.stderr);
      const podFacts = (l: K8sList) =>
        sortBy(l.items, (i) => i.metadata.name).map((i) => ({
          name: i.metadata.name,
          namespace: i.metadata.namespace,
          uid: i.metadata['uid'],
          labels: i.metadata['labels'],
          creationTimestamp: i.metadata['creationTimestamp'],
          node: i.spec['nodeName'],
          phase: i.status['phase'],
        }));
      assert.deepEqual(podFacts(JSON.parse(pods.stdout) as K8sList), podFacts(fixture.dsctl['get pods -A -o json']!));
    });

    it('a second run does nothing and says so', async () => {
      const before = await jsm.streams.info(LOG_STREAM);
      const r = await runCli(['migrate-log'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'the log DS_LOG is already in the current layout (s.>, g.>): nothing to migrate\n');
      const now = await jsm.streams.info(LOG_STREAM);
      assert.deepEqual(now.state, before.state);
      assert.equal(now.created, before.created);
    });
  });

  describe('an interrupted migration finishes when run again', () => {
    let times: Map<number, number>;

    beforeEach(async () => {
      await wipe(jsm);
      // Without Ds-Time: the carried time must be the old stream time.
      await loadLegacyLog(nc, { withTime: false });
      times = await streamTimes(jsm);
    });

    const finish = async (): Promise<void> => {
      const r = await runCli(['migrate-log'], env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /going on with an interrupted migration/);
      await assertCarriedOver(jsm, (m) => times.get(m.seq)!);
      await assertNoSnapshots(nc);
    };

    it('after the copy, before the old log was replaced', async () => {
      const found = await inspectMigration(nc);
      assert.equal(found.stage, 'legacy');
      if (found.stage !== 'legacy') return;
      await copyToHolding(nc, found.log);
      assert.equal((await inspectMigration(nc)).stage, 'held');
      await assert.rejects(readTopology(nc), LegacyLogLayoutError);
      await finish();
    });

    it('after the old log was deleted, before the new one was made', async () => {
      const found = await inspectMigration(nc);
      if (found.stage !== 'legacy') throw new Error(found.stage);
      await copyToHolding(nc, found.log);
      await jsm.streams.delete(LOG_STREAM);
      assert.equal((await inspectMigration(nc)).stage, 'recreate');
      // Nothing may create an empty log meanwhile.
      await assert.rejects(ensureTopology(nc, { slots: SLOTS }), (err: unknown) => err instanceof LogMigrationInProgressError && /run it again if it was interrupted/.test(err.message));
      await assert.rejects(jsm.streams.info(LOG_STREAM), /stream not found/);
      await finish();
    });

    it('with the new log partly refilled (past the gap at 50)', async () => {
      const found = await inspectMigration(nc);
      if (found.stage !== 'legacy') throw new Error(found.stage);
      const meta = await copyToHolding(nc, found.log);
      await swapLog(nc, meta);
      await refillLog(nc, meta, { untilSeq: 60 });
      const partial = await jsm.streams.info(LOG_STREAM);
      assert.equal(partial.state.last_seq, 60);
      assert.equal((await inspectMigration(nc)).stage, 'refill');
      await assert.rejects(readTopology(nc), (err: unknown) => err instanceof LogMigrationInProgressError && /DS_LOG is being refilled/.test(err.message));
      const r = await runCli(['get', 'ds', '-A'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: the log DS_LOG is being migrated to the current layout/);
      await finish();
    });
  });

  describe('edges', () => {
    beforeEach(async () => {
      await wipe(jsm);
    });

    it('a Nats-Msg-Id the old log holds twice (written further apart than its duplicate window) is carried twice', async () => {
      await jsm.streams.add({ name: LOG_STREAM, subjects: [...LEGACY_LOG_SUBJECTS], duplicate_window: 100_000_000 });
      const js = jetstream(nc);
      await js.publish('ev.node.n1', new Uint8Array([1]), { msgID: 'same' });
      await new Promise((r) => setTimeout(r, 400));
      const second = await js.publish('ev.node.n1', new Uint8Array([2]), { msgID: 'same' });
      assert.equal(second.duplicate, false);
      await js.publish('cmd.3.n1', new Uint8Array([3]), { msgID: 'other' });
      const report = await migrateLog(nc);
      assert.equal(report.outcome, 'migrated');
      for (const [seq, subject, byte] of [[1, 'g.node.n1', 1], [2, 'g.node.n1', 2], [3, 's.3.cmd.n1', 3]] as const) {
        const m = await jsm.streams.getMessage(LOG_STREAM, { seq });
        assert.equal(m?.subject, subject);
        assert.deepEqual([...(m?.data ?? [])], [byte]);
        assert.equal(m?.header.get('Nats-Msg-Id'), seq === 3 ? 'other' : 'same');
      }
      assert.equal((await jsm.streams.info(LOG_STREAM)).config.duplicate_window, 100_000_000, 'its own window restored');
    });

    it('a subject with no place in the new layout stops it before anything changes', async () => {
      await jsm.streams.add({ name: LOG_STREAM, subjects: [...LEGACY_LOG_SUBJECTS] });
      const js = jetstream(nc);
      await js.publish('ev.node.n1', new Uint8Array([1]));
      await js.publish('ev.gossip.n1', new Uint8Array([2]));
      await js.publish('ev.shard.01', new Uint8Array([3]));
      await assert.rejects(migrateLog(nc), (err: unknown) => {
        assert.ok(err instanceof LogMigrationError);
        assert.match(err.message, /2 message\(s\) of DS_LOG have subjects with no place in the new layout, so nothing was changed/);
        assert.match(err.message, /seq 2: "ev\.gossip\.n1": unknown family "gossip"/);
        assert.match(err.message, /seq 3: "ev\.shard\.01": slot "01" is not a slot number/);
        return true;
      });
      const info = await jsm.streams.info(LOG_STREAM);
      assert.deepEqual(info.config.subjects, [...LEGACY_LOG_SUBJECTS]);
      assert.equal(info.state.messages, 3);
      await assert.rejects(jsm.streams.info(MIGRATION_STREAM), /stream not found/);
      const dry = await migrateLog(nc, { dryRun: true });
      assert.ok(dry.lines.some((l) => /would refuse: 2 subject\(s\)/.test(l)), dry.lines.join('\n'));
    });

    it('no log at all: nothing to migrate', async () => {
      const r = await runCli(['migrate-log'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'there is no log DS_LOG here: nothing to migrate\n');
    });
  });
});
