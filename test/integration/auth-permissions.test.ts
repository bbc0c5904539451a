// Issue #8: per-role credentials on the bus, against a real nats-server started with the
// `auth.conf` that `initAuthDir` writes. Each attack asserts both halves: the server refused it
// with a permission error, and the log (DS_LOG's last sequence, the heartbeat stream's, and the
// last message on the subject attacked) is exactly what it was before.
//
// How a refusal surfaces in @nats-io v3 (found by these tests):
// - a request (a JetStream publish, any JetStream API call) to a forbidden subject rejects at once
//   with a RequestError `Permissions Violation for Publish to "<subject>"` whose cause is the
//   PermissionViolationError (operation 'publish', the subject) parsed from the server's `-ERR`;
// - a core publish (heartbeats) returns normally: the server's `-ERR` arrives on the connection's
//   status iterator as an `error` status carrying that PermissionViolationError;
// - a subscription to a forbidden subject is closed, its `closed` promise resolving with
//   `Permissions Violation for Subscription to "<subject>"`.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createInbox, PermissionViolationError, RequestError, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { AUTH_CONF, credsPath, ensureIdentities, initAuthDir, removeNode } from '../../libs/auth/auth-dir.js';
import { createUserKey, formatCreds } from '../../libs/auth/credentials.js';
import { decodeEvent, encodeEvent } from '../../libs/codec/codec.js';
import type { AnyEvent, Envelope } from '../../libs/events/types.js';
import { BusAuthorizationError, connectBus } from '../../libs/nats/connect.js';
import { publishHeartbeat } from '../../libs/nats/heartbeats.js';
import { openLogReader, type LogReader } from '../../libs/nats/log-reader.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import {
  CONFIG_BUCKET,
  DEAD_LETTER_STREAM,
  DEFAULT_SLOTS,
  HEARTBEAT_STREAM,
  LOG_STREAM,
  clockSubject,
  commandSubject,
  deadLetterSubject,
  dsStatusSubject,
  dsSubject,
  heartbeatSubject,
  lifeSubject,
  namespaceSubject,
  nodeAdminSubject,
  nodeCommandFilter,
  nodeSubject,
  podReportSubject,
  podRequestSubject,
  shardSubject,
} from '../../libs/topology/names.js';
import { agentConsumerName, agentInboxPrefix, consumerApiSubjects, type Identity } from '../../libs/topology/roles.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { openCommandFeed } from '../../services/fleet/command-feed.js';
import { eventually } from '../support/eventually.js';
import { FLUENTD_DAEMONSET_YAML } from '../support/manifests.js';
import { runCli } from '../support/processes.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';
import { ownNatsServerUnavailable, startNats, type TestNats } from '../support/nats-server.js';
import { tempDir } from '../support/temp-dir.js';

const A = 'node-a';
const B = 'node-b';
const SLOT = 5;
const DS = { namespace: 'kube-system', name: 'fluentd' };

/** A connected identity and the permission errors its connection has reported so far. */
interface Peer {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly violations: PermissionViolationError[];
}

/** Where the log stands: what a refused write must leave exactly as it was. */
interface Position {
  readonly logLastSeq: number;
  readonly hbLastSeq: number;
  /** The sequence of the last message on the attacked subject (0: none). */
  readonly subjectLastSeq: number;
}

const publishRefusal = (subject: string): string => `Permissions Violation for Publish to "${subject}"`;
const subscribeRefusal = (subject: string): string => `Permissions Violation for Subscription to "${subject}"`;

/** A sample event rewritten to speak for `node`. */
function forNode<T extends AnyEvent>(event: T, node: string): T {
  return { ...event, data: { ...event.data, node } };
}

const heartbeat = (node: string) => forNode(EVENT_SAMPLES.Heartbeat, node);
const agentTaints = (node: string) =>
  forNode({ ...EVENT_SAMPLES.NodeTaintsSet, data: { ...EVENT_SAMPLES.NodeTaintsSet.data, source: 'agent' as const } }, node);
const adminTaints = (node: string) => forNode(EVENT_SAMPLES.NodeTaintsSet, node);

describe("dsctl auth add-node / remove-node rewrite every deny list with the agents' consumers", () => {
  /** The publish deny list of each user of DIR/auth.conf, by the name in its comment. */
  const denyLists = async (dir: string): Promise<Record<string, readonly string[]>> => {
    const lines = (await readFile(join(dir, AUTH_CONF), 'utf8')).split('\n');
    const out: Record<string, readonly string[]> = {};
    lines.forEach((line, i) => {
      if (!line.trimStart().startsWith('{ nkey:')) return;
      const name = /^\s*# (\S+)/.exec(lines[i - 1] ?? '')![1]!;
      const user = JSON.parse(line.trim().replace(/([{,]\s*)(nkey|permissions|publish|subscribe|allow|deny):/g, '$1"$2":')) as { permissions: { publish: { deny?: string[] } } };
      out[name] = user.permissions.publish.deny ?? [];
    });
    return out;
  };
  const guardOf = (nodes: readonly string[]): string[] => ['$JS.API.CONSUMER.CREATE.DS_LOG', ...nodes.flatMap((n) => consumerApiSubjects(agentConsumerName(n)))];
  const historyOf = (deny: readonly string[]): string[] => deny.filter((d) => d.startsWith('$JS.API.STREAM.'));

  it('init with node-a, add-node node-b, remove-node node-a: the services are denied exactly the consumers of the nodes present', async () => {
    const dir = await tempDir('auth-guard-');
    try {
      initAuthDir(dir, [A]);
      const first = await denyLists(dir);
      ensureIdentities(dir, [{ role: 'agent', node: B }]);
      const second = await denyLists(dir);
      removeNode(dir, A);
      const third = await denyLists(dir);
      const services = ['admin', 'apiserver', 'controller', 'fleet', 'viewer'];
      for (const [lists, nodes] of [[first, [A]], [second, [A, B]], [third, [B]]] as const) {
        assert.deepEqual(
          Object.fromEntries(services.map((name) => [name, lists[name]!.filter((d) => !d.startsWith('$JS.API.STREAM.'))])),
          Object.fromEntries(services.map((name) => [name, guardOf(nodes)])),
        );
      }
      // The agents have no deny list; the history writes stay denied as before.
      assert.deepEqual([second[A], second[B], third[B]], [[], [], []]);
      assert.deepEqual(historyOf(third['controller']!), historyOf(first['controller']!));
      assert.equal(historyOf(third['controller']!).length, 8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bus permissions: per-role nkeys from auth.conf (issue #8)', { skip: ownNatsServerUnavailable() }, () => {
  let authDir: string;
  let nats: TestNats;
  let admin: Peer;
  let controller: Peer;
  let viewer: Peer;
  let fleet: Peer;
  let apiserver: Peer;
  let agentA: Peer;
  let agentB: Peer;
  const readers: LogReader[] = [];
  /** Every write to DS_LOG a test expected to be accepted, in order. */
  const accepted: { seq: number; subject: string }[] = [];
  const written = async (subject: string, ack: Promise<{ seq: number }>): Promise<number> => {
    const { seq } = await ack;
    accepted.push({ seq, subject });
    return seq;
  };
  const peers: Peer[] = [];

  const connectAs = async (id: Identity): Promise<Peer> => {
    const nc = await connectBus({
      url: nats.url,
      name: id.role === 'agent' ? `agent/${id.node!}` : id.role,
      once: true,
      security: { credsFile: credsPath(authDir, id) },
      ...(id.role === 'agent' ? { inboxPrefix: agentInboxPrefix(id.node!) } : {}),
    });
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'error' && s.error instanceof PermissionViolationError) violations.push(s.error);
      }
    })().catch((err: unknown) => assert.fail(`the status loop of ${id.role} ${id.node ?? ''} failed: ${String(err)}`));
    const peer: Peer = { nc, js: jetstream(nc), jsm: await jetstreamManager(nc, { checkAPI: false }), violations };
    peers.push(peer);
    return peer;
  };

  const lastSeqOn = async (subject: string): Promise<number> => {
    const stream = subject.startsWith('hb.') ? HEARTBEAT_STREAM : LOG_STREAM;
    const m = await admin.jsm.streams.getMessage(stream, { last_by_subj: subject });
    return m?.seq ?? 0;
  };

  const position = async (subject: string): Promise<Position> => ({
    logLastSeq: (await admin.jsm.streams.info(LOG_STREAM)).state.last_seq,
    hbLastSeq: (await admin.jsm.streams.info(HEARTBEAT_STREAM)).state.last_seq,
    subjectLastSeq: await lastSeqOn(subject),
  });

  /**
   * `attempt` (a request) must reject with exactly the server's publish refusal for `subject`: a
   * RequestError whose cause is the PermissionViolationError the server's `-ERR` was parsed into.
   */
  const assertRefused = async (attempt: Promise<unknown>, subject: string): Promise<void> => {
    const err = await attempt.then(
      (v: unknown) => assert.fail(`the server accepted a forbidden request on ${subject}: ${JSON.stringify(v)}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    assert.equal(err.message, publishRefusal(subject));
    const cause = err.cause;
    assert.ok(cause instanceof PermissionViolationError, `expected a PermissionViolationError as the cause, got ${String(cause)}`);
    assert.deepEqual({ message: cause.message, operation: cause.operation, subject: cause.subject }, { message: publishRefusal(subject), operation: 'publish', subject });
  };

  /** A JetStream publish of `event` on `subject` by `peer` is refused and leaves the log as it was. */
  const assertWriteRefused = async (peer: Peer, subject: string, event: AnyEvent): Promise<void> => {
    const was = await position(subject);
    await assertRefused(publishEvent(peer.js, { subject, event }), subject);
    assert.deepEqual(await position(subject), was);
  };

  /** A core publish (fire and forget): the refusal comes back on the status iterator. */
  const assertCorePublishRefused = async (peer: Peer, subject: string, publish: () => void): Promise<void> => {
    const was = await position(subject);
    const mark = peer.violations.length;
    publish();
    await peer.nc.flush();
    await eventually(() => peer.violations.length > mark, { message: `a permission error for ${subject}` });
    await peer.nc.flush();
    assert.deepEqual(
      peer.violations.slice(mark).map((e) => e.message),
      [publishRefusal(subject)],
    );
    assert.deepEqual(await position(subject), was);
  };

  /**
   * A subscription to `subject` is closed by the server's refusal. The `-ERR` comes before the
   * PONG of the flush, so once the flush is back the subscription is closed or never will be.
   */
  const assertSubscribeRefused = async (peer: Peer, subject: string): Promise<void> => {
    const sub = peer.nc.subscribe(subject);
    await peer.nc.flush();
    const closed = await Promise.race([sub.closed, Promise.resolve('still open' as const)]);
    if (closed === 'still open') sub.unsubscribe();
    assert.ok(closed instanceof PermissionViolationError, `expected the subscription to ${subject} closed by a permission error, got ${String(closed)}`);
    assert.deepEqual({ message: closed.message, operation: closed.operation, subject: closed.subject }, { message: subscribeRefusal(subject), operation: 'subscription', subject });
  };

  /** A JetStream publish that must succeed and land as the last message of `subject`. */
  const assertWriteAccepted = async (peer: Peer, subject: string, event: AnyEvent): Promise<void> => {
    const was = await position(subject);
    const seq = await written(subject, publishEvent(peer.js, { subject, event }));
    assert.equal(seq, was.logLastSeq + 1);
    const stored = await admin.jsm.streams.getMessage(LOG_STREAM, { last_by_subj: subject });
    assert.equal(stored?.seq, seq);
    assert.deepEqual(decodeEvent(stored!.data), { ok: true, event });
  };

  /** Every consumer on the log and its filter ('' for none). */
  const consumerFilters = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for await (const ci of admin.jsm.consumers.list(LOG_STREAM)) out[ci.name] = ci.config.filter_subject ?? '';
    return out;
  };

  /**
   * After an attack by agent A: no consumer was added or widened. A's own consumer is the one
   * exception: openLogReader deletes a consumer of its name before creating it (its own right),
   * and A's live reader then re-creates it, so it may be missing for a moment, but never with
   * another filter than A's.
   */
  const assertNoConsumerWidened = async (before: Record<string, string>): Promise<void> => {
    const own = agentConsumerName(A);
    const { [own]: ownNow, ...othersNow } = await consumerFilters();
    const { [own]: _ownBefore, ...othersBefore } = before;
    assert.deepEqual(othersNow, othersBefore);
    assert.ok(ownNow === undefined || ownNow === nodeCommandFilter(A), `A's consumer now filters ${ownNow}`);
  };

  const consumerNames = async (): Promise<string[]> => {
    const names: string[] = [];
    for await (const name of admin.jsm.consumers.list(LOG_STREAM)) names.push(name.name);
    return names.sort();
  };

  before(async () => {
    authDir = await tempDir('auth-permissions-');
    initAuthDir(authDir, [A, B]);
    const authConf = await readFile(join(authDir, AUTH_CONF), 'utf8');
    nats = await startNats({ configText: authConf });
    admin = await connectAs({ role: 'admin' });
    await ensureTopology(admin.nc);
    controller = await connectAs({ role: 'controller' });
    viewer = await connectAs({ role: 'viewer' });
    fleet = await connectAs({ role: 'fleet' });
    apiserver = await connectAs({ role: 'apiserver' });
    agentA = await connectAs({ role: 'agent', node: A });
    agentB = await connectAs({ role: 'agent', node: B });
    // Something on the log before the attacks: a DaemonSet and node B's registration.
    await written(dsSubject(SLOT, DS.namespace, DS.name), publishEvent(admin.js, { subject: dsSubject(SLOT, DS.namespace, DS.name), event: EVENT_SAMPLES.DaemonSetApplied }));
    await written(nodeSubject(B), publishEvent(agentB.js, { subject: nodeSubject(B), event: forNode(EVENT_SAMPLES.NodeRegistered, B) }));
  });

  after(async () => {
    for (const r of readers) await r.stop();
    for (const p of peers) await p.nc.close();
    await nats?.stop();
    if (authDir !== undefined) await rm(authDir, { recursive: true, force: true });
  });

  describe('connecting', () => {
    it('a connection without credentials is refused', async () => {
      const err = await connectBus({ url: nats.url, name: 'anonymous', once: true }).then(
        () => assert.fail('the server accepted a connection without credentials'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BusAuthorizationError, String(err));
      assert.equal(
        err.message,
        `NATS at ${nats.url} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)`,
      );
    });

    it('a valid seed that auth.conf does not name is refused', async () => {
      const bogus = join(authDir, 'bogus.creds');
      writeFileSync(bogus, formatCreds(createUserKey(), 'not in auth.conf'), { mode: 0o600 });
      const err = await connectBus({ url: nats.url, name: 'bogus', once: true, security: { credsFile: bogus } }).then(
        () => assert.fail('the server accepted an unknown nkey'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BusAuthorizationError, String(err));
      assert.equal(
        err.message,
        `NATS at ${nats.url} refused the credentials in ${bogus}: authorization violation (is this identity in the server's auth.conf, and was the server reloaded?)`,
      );
    });
  });

  describe('agent A (node-a credentials)', () => {
    it('publishes its own heartbeat on hb.node-a', async () => {
      const mark = agentA.violations.length;
      const was = await position(heartbeatSubject(A));
      publishHeartbeat(agentA.nc, heartbeat(A));
      await agentA.nc.flush();
      const stored = await eventually(
        async () => {
          const m = await admin.jsm.streams.getMessage(HEARTBEAT_STREAM, { last_by_subj: heartbeatSubject(A) });
          if (m === null || m.seq <= was.subjectLastSeq) throw new Error('no new heartbeat of node-a yet');
          return m;
        },
        { message: 'the heartbeat of node-a in DS_HB' },
      );
      assert.deepEqual(decodeEvent(stored.data), { ok: true, event: heartbeat(A) });
      assert.deepEqual(agentA.violations.slice(mark), []);
    });

    const ownWrites: readonly { readonly name: string; readonly subject: string; readonly event: AnyEvent }[] = [
      { name: 'NodeRegistered on g.node.node-a', subject: nodeSubject(A), event: EVENT_SAMPLES.NodeRegistered },
      { name: 'NodeTaintsSet (source agent) on g.node.node-a', subject: nodeSubject(A), event: agentTaints(A) },
      { name: 'PodStarted on s.5.pod.node-a', subject: podReportSubject(SLOT, A), event: EVENT_SAMPLES.PodStarted },
    ];
    for (const c of ownWrites) {
      it(`publishes ${c.name}`, async () => {
        await assertWriteAccepted(agentA, c.subject, c.event);
      });
    }

    it('reads its own commands through its named consumer (a PodCreate the controller wrote on s.5.cmd.node-a)', async () => {
      const seen: Envelope[] = [];
      const reader = await openLogReader({
        nc: agentA.nc,
        filter: nodeCommandFilter(A),
        consumerName: agentConsumerName(A),
        onEnvelope: (env) => seen.push(env),
      });
      readers.push(reader);
      await reader.caughtUp;
      const seq = await written(commandSubject(SLOT, A), publishEvent(controller.js, { subject: commandSubject(SLOT, A), event: EVENT_SAMPLES.PodCreate }));
      await eventually(() => seen.length > 0, { message: 'the PodCreate delivered to agent A' });
      assert.deepEqual(
        seen.map((e) => ({ seq: e.seq, subject: e.subject, event: e.event })),
        [{ seq, subject: 's.5.cmd.node-a', event: EVENT_SAMPLES.PodCreate }],
      );
      assert.deepEqual(agentA.violations, []);
      // Its consumer goes with it; the guard tests below open node-a's reader afresh.
      await reader.stop();
    });
  });

  describe('agent A cannot act as node B, as an admin or as a controller', () => {
    it('cannot publish a heartbeat as node-b (hb.node-b)', async () => {
      await assertCorePublishRefused(agentA, heartbeatSubject(B), () => publishHeartbeat(agentA.nc, heartbeat(B)));
    });

    const forged: readonly { readonly name: string; readonly subject: string; readonly event: AnyEvent }[] = [
      { name: 'a NodeTaintsSet on g.node.node-b', subject: nodeSubject(B), event: agentTaints(B) },
      { name: 'a NodeRegistered on g.node.node-b', subject: nodeSubject(B), event: forNode(EVENT_SAMPLES.NodeRegistered, B) },
      { name: 'a pod report (PodFailed) on s.5.pod.node-b', subject: podReportSubject(SLOT, B), event: forNode(EVENT_SAMPLES.PodFailed, B) },
      { name: 'an admin taint on its own node (g.nodeadm.node-a)', subject: nodeAdminSubject(A), event: adminTaints(A) },
      { name: 'an admin cordon of its own node (g.nodeadm.node-a)', subject: nodeAdminSubject(A), event: EVENT_SAMPLES.NodeUnschedulableSet },
      { name: 'a DaemonSetApplied on s.5.ds.kube-system.fluentd', subject: dsSubject(SLOT, DS.namespace, DS.name), event: EVENT_SAMPLES.DaemonSetApplied },
      { name: 'a command to itself (PodCreate on s.5.cmd.node-a)', subject: commandSubject(SLOT, A), event: EVENT_SAMPLES.PodCreate },
      { name: 'a command to node-b (PodDelete on s.5.cmd.node-b)', subject: commandSubject(SLOT, B), event: forNode(EVENT_SAMPLES.PodDelete, B) },
      { name: 'a liveness verdict (NodeNotReady on g.life.node-b)', subject: lifeSubject(B), event: forNode(EVENT_SAMPLES.NodeNotReady, B) },
      { name: 'a pod delete request (s.5.podreq.node-b)', subject: podRequestSubject(SLOT, B), event: forNode(EVENT_SAMPLES.PodDeleteRequested, B) },
    ];
    for (const c of forged) {
      it(`cannot publish ${c.name}`, async () => {
        await assertWriteRefused(agentA, c.subject, c.event);
      });
    }

    const subscriptions = [nodeCommandFilter(B), '_INBOX.>', `${agentInboxPrefix(B)}.>`, 'g.>', 's.>'];
    for (const subject of subscriptions) {
      it(`cannot subscribe to ${subject}`, async () => {
        await assertSubscribeRefused(agentA, subject);
      });
    }

    it("cannot open a reader over node-b's commands with node-b's consumer name", async () => {
      const before = await consumerFilters();
      const subject = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${agentConsumerName(B)}.${nodeCommandFilter(B)}`;
      await assertRefused(
        openLogReader({ nc: agentA.nc, filter: nodeCommandFilter(B), consumerName: agentConsumerName(B), onEnvelope: () => assert.fail('delivered') }),
        subject,
      );
      await assertNoConsumerWidened(before);
    });

    it("cannot open a reader over node-b's commands with its own consumer name", async () => {
      const before = await consumerFilters();
      const subject = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${agentConsumerName(A)}.${nodeCommandFilter(B)}`;
      await assertRefused(
        openLogReader({ nc: agentA.nc, filter: nodeCommandFilter(B), consumerName: agentConsumerName(A), onEnvelope: () => assert.fail('delivered') }),
        subject,
      );
      await assertNoConsumerWidened(before);
    });

    it('cannot open a reader over the whole log', async () => {
      const before = await consumerFilters();
      const subject = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${agentConsumerName(A)}`;
      await assertRefused(openLogReader({ nc: agentA.nc, consumerName: agentConsumerName(A), onEnvelope: () => assert.fail('delivered') }), subject);
      await assertNoConsumerWidened(before);
    });

    const rawCreates: readonly { readonly name: string; readonly subject: string }[] = [
      { name: 'without a name ($JS.API.CONSUMER.CREATE.DS_LOG)', subject: `$JS.API.CONSUMER.CREATE.${LOG_STREAM}` },
      { name: 'as a durable ($JS.API.CONSUMER.DURABLE.CREATE.DS_LOG.cmd_node-a)', subject: `$JS.API.CONSUMER.DURABLE.CREATE.${LOG_STREAM}.${agentConsumerName(A)}` },
    ];
    for (const c of rawCreates) {
      it(`cannot create a consumer over node-b's commands with a raw request ${c.name}`, async () => {
        const before = await consumerFilters();
        const body = { stream_name: LOG_STREAM, config: { durable_name: agentConsumerName(A), filter_subject: nodeCommandFilter(B), ack_policy: 'none' } };
        await assertRefused(agentA.nc.request(c.subject, JSON.stringify(body), { timeout: 2_000 }), c.subject);
        await assertNoConsumerWidened(before);
      });
    }

    // The subject it may publish to pins the filter; the server must also hold the body to it.
    const smuggled: readonly { readonly name: string; readonly config: Record<string, unknown> }[] = [
      { name: "node-b's filter in the body", config: { name: agentConsumerName(A), filter_subject: nodeCommandFilter(B) } },
      { name: 'no filter in the body (the whole log)', config: { name: agentConsumerName(A) } },
      { name: "a wider filter in the body ('s.*.cmd.>')", config: { name: agentConsumerName(A), filter_subject: 's.*.cmd.>' } },
      { name: "node-b's filter in filter_subjects", config: { name: agentConsumerName(A), filter_subjects: [nodeCommandFilter(B)] } },
    ];
    for (const c of smuggled) {
      it(`cannot widen its own consumer through the body of the allowed create request: ${c.name}`, async () => {
        const subject = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${agentConsumerName(A)}.${nodeCommandFilter(A)}`;
        const before = await consumerFilters();
        const body = { stream_name: LOG_STREAM, config: { ...c.config, ack_policy: 'none', deliver_policy: 'all', mem_storage: true } };
        const reply = await agentA.nc.request(subject, JSON.stringify(body), { timeout: 2_000 });
        const answer = reply.json<{ error?: { code: number; err_code: number; description: string }; config?: { filter_subject?: string } }>();
        assert.deepEqual(answer.error, { code: 400, err_code: 10131, description: 'Consumer create request did not match filtered subject from create subject' }, JSON.stringify(answer));
        await assertNoConsumerWidened(before);
      });
    }

    it("cannot pull from node-b's consumer after node-b created it", async () => {
      const seenByB: Envelope[] = [];
      const readerB = await openLogReader({ nc: agentB.nc, filter: nodeCommandFilter(B), consumerName: agentConsumerName(B), onEnvelope: (e) => seenByB.push(e) });
      readers.push(readerB);
      await readerB.caughtUp;
      const before = await admin.jsm.consumers.info(LOG_STREAM, agentConsumerName(B));
      const subject = `$JS.API.CONSUMER.MSG.NEXT.${LOG_STREAM}.${agentConsumerName(B)}`;
      await assertRefused(agentA.nc.request(subject, JSON.stringify({ batch: 1, expires: 1_000_000_000 }), { timeout: 2_000 }), subject);
      const afterInfo = await admin.jsm.consumers.info(LOG_STREAM, agentConsumerName(B));
      assert.deepEqual(afterInfo.delivered, before.delivered);
    });

    it("cannot read node-b's consumer info, nor delete it", async () => {
      const info = `$JS.API.CONSUMER.INFO.${LOG_STREAM}.${agentConsumerName(B)}`;
      await assertRefused(agentA.jsm.consumers.info(LOG_STREAM, agentConsumerName(B)), info);
      const del = `$JS.API.CONSUMER.DELETE.${LOG_STREAM}.${agentConsumerName(B)}`;
      await assertRefused(agentA.jsm.consumers.delete(LOG_STREAM, agentConsumerName(B)), del);
      assert.ok((await consumerNames()).includes(agentConsumerName(B)));
    });

    it('cannot direct-get a message from DS_LOG', async () => {
      await assertRefused(agentA.jsm.direct.getMessage(LOG_STREAM, { seq: 1 }), `$JS.API.DIRECT.GET.${LOG_STREAM}`);
    });

    it('cannot msg-get a message from DS_LOG', async () => {
      await assertRefused(agentA.jsm.streams.getMessage(LOG_STREAM, { seq: 1 }), `$JS.API.STREAM.MSG.GET.${LOG_STREAM}`);
    });

    const destroy: readonly { readonly name: string; readonly subject: string; readonly run: (jsm: JetStreamManager) => Promise<unknown> }[] = [
      { name: 'delete DS_LOG', subject: `$JS.API.STREAM.DELETE.${LOG_STREAM}`, run: (jsm) => jsm.streams.delete(LOG_STREAM) },
      { name: 'purge DS_LOG', subject: `$JS.API.STREAM.PURGE.${LOG_STREAM}`, run: (jsm) => jsm.streams.purge(LOG_STREAM) },
      { name: 'delete a message of DS_LOG', subject: `$JS.API.STREAM.MSG.DELETE.${LOG_STREAM}`, run: (jsm) => jsm.streams.deleteMessage(LOG_STREAM, 1) },
      { name: 'rewrite DS_LOG (max_msgs 1)', subject: `$JS.API.STREAM.UPDATE.${LOG_STREAM}`, run: async (jsm) => jsm.streams.update(LOG_STREAM, { max_msgs: 1 }) },
    ];
    for (const c of destroy) {
      it(`cannot ${c.name}`, async () => {
        const was = (await admin.jsm.streams.info(LOG_STREAM)).state;
        await assertRefused(c.run(agentA.jsm), c.subject);
        const now = (await admin.jsm.streams.info(LOG_STREAM)).state;
        assert.deepEqual([now.first_seq, now.last_seq, now.messages], [was.first_seq, was.last_seq, was.messages]);
      });
    }
  });

  /** One write on every subject of the log. */
  const everyWrite = (): readonly { readonly subject: string; readonly event: AnyEvent }[] => [
    { subject: dsSubject(SLOT, DS.namespace, DS.name), event: EVENT_SAMPLES.DaemonSetApplied },
    { subject: dsStatusSubject(SLOT, DS.namespace, DS.name), event: EVENT_SAMPLES.DaemonSetStatusUpdated },
    { subject: namespaceSubject('logging'), event: EVENT_SAMPLES.NamespaceCreated },
    { subject: nodeSubject(A), event: agentTaints(A) },
    { subject: nodeAdminSubject(A), event: adminTaints(A) },
    { subject: lifeSubject(A), event: EVENT_SAMPLES.NodeReady },
    { subject: podReportSubject(SLOT, A), event: EVENT_SAMPLES.PodReady },
    { subject: podRequestSubject(SLOT, A), event: EVENT_SAMPLES.PodDeleteRequested },
    { subject: commandSubject(SLOT, A), event: EVENT_SAMPLES.PodCreate },
    { subject: clockSubject(SLOT), event: EVENT_SAMPLES.ClockTicked },
    { subject: shardSubject(SLOT), event: EVENT_SAMPLES.ShardAcquired },
  ];

  describe('the viewer', () => {
    it('reads the whole log through its own reader, and the stream info', async () => {
      const info = await viewer.jsm.streams.info(LOG_STREAM);
      const seen: number[] = [];
      const reader = await openLogReader({ nc: viewer.nc, onEnvelope: (e) => seen.push(e.seq) });
      readers.push(reader);
      const caught = await reader.caughtUp;
      assert.equal(caught.seq, info.state.last_seq);
      assert.deepEqual(seen, Array.from({ length: info.state.last_seq }, (_, i) => i + 1));
      assert.deepEqual(viewer.violations, []);
    });

    it('cannot publish on any event or command subject', async () => {
      for (const w of everyWrite()) await assertWriteRefused(viewer, w.subject, w.event);
    });

    it('cannot publish a heartbeat', async () => {
      await assertCorePublishRefused(viewer, heartbeatSubject(A), () => publishHeartbeat(viewer.nc, heartbeat(A)));
    });

    it('cannot publish to the dead-letter subject', async () => {
      await assertCorePublishRefused(viewer, deadLetterSubject('x', 'invalid'), () => viewer.nc.publish(deadLetterSubject('x', 'invalid'), encodeEvent(EVENT_SAMPLES.NodeReady)));
    });

    it('cannot put into a KV bucket ($KV.ds_config.x)', async () => {
      const kv = await new Kvm(viewer.nc).open(CONFIG_BUCKET);
      const was = (await admin.jsm.streams.info(`KV_${CONFIG_BUCKET}`)).state.last_seq;
      await assertRefused(kv.put('x', 'forged'), `$KV.${CONFIG_BUCKET}.x`);
      assert.equal((await admin.jsm.streams.info(`KV_${CONFIG_BUCKET}`)).state.last_seq, was);
    });

    const destroy: readonly { readonly name: string; readonly subject: string; readonly run: (jsm: JetStreamManager) => Promise<unknown> }[] = [
      { name: 'delete DS_LOG', subject: `$JS.API.STREAM.DELETE.${LOG_STREAM}`, run: (jsm) => jsm.streams.delete(LOG_STREAM) },
      { name: 'purge DS_LOG', subject: `$JS.API.STREAM.PURGE.${LOG_STREAM}`, run: (jsm) => jsm.streams.purge(LOG_STREAM) },
      { name: "delete node-b's consumer", subject: `$JS.API.CONSUMER.DELETE.${LOG_STREAM}.${agentConsumerName(B)}`, run: (jsm) => jsm.consumers.delete(LOG_STREAM, agentConsumerName(B)) },
    ];
    for (const c of destroy) {
      it(`cannot ${c.name}`, async () => {
        const was = (await admin.jsm.streams.info(LOG_STREAM)).state;
        const names = await consumerNames();
        await assertRefused(c.run(viewer.jsm), c.subject);
        const now = (await admin.jsm.streams.info(LOG_STREAM)).state;
        assert.deepEqual([now.first_seq, now.last_seq, now.messages], [was.first_seq, was.last_seq, was.messages]);
        assert.deepEqual(await consumerNames(), names);
      });
    }
  });

  describe('push consumers: the server delivers where a literal subscription shows interest (nats-io/nats-server#8274)', () => {
    /** The last sequences of the streams a copied log could land in. */
    const otherStreams = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const stream of [DEAD_LETTER_STREAM, HEARTBEAT_STREAM, `KV_${CONFIG_BUCKET}`]) out[stream] = (await admin.jsm.streams.info(stream)).state.last_seq;
      return out;
    };

    it('control: a role that may subscribe to dlq.control makes the server copy the log into DS_DLQ', async () => {
      // Why the viewer may subscribe to its inbox only: this is what it could do with `>`.
      const target = deadLetterSubject('control', 'invalid');
      const was = await otherStreams();
      const logMessages = (await admin.jsm.streams.info(LOG_STREAM)).state.messages;
      const sub = admin.nc.subscribe(target);
      await admin.nc.flush();
      await admin.jsm.consumers.add(LOG_STREAM, { name: 'push_control', deliver_subject: target, ack_policy: AckPolicy.None });
      try {
        await eventually(async () => (await admin.jsm.streams.info(DEAD_LETTER_STREAM)).state.last_seq === was[DEAD_LETTER_STREAM]! + logMessages, {
          message: 'the log copied into DS_DLQ',
        });
      } finally {
        sub.unsubscribe();
        await admin.jsm.consumers.delete(LOG_STREAM, 'push_control');
      }
    });

    const targets = [deadLetterSubject('x', 'invalid'), `$KV.${CONFIG_BUCKET}.slots`, heartbeatSubject(B)];
    targets.forEach((target, i) => {
      it(`the viewer cannot copy the log into ${target}: it may not subscribe there, so nothing is delivered`, async () => {
        const was = await otherStreams();
        await assertSubscribeRefused(viewer, target);
        // The server lets the viewer create the consumer (it does not check the deliver subject)...
        const name = `push_${i}`;
        await viewer.jsm.consumers.add(LOG_STREAM, { name, deliver_subject: target, ack_policy: AckPolicy.None });
        try {
          await viewer.nc.flush();
          // ...but without interest it is not bound and delivers nothing.
          const info = await admin.jsm.consumers.info(LOG_STREAM, name);
          const logMessages = (await admin.jsm.streams.info(LOG_STREAM)).state.messages;
          assert.deepEqual(
            { pushBound: info.push_bound ?? false, delivered: info.delivered.consumer_seq, pending: info.num_pending },
            { pushBound: false, delivered: 0, pending: logMessages },
          );
          assert.deepEqual(await otherStreams(), was);
        } finally {
          await admin.jsm.consumers.delete(LOG_STREAM, name);
        }
      });
    });
  });

  describe('the controller', () => {
    it('publishes a command (PodDelete on s.5.cmd.node-b)', async () => {
      await assertWriteAccepted(controller, commandSubject(SLOT, B), forNode(EVENT_SAMPLES.PodDelete, B));
    });

    it('publishes a liveness verdict (NodeNotReady on g.life.node-b)', async () => {
      await assertWriteAccepted(controller, lifeSubject(B), forNode(EVENT_SAMPLES.NodeNotReady, B));
    });

    const refused: readonly { readonly name: string; readonly subject: string; readonly event: AnyEvent }[] = [
      { name: 'a DaemonSet spec (ev.ds.…)', subject: dsSubject(SLOT, DS.namespace, DS.name), event: EVENT_SAMPLES.DaemonSetApplied },
      { name: 'a node event (g.node.node-a)', subject: nodeSubject(A), event: agentTaints(A) },
      { name: 'an admin node write (g.nodeadm.node-a)', subject: nodeAdminSubject(A), event: adminTaints(A) },
      { name: 'a pod report (s.5.pod.node-a)', subject: podReportSubject(SLOT, A), event: EVENT_SAMPLES.PodReady },
    ];
    for (const c of refused) {
      it(`cannot write ${c.name}`, async () => {
        await assertWriteRefused(controller, c.subject, c.event);
      });
    }

    it('cannot publish a heartbeat', async () => {
      await assertCorePublishRefused(controller, heartbeatSubject(A), () => publishHeartbeat(controller.nc, heartbeat(A)));
    });

    const destroy: readonly { readonly name: string; readonly subject: string; readonly run: (jsm: JetStreamManager) => Promise<unknown> }[] = [
      { name: 'delete DS_LOG', subject: `$JS.API.STREAM.DELETE.${LOG_STREAM}`, run: (jsm) => jsm.streams.delete(LOG_STREAM) },
      { name: 'purge DS_LOG', subject: `$JS.API.STREAM.PURGE.${LOG_STREAM}`, run: (jsm) => jsm.streams.purge(LOG_STREAM) },
      { name: 'rewrite DS_LOG (max_msgs 1)', subject: `$JS.API.STREAM.UPDATE.${LOG_STREAM}`, run: (jsm) => jsm.streams.update(LOG_STREAM, { max_msgs: 1 }) },
    ];
    for (const c of destroy) {
      it(`cannot ${c.name}`, async () => {
        const was = (await admin.jsm.streams.info(LOG_STREAM)).state;
        await assertRefused(c.run(controller.jsm), c.subject);
        const now = (await admin.jsm.streams.info(LOG_STREAM)).state;
        assert.deepEqual([now.first_seq, now.last_seq, now.messages], [was.first_seq, was.last_seq, was.messages]);
      });
    }
  });

  describe('the admin', () => {
    it('applies a DaemonSet (DaemonSetApplied on s.5.ds.kube-system.fluentd)', async () => {
      await assertWriteAccepted(admin, dsSubject(SLOT, DS.namespace, DS.name), { ...EVENT_SAMPLES.DaemonSetApplied, data: { ...EVENT_SAMPLES.DaemonSetApplied.data, generation: 2 } });
    });

    it('taints and cordons a node on g.nodeadm.node-a', async () => {
      await assertWriteAccepted(admin, nodeAdminSubject(A), adminTaints(A));
      await assertWriteAccepted(admin, nodeAdminSubject(A), EVENT_SAMPLES.NodeUnschedulableSet);
    });

    const refused: readonly { readonly name: string; readonly subject: string; readonly event: AnyEvent }[] = [
      { name: "a node's own event (g.node.node-a)", subject: nodeSubject(A), event: agentTaints(A) },
      { name: 'a command (s.5.cmd.node-a)', subject: commandSubject(SLOT, A), event: EVENT_SAMPLES.PodCreate },
      { name: 'a pod report (s.5.pod.node-a)', subject: podReportSubject(SLOT, A), event: EVENT_SAMPLES.PodReady },
      { name: 'a liveness verdict (g.life.node-a)', subject: lifeSubject(A), event: EVENT_SAMPLES.NodeReady },
    ];
    for (const c of refused) {
      it(`cannot publish ${c.name}`, async () => {
        await assertWriteRefused(admin, c.subject, c.event);
      });
    }

    it('cannot publish a heartbeat', async () => {
      await assertCorePublishRefused(admin, heartbeatSubject(A), () => publishHeartbeat(admin.nc, heartbeat(A)));
    });

    const destroy: readonly { readonly name: string; readonly subject: string; readonly run: (jsm: JetStreamManager) => Promise<unknown> }[] = [
      { name: 'purge DS_LOG', subject: `$JS.API.STREAM.PURGE.${LOG_STREAM}`, run: (jsm) => jsm.streams.purge(LOG_STREAM) },
      { name: 'delete DS_LOG', subject: `$JS.API.STREAM.DELETE.${LOG_STREAM}`, run: (jsm) => jsm.streams.delete(LOG_STREAM) },
      { name: 'rewrite DS_LOG (max_msgs 1)', subject: `$JS.API.STREAM.UPDATE.${LOG_STREAM}`, run: (jsm) => jsm.streams.update(LOG_STREAM, { max_msgs: 1 }) },
    ];
    for (const c of destroy) {
      it(`cannot ${c.name}`, async () => {
        const was = await admin.jsm.streams.info(LOG_STREAM);
        await assertRefused(c.run(admin.jsm), c.subject);
        const now = await admin.jsm.streams.info(LOG_STREAM);
        assert.deepEqual([now.state.first_seq, now.state.last_seq, now.state.messages, now.config.max_msgs], [was.state.first_seq, was.state.last_seq, was.state.messages, was.config.max_msgs]);
      });
    }
  });

  describe("node-a's command consumer (cmd_node-a) is node-a's alone: nobody else may pull from, delete or re-create it", () => {
    const consumer = agentConsumerName(A);
    const seenByA: Envelope[] = [];
    let violationsMark = 0;
    /** The consumer node-a's reader made: what every attack must leave exactly as it was. */
    let made: ConsumerState;

    interface ConsumerState {
      readonly created: string;
      readonly config: unknown;
      readonly delivered: { readonly consumer_seq: number; readonly stream_seq: number };
    }
    const consumerState = async (): Promise<ConsumerState> => {
      const ci = await admin.jsm.consumers.info(LOG_STREAM, consumer);
      return { created: ci.created, config: ci.config, delivered: { consumer_seq: ci.delivered.consumer_seq, stream_seq: ci.delivered.stream_seq } };
    };

    before(async () => {
      violationsMark = agentA.violations.length;
      const reader = await openLogReader({ nc: agentA.nc, filter: nodeCommandFilter(A), consumerName: consumer, onEnvelope: (e) => seenByA.push(e) });
      readers.push(reader);
      await reader.caughtUp;
      made = await consumerState();
    });

    const createBody = (config: Record<string, unknown>): string => JSON.stringify({ stream_name: LOG_STREAM, config: { ack_policy: 'none', ...config } });
    const raw = (peer: Peer, subject: string, body: string): Promise<unknown> => peer.nc.request(subject, body, { timeout: 2_000 });
    const pull = `$JS.API.CONSUMER.MSG.NEXT.${LOG_STREAM}.${consumer}`;
    const legacyCreate = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}`;
    const durableCreate = `$JS.API.CONSUMER.DURABLE.CREATE.${LOG_STREAM}.${consumer}`;
    const stepdown = `$JS.API.CONSUMER.LEADER.STEPDOWN.${LOG_STREAM}.${consumer}`;
    const attacks: readonly { readonly name: string; readonly subject: string; readonly run: (peer: Peer) => Promise<unknown> }[] = [
      { name: 'pull a command from it', subject: pull, run: (p) => raw(p, pull, JSON.stringify({ batch: 1, expires: 1_000_000_000 })) },
      { name: 'delete it', subject: `$JS.API.CONSUMER.DELETE.${LOG_STREAM}.${consumer}`, run: (p) => p.jsm.consumers.delete(LOG_STREAM, consumer) },
      {
        name: 're-create it as its reader does (name and filter in the subject)',
        subject: `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${consumer}.${nodeCommandFilter(A)}`,
        run: (p) => p.jsm.consumers.add(LOG_STREAM, { name: consumer, filter_subject: nodeCommandFilter(A), ack_policy: AckPolicy.None }),
      },
      {
        name: 're-create it as a push consumer delivering to its own inbox',
        subject: `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${consumer}`,
        run: (p) => p.jsm.consumers.add(LOG_STREAM, { name: consumer, deliver_subject: createInbox(), ack_policy: AckPolicy.None }),
      },
      {
        name: 're-create it headers-only through the legacy create, its name in the body',
        subject: legacyCreate,
        run: (p) => raw(p, legacyCreate, createBody({ name: consumer, filter_subject: nodeCommandFilter(A), headers_only: true })),
      },
      { name: 're-create it as a legacy durable', subject: durableCreate, run: (p) => raw(p, durableCreate, createBody({ durable_name: consumer, filter_subject: nodeCommandFilter(A) })) },
      { name: 'move its leader', subject: stepdown, run: (p) => raw(p, stepdown, '') },
    ];
    const thieves: readonly (readonly [string, () => Peer])[] = [
      ['the viewer', () => viewer],
      ['the fleet', () => fleet],
      ['the admin', () => admin],
      ['the apiserver', () => apiserver],
      ['the controller', () => controller],
    ];
    for (const [who, peer] of thieves) {
      for (const a of attacks) {
        it(`${who} cannot ${a.name} (${a.subject})`, async () => {
          await assertRefused(a.run(peer()), a.subject);
          assert.deepEqual(await consumerState(), made);
        });
      }
    }

    it("node-a's agent still reads its consumer and receives the next command (a PodDelete on s.5.cmd.node-a); the fleet's own command feed sees it too", async () => {
      const own = await agentA.jsm.consumers.info(LOG_STREAM, consumer);
      assert.deepEqual({ created: own.created, filter: own.config.filter_subject }, { created: made.created, filter: nodeCommandFilter(A) });
      const mark = seenByA.length;
      const fleetMark = fleet.violations.length;
      const fromSeq = (await admin.jsm.streams.info(LOG_STREAM)).state.last_seq + 1;
      // The fleet reads commands through an ordered consumer of its own, which the guard leaves alone.
      const seenByFleet: { node: string; seq: number }[] = [];
      const feed = await openCommandFeed({ nc: fleet.nc, fromSeq, hosts: (node) => node === A, onCommand: (node, env) => seenByFleet.push({ node, seq: env.seq }), log: pino({ level: 'silent' }) });
      try {
        const event = forNode(EVENT_SAMPLES.PodDelete, A);
        const seq = await written(commandSubject(SLOT, A), publishEvent(controller.js, { subject: commandSubject(SLOT, A), event }));
        await eventually(() => seenByA.length > mark && seenByFleet.length > 0, { message: 'the PodDelete delivered to agent A and to the fleet' });
        assert.deepEqual(
          seenByA.slice(mark).map((e) => ({ seq: e.seq, subject: e.subject, event: e.event })),
          [{ seq, subject: 's.5.cmd.node-a', event }],
        );
        assert.deepEqual(seenByFleet, [{ node: A, seq }]);
        assert.deepEqual((await consumerState()).created, made.created);
        assert.deepEqual(agentA.violations.slice(violationsMark), []);
        assert.deepEqual(fleet.violations.slice(fleetMark), []);
      } finally {
        await feed.stop();
      }
    });
  });

  describe('dsctl: a read the bus refuses is an error, not an empty list', () => {
    const dsctl = (id: Identity, args: readonly string[], input?: string): ReturnType<typeof runCli> =>
      runCli(args, { NATS_URL: nats.url, NATS_CREDS: credsPath(authDir, id), NATS_TLS_CA: undefined, NATS_TLS_CERT: undefined, NATS_TLS_KEY: undefined }, input);
    const refusedRead =
      "Error from server (Forbidden): the bus refused this read (replies on _INBOX.>): the credentials in use may not do it (a node agent's may read only its own commands); a viewer's or an admin's credentials may (dsctl auth list)\n";

    const reads: readonly (readonly string[])[] = [['get', 'ds', '-A'], ['get', 'nodes'], ['get', 'pods', '-A'], ['events', '-A'], ['get', 'shards']];
    for (const args of reads) {
      it(`dsctl ${args.join(' ')} with node-a's agent credentials exits 1: the bus refused the read`, async () => {
        const r = await dsctl({ role: 'agent', node: A }, args);
        assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 1, stdout: '', stderr: refusedRead });
      });
    }

    it("control: the viewer's credentials read the DaemonSet (dsctl get ds -n kube-system -o name)", async () => {
      const r = await dsctl({ role: 'viewer' }, ['get', 'ds', '-n', DS.namespace, '-o', 'name']);
      assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout: `daemonset.apps/${DS.name}\n`, stderr: '' });
    });

    it("the viewer's apply is a refused write, and names the subject", async () => {
      const was = (await admin.jsm.streams.info(LOG_STREAM)).state.last_seq;
      const r = await dsctl({ role: 'viewer' }, ['apply', '-f', '-'], FLUENTD_DAEMONSET_YAML);
      const subject = dsSubject(dsSlot('kube-system', 'fluentd-elasticsearch', DEFAULT_SLOTS), 'kube-system', 'fluentd-elasticsearch');
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 1, stdout: '', stderr: `Error from server (Forbidden): the bus refused this write (${subject}): the credentials in use may not do it; an admin's credentials may (dsctl auth list)\n` },
      );
      assert.equal((await admin.jsm.streams.info(LOG_STREAM)).state.last_seq, was);
    });
  });

  it('after every attack the log holds exactly the writes that were accepted, in order', async () => {
    const info = await admin.jsm.streams.info(LOG_STREAM);
    const onLog: { seq: number; subject: string }[] = [];
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await admin.jsm.streams.getMessage(LOG_STREAM, { seq });
      if (m !== null) onLog.push({ seq: m.seq, subject: m.subject });
    }
    assert.deepEqual(onLog, accepted);
  });
});
