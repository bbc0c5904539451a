// Property-based fuzzing of the event input path: MessagePack bytes → decodeEvent → the log
// reader's decodeLogMessage (authorship against the subject) → the fold. Seeded (FUZZ_SEEDS), so
// a failure names its seed and index and reproduces.
//
// Properties, for every input:
// - decoding never throws; it returns a valid event or `ok: false` with a non-empty reason;
// - a reason is at most MAX_REASON characters and holds no raw control or line-separator
//   character (reasons travel in a NATS header of the dead-letter copy);
// - a valid event re-encodes and decodes to a deep-equal value;
// - every name a valid event carries escapes into one subject token that unescapes to it;
// - decodeLogMessage accepts exactly the valid, non-Heartbeat events read from their own subject;
// - folding an accepted event and reconciling every DaemonSet does not throw;
// - nothing reaches Object.prototype.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { JsMsg } from '@nats-io/jetstream';

import { decodeEvent, encodeEvent, encodeValue } from '../../libs/codec/mod.js';
import type { DecodeResult } from '../../libs/codec/mod.js';
import { evolve } from '../../libs/core/evolve.js';
import { reconcile } from '../../libs/core/reconcile.js';
import { initialState, type State } from '../../libs/core/state.js';
import { EVENT_TYPES, eventNode, validateEvent } from '../../libs/events/mod.js';
import type { AnyEvent, LogEvent } from '../../libs/events/mod.js';
import { decodeLogMessage } from '../../libs/nats/log-reader.js';
import { classifyReason, createRejectCounters, type RejectClass } from '../../libs/nats/reject-counters.js';
import { escapeToken, unescapeToken } from '../../libs/topology/escape.js';
import {
  clockSubject,
  commandSubject,
  dsStatusSubject,
  dsSubject,
  heartbeatSubject,
  lifeSubject,
  namespaceSubject,
  nodeSubject,
  nodeAdminSubject,
  podReportSubject,
  podRequestSubject,
  shardSubject,
} from '../../libs/topology/names.js';
import { FUZZ_SEEDS, chance, intBelow, mulberry32, mutate, pick, randomBytes, randomJson, randomName, type Rng } from '../support/arbitrary.js';
import { EVENT_SAMPLES, EVENT_SAMPLE_LIST } from '../support/event-samples.js';

/** Inputs per seed; 5 seeds make 20,000 payloads (plus 5,000 raw byte strings, 5,000 byte flips). */
const PAYLOADS_PER_SEED = 4000;
const BYTES_PER_SEED = 1000;
const MAX_REASON = 512;
const SLOTS = 8;
/** Raw C0/C1 controls, DEL, and the line/paragraph separators: nothing a header should carry raw. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const SUBJECT_TOKEN = /^[A-Za-z0-9_%-]+$/;

const counts = { payloads: 0, rawBytes: 0, flips: 0, accepted: 0, logAccepted: 0, folded: 0, unencodable: 0, bomNames: 0, specs: 0 };
const reasonClasses = new Map<string, number>();
after(() => {
  const classes = [...reasonClasses].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => `${c}=${n}`).join(' ');
  process.stdout.write(`# fuzz-events: ${JSON.stringify(counts)} reasons: ${classes}\n`);
});

/** The subject the event's author writes it to (topology builders), as the log reader sees it. */
function ownSubject(e: AnyEvent): string {
  switch (e.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
      return dsSubject(e.data.namespace.length % SLOTS, e.data.namespace, e.data.name);
    case 'DaemonSetStatusUpdated':
      return dsStatusSubject(0, e.data.namespace, e.data.name);
    case 'NamespaceCreated':
    case 'NamespaceDeleted':
      return namespaceSubject(e.data.name);
    case 'NodeRegistered':
    case 'NodeDeregistered':
      return nodeSubject(e.data.node);
    case 'NodeLabelsSet':
    case 'NodeTaintsSet':
      return e.data.source === 'agent' ? nodeSubject(e.data.node) : nodeAdminSubject(e.data.node);
    case 'NodeUnschedulableSet':
      return nodeAdminSubject(e.data.node);
    case 'NodeReady':
    case 'NodeNotReady':
      return lifeSubject(e.data.node);
    case 'PodCreate':
    case 'PodDelete':
      return commandSubject(e.data.slot % SLOTS, e.data.node);
    case 'PodStarted':
    case 'PodReady':
    case 'PodNotReady':
    case 'PodFailed':
    case 'PodSucceeded':
    case 'PodDeleted':
    case 'CommandRejected':
      return podReportSubject(3, e.data.node);
    case 'PodDeleteRequested':
      return podRequestSubject(3, e.data.node);
    case 'ClockTicked':
      return clockSubject(e.data.slot % SLOTS);
    case 'ShardAcquired':
      return shardSubject(e.data.slot % SLOTS);
    case 'Heartbeat':
      return heartbeatSubject(e.data.node);
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** Subjects that name no readable node or the wrong shape of one. */
const GARBAGE_SUBJECTS: readonly string[] = ['g.node.%ZZ', 'g.node.%C3', 'g.node', 's.1.pod', 's.1.cmd', 's.1.pod.a.b', 'hb', 'g.node.a.b', 's.x.cmd.%2', 'ev.node.a', 'cmd.1.a'];

/** A JetStream message as decodeLogMessage reads it (data, subject, seq, stream time): no bus here. */
function logMessage(data: Uint8Array, subject: string, seq: number): JsMsg {
  return { data, subject, seq, timestampNanos: 1_767_323_045_000_000_000n } as unknown as JsMsg;
}

function assertReason(reason: string, label: string): void {
  assert.equal(typeof reason, 'string', label);
  assert.ok(reason.length > 0, `${label}: empty reason`);
  assert.ok(reason.length <= MAX_REASON, `${label}: reason of ${reason.length} characters: ${reason.slice(0, 120)}`);
  assert.ok(!CONTROL.test(reason), `${label}: raw control character in reason ${JSON.stringify(reason)}`);
  const cls = classifyReason(reason);
  assert.notEqual(cls, 'other', `${label}: unclassified reason ${JSON.stringify(reason)}`);
  reasonClasses.set(cls, (reasonClasses.get(cls) ?? 0) + 1);
}

/** The names a valid event carries that end up in subject tokens or keys. */
function namesOf(e: AnyEvent): string[] {
  const d = e.data as Readonly<Record<string, unknown>>;
  const names: string[] = [];
  for (const k of ['node', 'namespace', 'name', 'podName', 'owner']) if (typeof d[k] === 'string' && d[k] !== '') names.push(d[k]);
  if (e.type === 'PodCreate') names.push(e.data.ds.namespace, e.data.ds.name, e.data.pod.name, e.data.pod.namespace);
  return names;
}

/** Names with a leading U+FEFF must round-trip too (a dropped BOM allowed authorship forgery). */
const LEADING_BOM = '\ufeff';

function assertEscapes(name: string, label: string): void {
  if (name.startsWith(LEADING_BOM)) {
    counts.bomNames++;
    assert.equal(unescapeToken(escapeToken(name)), name, `${label}: a leading BOM survives the subject token`);
    return;
  }
  const token = escapeToken(name);
  assert.match(token, SUBJECT_TOKEN, `${label}: ${JSON.stringify(name)} escaped to ${JSON.stringify(token)}`);
  assert.equal(unescapeToken(token), name, `${label}: ${JSON.stringify(name)} does not round-trip`);
}

const BASE_LOG: readonly LogEvent[] = EVENT_SAMPLE_LIST.filter((e): e is LogEvent => e.type !== 'Heartbeat');

/** The samples folded: a DaemonSet, a node, a pod, so hostile events meet real records. */
function baseState(): State {
  const state = initialState();
  BASE_LOG.forEach((event, i) => evolve(state, { seq: i + 1, subject: ownSubject(event), timeMs: 1_767_323_045_000 + i, event }, { slots: SLOTS }));
  return state;
}

function assertFolds(event: LogEvent, label: string): void {
  const state = baseState();
  assert.doesNotThrow(() => {
    evolve(state, { seq: BASE_LOG.length + 1, subject: ownSubject(event), timeMs: 1_767_323_046_000, event }, { slots: SLOTS });
    for (const key of state.daemonSets.keys()) reconcile(state, key, { nowMs: state.lastTimeMs, epoch: 9 });
  }, label);
  counts.folded++;
}

/** Runs one payload through both decoders and checks every property; returns the decode result. */
function check(bytes: Uint8Array, rng: Rng, label: string): DecodeResult {
  let r: DecodeResult | undefined;
  assert.doesNotThrow(() => {
    r = decodeEvent(bytes);
  }, label);
  assert.ok(r !== undefined);
  if (!r.ok) {
    assertReason(r.reason, label);
    const subject = chance(rng, 0.5) ? pick(rng, GARBAGE_SUBJECTS) : nodeSubject(pick(rng, ['n1', 'a.b', 'ü']));
    // The same reason class, not always the same text: msgpackr's message for the same bad
    // bytes can differ on a second read of the same buffer (its string cache).
    const l = decodeLogMessage(logMessage(bytes, subject, 7));
    assert.equal(l.ok, false, label);
    if (!l.ok) {
      assertReason(l.reason, `${label} on ${subject}`);
      assert.equal(classifyReason(l.reason), classifyReason(r.reason), label);
    }
    return r;
  }
  counts.accepted++;
  const event = r.event;
  assert.equal(validateEvent(event).ok, true, label);
  assert.deepEqual(decodeEvent(encodeEvent(event)), { ok: true, event }, `${label}: re-encoding changed the event`);
  for (const name of namesOf(event)) assertEscapes(name, label);

  // The log reader: own subject, another node's, or a garbage one.
  const own = ownSubject(event);
  const node = eventNode(event);
  if (node !== undefined && node.startsWith(LEADING_BOM) && unescapeToken(escapeToken(node)) !== node) return r;
  const roll = rng();
  const subject = roll < 0.6 ? own : roll < 0.85 ? nodeSubject(node === 'other-node' ? 'another-node' : 'other-node') : pick(rng, GARBAGE_SUBJECTS);
  const l = decodeLogMessage(logMessage(bytes, subject, 7));
  if (!l.ok) assertReason(l.reason, `${label} on ${subject}`);
  if (event.type === 'Heartbeat') {
    assert.equal(l.ok, false, `${label}: a Heartbeat was accepted on the log`);
    return r;
  }
  if (subject === own) {
    assert.ok(l.ok, `${label}: refused on its own subject ${own}: ${l.ok ? '' : l.reason}`);
    assert.deepEqual(l.env, { seq: 7, subject, timeMs: 1_767_323_045_000, event }, label);
    counts.logAccepted++;
    assertFolds(event, label);
  } else if (node !== undefined) {
    assert.equal(l.ok, false, `${label}: ${event.type} about ${JSON.stringify(node)} accepted on ${subject}`);
    // In its own subject family but about another node (authorship), or in another family.
    assert.equal(!l.ok && classifyReason(l.reason), familyOfSubject(subject) === familyOfSubject(own) ? 'wrong-author' : 'wrong-subject', label);
  } else if (subject.startsWith('g.node.') && subject.split('.').length === 3 && !subject.includes('%')) {
    assert.equal(l.ok, false, `${label}: ${event.type} accepted on a node's subject ${subject}`);
  }
  return r;
}

/** `s.<slot>.<family>.…`, `g.<family>.…` → family; `hb.…` → hb. */
function familyOfSubject(subject: string): string {
  const [first, second, third] = subject.split('.');
  return first === 's' ? (third ?? '') : first === 'g' ? (second ?? '') : (first ?? '');
}

function encodeOrUndefined(value: unknown): Uint8Array | undefined {
  try {
    return encodeValue(value);
  } catch {
    // MessagePack cannot hold it (a BigInt beyond 64 bits): no writer can send it either.
    counts.unencodable++;
    return undefined;
  }
}

/** One payload: a mutated sample, a random envelope of a known type, or random JSON. */
function randomPayload(rng: Rng): { value: unknown; what: string } {
  const r = rng();
  if (r < 0.7) {
    const sample = pick(rng, EVENT_SAMPLE_LIST);
    let m = mutate(rng, sample);
    // Sometimes two mutations, so a refusal is not always the first field checked.
    if (chance(rng, 0.2)) m = mutate(rng, m.value);
    return { value: m.value, what: `${sample.type} ${m.kind} at ${m.path}` };
  }
  if (r < 0.9) {
    const type = chance(rng, 0.9) ? pick(rng, EVENT_TYPES) : randomName(rng);
    const v = chance(rng, 0.8) ? pick(rng, [0, 1, 1, 2, 99]) : randomJson(rng, 1);
    return { value: { type, v, data: randomJson(rng, 3) }, what: `random ${type} envelope` };
  }
  return { value: randomJson(rng, 5), what: 'random value' };
}

describe('fuzz: event payloads (decodeEvent, decodeLogMessage, fold)', () => {
  it('every valid sample passes all properties on its own subject', () => {
    // A constant "random" source below 0.6: check() reads each sample from its own subject.
    for (const sample of EVENT_SAMPLE_LIST) {
      const r = check(encodeEvent(sample), () => 0.1, `sample ${sample.type}`);
      assert.deepEqual(r, { ok: true, event: sample });
    }
  });

  for (const seed of FUZZ_SEEDS) {
    it(`${PAYLOADS_PER_SEED} mutated and random payloads (seed ${seed})`, () => {
      const rng = mulberry32(seed);
      for (let i = 0; i < PAYLOADS_PER_SEED; i++) {
        const { value, what } = randomPayload(rng);
        const bytes = encodeOrUndefined(value);
        counts.payloads++;
        if (bytes !== undefined) check(bytes, rng, `seed ${seed} #${i} (${what})`);
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted');
    });

    it(`${BYTES_PER_SEED} random byte strings and ${BYTES_PER_SEED} byte flips of samples (seed ${seed})`, () => {
      const rng = mulberry32(seed ^ 0xb17e5);
      for (let i = 0; i < BYTES_PER_SEED; i++) {
        const bytes = randomBytes(rng, intBelow(rng, 128));
        // Half start as a map of three entries, to get past the first byte.
        if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0x83;
        counts.rawBytes++;
        check(bytes, rng, `seed ${seed} bytes #${i}`);
      }
      for (let i = 0; i < BYTES_PER_SEED; i++) {
        const bytes = Uint8Array.from(encodeEvent(pick(rng, EVENT_SAMPLE_LIST)));
        const flips = 1 + intBelow(rng, 4);
        for (let f = 0; f < flips; f++) bytes[intBelow(rng, bytes.length)] = intBelow(rng, 256);
        counts.flips++;
        check(bytes, rng, `seed ${seed} flip #${i}`);
      }
    });
  }
});

describe('fuzz: hostile specs reach the fold only when the core can use them', () => {
  const SPEC_MUTATIONS_PER_SEED = 1000;
  for (const seed of FUZZ_SEEDS) {
    it(`${SPEC_MUTATIONS_PER_SEED} mutated DaemonSetApplied and PodCreate events (seed ${seed})`, () => {
      const rng = mulberry32(seed ^ 0x5bec);
      for (let i = 0; i < SPEC_MUTATIONS_PER_SEED; i++) {
        const sample = i % 4 === 3 ? EVENT_SAMPLES.PodCreate : EVENT_SAMPLES.DaemonSetApplied;
        let m = mutate(rng, sample);
        if (chance(rng, 0.3)) m = mutate(rng, m.value);
        const bytes = encodeOrUndefined(m.value);
        counts.specs++;
        if (bytes !== undefined) check(bytes, () => 0.1, `seed ${seed} spec #${i} (${sample.type} ${m.kind} at ${m.path})`);
      }
    });
  }
});

describe('fuzz: hostile identities in events', () => {
  const names = [
    'a.b',
    'ip-10-0-0-1.ec2.internal',
    '*',
    '>',
    'a b',
    '%',
    '%2E',
    'ü',
    '日本語',
    '😀',
    '\u0000',
    '\u007f',
    '\u2028',
    'x'.repeat(253),
    '👩‍👩‍👧'.repeat(30),
  ];
  for (const name of names) {
    it(`a node named ${JSON.stringify(name).slice(0, 40)} is one subject token that round-trips, and only its own subject accepts its events`, () => {
      const event: AnyEvent = { type: 'NodeReady', v: 1, data: { node: name } };
      assert.deepEqual(validateEvent(event), { ok: true, event });
      assertEscapes(name, name);
      const bytes = encodeEvent(event);
      assert.equal(decodeLogMessage(logMessage(bytes, lifeSubject(name), 1)).ok, true);
      const forged = decodeLogMessage(logMessage(bytes, lifeSubject(`${name}x`), 1));
      assert.equal(forged.ok, false);
      assert.equal(!forged.ok && classifyReason(forged.reason), 'wrong-author');
    });
  }

  it('a name that is not well-formed UTF-16 (a lone surrogate) is refused: it has no subject token', () => {
    // Found by the fuzzer: escapeToken maps every lone surrogate to U+FFFD, so "\ud800" and
    // "\udc00" would share a subject token (and neither round-trips).
    for (const name of ['\ud800', 'a\udc00', 'x\ud83d']) {
      assert.deepEqual(validateEvent({ type: 'NodeReady', v: 1, data: { node: name } }), {
        ok: false,
        reason: 'NodeReady v1: data.node: must be well-formed Unicode (no lone surrogates)',
      });
    }
  });

  it(
    'a node name with a leading U+FEFF cannot speak for the node without it',
    () => {
      // An agent allowed to publish on g.node.%EF%BB%BFnode-1 (its own node "\ufeffnode-1")
      // must not be able to deregister node-1.
      const forged: AnyEvent = { type: 'NodeDeregistered', v: 1, data: { node: 'node-1', incarnation: 'i' } };
      const subject = nodeSubject('\ufeffnode-1');
      assert.equal(subject, 'g.node.%EF%BB%BFnode-1');
      assert.equal(decodeLogMessage(logMessage(encodeEvent(forged), subject, 1)).ok, false);
    },
  );

  it(
    'a refusal for a subject with control characters quotes the subject escaped',
    () => {
      const event: AnyEvent = { type: 'NodeReady', v: 1, data: { node: 'n1' } };
      const r = decodeLogMessage(logMessage(encodeEvent(event), 'g.life.n\u0001\u007f', 1));
      assert.equal(r.ok, false);
      assert.ok(!r.ok && !CONTROL.test(r.reason), !r.ok ? JSON.stringify(r.reason) : '');
    },
  );

  it('a reason quotes hostile text with every control character escaped', () => {
    const r = validateEvent({ type: 'Node\u007f\u0085\u2028\u001b[31m', v: 1, data: {} });
    assert.deepEqual(r, { ok: false, reason: 'event.type: unknown event type "Node\\u007f\\u0085\\u2028\\u001b[31m"' });
  });
});

describe('reject counters', () => {
  const table: readonly { readonly reason: string; readonly cls: RejectClass }[] = [
    { reason: 'not MessagePack: Unexpected end of MessagePack data', cls: 'not-msgpack' },
    { reason: 'event: expected object', cls: 'not-event' },
    { reason: 'event.type: expected string', cls: 'not-event' },
    { reason: 'event.v: expected integer', cls: 'not-event' },
    { reason: 'event.data: expected object', cls: 'not-event' },
    { reason: 'event.type: unknown event type "NodeExploded"', cls: 'unknown-type' },
    { reason: 'PodReady: unsupported version 3 (current: 1)', cls: 'unsupported-version' },
    { reason: 'PodCreate v1: data.pod.name: expected string', cls: 'invalid' },
    { reason: 'NodeLabelsSet v1: data.labels: more than 1000 entries', cls: 'invalid' },
    { reason: 'NodeDeregistered on g.node.n1 names another node than its subject', cls: 'wrong-author' },
    { reason: 'NodeUnschedulableSet on "g.node.n1": it belongs on g.nodeadm.…', cls: 'wrong-subject' },
    { reason: 'NodeTaintsSet (source admin) on "g.node.n1": it belongs on g.nodeadm.…', cls: 'wrong-subject' },
    { reason: 'PodCreate on "s.3.pod.n1": it belongs on s.<slot>.cmd.…', cls: 'wrong-subject' },
    { reason: 'Heartbeat does not belong on the log', cls: 'wrong-stream' },
    { reason: 'something new', cls: 'other' },
    { reason: '', cls: 'other' },
  ];
  for (const { reason, cls } of table) {
    it(`classifies ${JSON.stringify(reason)} as ${cls}`, () => {
      assert.equal(classifyReason(reason), cls);
    });
  }

  it('counts by class, not by reason text, and leaves unseen classes out of the snapshot', () => {
    const counters = createRejectCounters();
    assert.deepEqual(counters.snapshot(), {});
    assert.equal(counters.total(), 0);
    assert.equal(counters.count('not MessagePack: a'), 'not-msgpack');
    counters.count('not MessagePack: b');
    counters.count('PodCreate v1: data.node: must not be empty');
    counters.count('NodeReady on g.life.x names another node than its subject');
    assert.deepEqual(counters.snapshot(), { 'not-msgpack': 2, invalid: 1, 'wrong-author': 1 });
    assert.equal(counters.total(), 4);
  });
});
