// Hostile messages on the log against a real nats-server and the controller in this process:
// each is set aside in DS_DLQ with its reason, the controller stays live and keeps folding, and
// its state is what a fold of only the valid messages gives. Then: a URL's password never reaches
// dsctl's error output or connect()'s logs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { encodeEvent, encodeValue } from '../../libs/codec/codec.js';
import { evolve } from '../../libs/core/evolve.js';
import { initialState, type State } from '../../libs/core/state.js';
import type { AnyEvent } from '../../libs/events/types.js';
import { connectBus } from '../../libs/nats/connect.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { classifyReason, type RejectClass } from '../../libs/nats/reject-counters.js';
import {
  DEAD_LETTER_STREAM,
  HEADER_CONSUMER,
  HEADER_ORIGINAL_SEQ,
  HEADER_ORIGINAL_SUBJECT,
  HEADER_REASON,
  commandSubject,
  deadLetterSubject,
  dsSubject,
  lifeSubject,
  nodeSubject,
  nodeAdminSubject,
  podReportSubject,
} from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { applyManifests, parseManifests } from '../../services/cli/apply.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';

const silent = pino({ level: 'silent' });
const SLOTS = 8;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const manifest = (name: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: c, image: busybox } ] }
`;

function registered(node: string): AnyEvent {
  return { ...EVENT_SAMPLES.NodeRegistered, data: { ...EVENT_SAMPLES.NodeRegistered.data, node, labels: { 'kubernetes.io/hostname': node } } };
}

function labels(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`key-${i}`, 'v']));
}

interface Hostile {
  readonly name: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reason: RejectClass;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The battery. Every payload is published raw, as any client with access to the subject could. */
const HOSTILE: readonly Hostile[] = [
  { name: 'garbage bytes (JSON, not MessagePack)', subject: nodeSubject('n1'), data: text('{"type":"NodeReady","v":1,"data":{"node":"n1"}'), reason: 'not-msgpack' },
  { name: 'not an event envelope', subject: nodeSubject('n1'), data: encodeValue(['NodeReady', 1, { node: 'n1' }]), reason: 'not-event' },
  { name: 'an unknown type', subject: nodeSubject('n1'), data: encodeValue({ type: 'NodeExploded', v: 1, data: { node: 'n1' } }), reason: 'unknown-type' },
  { name: 'a field of the wrong type', subject: lifeSubject('n1'), data: encodeValue({ type: 'NodeReady', v: 1, data: { node: 42 } }), reason: 'invalid' },
  {
    name: 'an oversized label map (1,001 labels)',
    subject: nodeSubject('n1'),
    data: encodeValue({ type: 'NodeLabelsSet', v: 1, data: { node: 'n1', source: 'admin', labels: labels(1001) } }),
    reason: 'invalid',
  },
  {
    name: 'a forged author: n1 deregisters n2',
    subject: nodeSubject('n1'),
    data: encodeEvent({ type: 'NodeDeregistered', v: 1, data: { node: 'n2', incarnation: 'inc-1' } }),
    reason: 'wrong-author',
  },
  {
    name: 'a PodCreate for a node with an empty (unescapable) name',
    subject: commandSubject(1, 'n1'),
    data: encodeValue({ ...EVENT_SAMPLES.PodCreate, data: { ...EVENT_SAMPLES.PodCreate.data, slot: 1, node: '' } }),
    reason: 'invalid',
  },
  {
    name: 'a PodCreate for a node named by a lone surrogate (no UTF-8 form)',
    // What a hostile writer publishes: escapeToken itself refuses lone surrogates.
    subject: 's.1.cmd.%EF%BF%BD',
    data: encodeValue({ ...EVENT_SAMPLES.PodCreate, data: { ...EVENT_SAMPLES.PodCreate.data, slot: 1, node: '\ud800' } }),
    reason: 'wrong-author',
  },
  {
    name: 'a 900 KB payload',
    subject: podReportSubject(1, 'n1'),
    data: encodeValue({ type: 'PodNotReady', v: 1, data: { ...EVENT_SAMPLES.PodNotReady.data, node: 'n1', reason: 'r'.repeat(900_000) } }),
    reason: 'invalid',
  },
  { name: 'a v99 event', subject: lifeSubject('n1'), data: encodeValue({ type: 'NodeReady', v: 99, data: { node: 'n1' } }), reason: 'unsupported-version' },
  { name: 'a Heartbeat on the log', subject: nodeSubject('n1'), data: encodeEvent({ type: 'Heartbeat', v: 1, data: { node: 'n1', incarnation: 'inc-1', sentMs: 1 } }), reason: 'wrong-stream' },
  { name: 'a subject token that does not unescape', subject: 'g.life.%ZZ', data: encodeEvent({ type: 'NodeReady', v: 1, data: { node: '%ZZ' } }), reason: 'wrong-author' },
  {
    name: "an agent uncordons itself (NodeUnschedulableSet on its own ev.node subject, not the admins' ev.nodeadm)",
    subject: nodeSubject('n1'),
    data: encodeEvent({ type: 'NodeUnschedulableSet', v: 1, data: { node: 'n1', unschedulable: false } }),
    reason: 'wrong-subject',
  },
  {
    name: "an agent clears an admin's taints (NodeTaintsSet with source admin on its own ev.node subject)",
    subject: nodeSubject('n1'),
    data: encodeEvent({ type: 'NodeTaintsSet', v: 1, data: { node: 'n1', source: 'admin', taints: [] } }),
    reason: 'wrong-subject',
  },
  {
    name: 'an agent sends itself a command (PodCreate on its own pod-report subject)',
    subject: podReportSubject(1, 'n1'),
    data: encodeValue({ ...EVENT_SAMPLES.PodCreate, data: { ...EVENT_SAMPLES.PodCreate.data, slot: 1, node: 'n1' } }),
    reason: 'wrong-subject',
  },
  {
    name: 'a DaemonSet whose rolling-update budget is not an int or percent',
    subject: dsSubject(dsSlot('default', 'evil', SLOTS), 'default', 'evil'),
    data: encodeValue({
      type: 'DaemonSetApplied',
      v: 1,
      data: {
        ...EVENT_SAMPLES.DaemonSetApplied.data,
        namespace: 'default',
        name: 'evil',
        spec: { ...EVENT_SAMPLES.DaemonSetApplied.data.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: [[1]], maxSurge: 0 } } },
      },
    }),
    reason: 'invalid',
  },
];

/** The state a fold of the log up to `untilSeq` gives, skipping `skip` (and recording what the reader refused). */
async function foldLog(nc: NatsConnection, untilSeq: number, skip: ReadonlySet<number>, refused: Set<number>): Promise<State> {
  const state = initialState();
  const reader = await openLogReader({
    nc,
    untilSeq,
    onEnvelope: (env) => {
      if (!skip.has(env.seq)) evolve(state, env, { slots: SLOTS });
    },
    onInvalid: (msg) => refused.add(msg.seq),
  });
  await reader.done;
  return state;
}

describe('hostile input on the log (real nats-server, controller in process)', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let controller: ControllerHandle;
  const hostileSeqs = new Map<number, Hostile>();

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    js = jetstream(nc);
    controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'hostile-it', SLOTS: String(SLOTS) }), silent);
    // Valid history first: two nodes and a DaemonSet.
    for (const node of ['n1', 'n2']) await publishEvent(js, { subject: nodeSubject(node), event: registered(node) });
    await applyManifests(nc, await parseManifests(manifest('web'), 'test'));
    for (const h of HOSTILE) hostileSeqs.set((await js.publish(h.subject, h.data)).seq, h);
  });

  after(async () => {
    await controller?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('sets every hostile message aside in DS_DLQ with a reason of the expected class', async () => {
    const jsm = await jetstreamManager(nc);
    const seen = await eventually(
      async () => {
        const info = await jsm.streams.info(DEAD_LETTER_STREAM);
        assert.equal(info.state.messages, HOSTILE.length);
        const out = new Map<number, { subject: string; consumer: string; reason: string; data: Uint8Array }>();
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const m = await jsm.streams.getMessage(DEAD_LETTER_STREAM, { seq });
          assert.ok(m);
          // The copy's subject names its reject class, the same class its reason has.
          assert.equal(m.subject, deadLetterSubject('controller', classifyReason(m.header.get(HEADER_REASON))));
          out.set(Number(m.header.get(HEADER_ORIGINAL_SEQ)), {
            subject: m.header.get(HEADER_ORIGINAL_SUBJECT),
            consumer: m.header.get(HEADER_CONSUMER),
            reason: m.header.get(HEADER_REASON),
            data: m.data,
          });
        }
        return out;
      },
      { message: 'every hostile message in DS_DLQ' },
    );
    assert.deepEqual([...seen.keys()].sort((a, b) => a - b), [...hostileSeqs.keys()].sort((a, b) => a - b));
    for (const [seq, h] of hostileSeqs) {
      const dl = seen.get(seq)!;
      assert.equal(dl.subject, h.subject, h.name);
      assert.equal(dl.consumer, 'controller', h.name);
      assert.ok(dl.reason.length > 0, h.name);
      assert.equal(classifyReason(dl.reason), h.reason, `${h.name}: ${dl.reason.slice(0, 200)}`);
      assert.deepEqual(Uint8Array.from(dl.data), Uint8Array.from(h.data), `${h.name}: the copy is the message unchanged`);
    }
  });

  it('stays live and keeps folding valid events published after them', async () => {
    assert.equal(controller.lifecycle.phase, 'live');
    await publishEvent(js, { subject: nodeAdminSubject('n1'), event: { type: 'NodeLabelsSet', v: 1, data: { node: 'n1', source: 'admin', labels: { zone: 'b' } } } });
    await applyManifests(nc, await parseManifests(manifest('after'), 'test'));
    await eventually(() => {
      assert.equal(controller.state.nodes.get('n1')?.labels['zone'], 'b');
      assert.ok(controller.state.daemonSets.has('default/after'));
    });
    assert.ok(controller.state.nodes.has('n2'), 'the forged deregistration of n2 was not folded');
    assert.equal(controller.state.daemonSets.has('default/evil'), false);
    assert.equal(controller.lifecycle.phase, 'live');
  });

  it('has the state a fold of only the valid messages gives', async () => {
    const jsm = await jetstreamManager(nc);
    const skip = new Set(hostileSeqs.keys());
    await eventually(
      async () => {
        const last = (await jsm.streams.info('DS_LOG')).state.last_seq;
        assert.equal(controller.state.seq, last, 'the controller has folded the whole log');
        const refused = new Set<number>();
        const expected = await foldLog(nc, last, skip, refused);
        assert.deepEqual([...refused].sort((a, b) => a - b), [...skip].sort((a, b) => a - b), 'the reader refuses exactly the hostile messages');
        // The controller reads its slots and the global facts apart (inOrder: false), so it knows the
        // global facts complete only up to the last global message; everything else is the same.
        const { globalThrough: _c, ...live } = controller.state;
        const { globalThrough: _e, ...folded } = expected;
        assert.deepStrictEqual(live, folded);
      },
      { timeoutMs: 15_000, message: 'the controller state equals a fold of the valid messages' },
    );
  });
});

describe('secrets stay secret', () => {
  const SECRET = 'hunter2-secret';

  it("dsctl's error for an unreachable server with credentials in the URL does not print the password", async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'dsctl.js'), 'get', 'ds', '--server', `nats://admin:${SECRET}@127.0.0.1:1`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NATS_URL: '' },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(out, /^cannot reach NATS at nats:\/\/admin:\*\*\*@127\.0\.0\.1:1: /);
    assert.equal(out.includes(SECRET), false, out);
  });

  it("connect()'s logs and its error never include the password (refused, then connected)", async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (s: string) => lines.push(s) });
    const err = await connectBus({ url: `nats://admin:${SECRET}@127.0.0.1:1`, name: 'secret-test', once: true, log }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    log.error({ err }, 'connect failed');
    const nats = await startNats({ jetstream: false });
    try {
      if (nats.kind === 'env') return; // a shared server may require real credentials
      const port = new URL(nats.url).port;
      // A server without authorization accepts (and ignores) credentials.
      const nc = await connectBus({ url: `nats://admin:${SECRET}@127.0.0.1:${port}`, name: 'secret-test', log });
      await nc.close();
    } finally {
      await nats.stop();
    }
    const all = lines.join('');
    assert.ok(all.includes('connected to NATS'), all);
    assert.ok(all.includes('admin:***@127.0.0.1:1'), all);
    assert.equal(all.includes(SECRET), false, all);
  });
});
