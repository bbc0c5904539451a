// The pure old -> new subject mapping of dsctl migrate-log (libs/topology/legacy-layout.ts): every
// family the old builders wrote maps to what the current builders write for the same names, and
// anything else is refused with its reason.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CARRIED_NATS_HEADERS,
  HEADER_HELD_SEQ,
  heldHeaders,
  heldSubject,
  legacyToCurrentSubject,
  logLayoutOf,
  MIGRATION_DONE_SUBJECT,
  MIGRATION_FILLER_SUBJECT,
  MIGRATION_META_SUBJECT,
  oldSubjectOfHeld,
  parseTimeHeader,
  restoredHeaders,
} from '../../libs/topology/legacy-layout.js';
import { escapeToken } from '../../libs/topology/escape.js';
import { classifyBusError } from '../../libs/nats/bus-errors.js';
import { LegacyLogLayoutError, LogMigrationInProgressError } from '../../libs/nats/topology-errors.js';
import {
  clockSubject,
  commandSubject,
  dsStatusSubject,
  dsSubject,
  GLOBAL_FILTER,
  lifeSubject,
  namespaceSubject,
  nodeAdminSubject,
  nodeSubject,
  podReportSubject,
  podRequestSubject,
  shardSubject,
  subjectFamilyOf,
  subjectSlot,
} from '../../libs/topology/names.js';

// The builders of the old layout, as libs/topology/names.ts had them at 6bd95a6.
const old = {
  ds: (slot: number, ns: string, name: string) => `ev.ds.${slot}.${escapeToken(ns)}.${escapeToken(name)}`,
  dss: (slot: number, ns: string, name: string) => `ev.dss.${slot}.${escapeToken(ns)}.${escapeToken(name)}`,
  node: (node: string) => `ev.node.${escapeToken(node)}`,
  nodeadm: (node: string) => `ev.nodeadm.${escapeToken(node)}`,
  ns: (name: string) => `ev.ns.${escapeToken(name)}`,
  life: (node: string) => `ev.life.${escapeToken(node)}`,
  cmd: (slot: number, node: string) => `cmd.${slot}.${escapeToken(node)}`,
  pod: (slot: number, node: string) => `ev.pod.${slot}.${escapeToken(node)}`,
  podreq: (slot: number, node: string) => `ev.podreq.${slot}.${escapeToken(node)}`,
  clock: (slot: number) => `ev.clock.${slot}`,
  shard: (slot: number) => `ev.shard.${slot}`,
};

/** Names that need escaping as well as plain ones: dots, unicode, a leading BOM, percent signs. */
const NAMES = ['node-1', 'ip-10-0-0-1.ec2.internal', 'kube-system', 'node-exporter.v1', 'ünïcödé', '\uFEFFnode-1', '100%', 'a_b', 'A', '0'];
const SLOTS = [0, 1, 9, 63, 1023];

function mapped(subject: string): string {
  const r = legacyToCurrentSubject(subject);
  assert.ok(r.ok, `${subject}: ${r.ok ? '' : r.reason}`);
  return r.subject;
}

describe('legacyToCurrentSubject: every family of the old layout', () => {
  it('the table of the migration, literally', () => {
    const table: [string, string][] = [
      ['ev.ds.9.kube-system.fluentd-elasticsearch', 's.9.ds.kube-system.fluentd-elasticsearch'],
      ['ev.dss.13.monitoring.node-exporter%2Ev1', 's.13.dss.monitoring.node-exporter%2Ev1'],
      ['cmd.9.node-1', 's.9.cmd.node-1'],
      ['ev.pod.9.node-2', 's.9.pod.node-2'],
      ['ev.podreq.9.node-2', 's.9.podreq.node-2'],
      ['ev.clock.4', 's.4.clock'],
      ['ev.shard.15', 's.15.shard'],
      ['ev.node.node-1', 'g.node.node-1'],
      ['ev.nodeadm.node-2', 'g.nodeadm.node-2'],
      ['ev.life.ip-10-0-0-1%2Eec2%2Einternal', 'g.life.ip-10-0-0-1%2Eec2%2Einternal'],
      ['ev.ns.logging', 'g.ns.logging'],
    ];
    for (const [from, to] of table) assert.equal(mapped(from), to, from);
  });

  for (const slot of SLOTS) {
    it(`slot families at slot ${slot} map to what the current builders write for the same names`, () => {
      for (const a of NAMES) {
        for (const b of NAMES) {
          assert.equal(mapped(old.ds(slot, a, b)), dsSubject(slot, a, b));
          assert.equal(mapped(old.dss(slot, a, b)), dsStatusSubject(slot, a, b));
        }
        assert.equal(mapped(old.cmd(slot, a)), commandSubject(slot, a));
        assert.equal(mapped(old.pod(slot, a)), podReportSubject(slot, a));
        assert.equal(mapped(old.podreq(slot, a)), podRequestSubject(slot, a));
      }
      assert.equal(mapped(old.clock(slot)), clockSubject(slot));
      assert.equal(mapped(old.shard(slot)), shardSubject(slot));
    });
  }

  it('global families map to what the current builders write for the same names', () => {
    for (const n of NAMES) {
      assert.equal(mapped(old.node(n)), nodeSubject(n));
      assert.equal(mapped(old.nodeadm(n)), nodeAdminSubject(n));
      assert.equal(mapped(old.life(n)), lifeSubject(n));
      assert.equal(mapped(old.ns(n)), namespaceSubject(n));
    }
  });

  it('a mapped subject keeps its family and slot as the current layout reads them', () => {
    const cases: [string, string, number | undefined][] = [
      [old.ds(7, 'ns', 'x'), 'ds', 7],
      [old.dss(7, 'ns', 'x'), 'dss', 7],
      [old.cmd(7, 'n'), 'cmd', 7],
      [old.pod(7, 'n'), 'pod', 7],
      [old.podreq(7, 'n'), 'podreq', 7],
      [old.clock(7), 'clock', 7],
      [old.shard(7), 'shard', 7],
      [old.node('n'), 'node', undefined],
      [old.nodeadm('n'), 'nodeadm', undefined],
      [old.life('n'), 'life', undefined],
      [old.ns('n'), 'ns', undefined],
    ];
    for (const [subject, family, slot] of cases) {
      const to = mapped(subject);
      assert.equal(subjectFamilyOf(to), family, subject);
      assert.equal(subjectSlot(to), slot, subject);
    }
  });
});

describe('legacyToCurrentSubject: refusals, each with its reason', () => {
  const refusals: [string, RegExp][] = [
    ['hb.node-1', /not a subject of the old log/],
    ['dlq.controller.not-msgpack', /not a subject of the old log/],
    ['s.9.ds.kube-system.x', /already in the new layout/],
    ['g.node.node-1', /already in the new layout/],
    ['ev', /no family after ev\./],
    ['ev.', /no family after ev\./],
    ['ev.foo.1', /unknown family "foo"/],
    ['ev.cmd.1.node-1', /unknown family "cmd"/],
    ['ev.ds.9.kube-system', /ds subjects have the form ev\.ds\.<slot>\.<ns>\.<name>/],
    ['ev.ds.9.a.b.c', /ds subjects have the form/],
    ['ev.dss.9', /dss subjects have the form/],
    ['ev.pod.9', /pod subjects have the form ev\.pod\.<slot>\.<node>/],
    ['ev.podreq.9.a.b', /podreq subjects have the form/],
    ['ev.clock', /clock subjects have the form ev\.clock\.<slot>$/],
    ['ev.clock.1.x', /clock subjects have the form/],
    ['ev.shard.1.x', /shard subjects have the form/],
    ['cmd.1', /cmd subjects have the form cmd\.<slot>\.<node>/],
    ['cmd.1.a.b', /cmd subjects have the form/],
    ['ev.node', /node subjects have the form ev\.node\.<node>/],
    ['ev.node.a.b', /node subjects have the form/],
    ['ev.ns.a.b', /ns subjects have the form ev\.ns\.<name>/],
    ['ev.shard.x', /slot "x" is not a slot number/],
    ['ev.shard.01', /slot "01" is not a slot number/],
    ['ev.shard.-1', /slot "-1" is not a slot number/],
    ['ev.shard.1e3', /slot "1e3" is not a slot number/],
    ['ev.shard.12345678901', /is not a slot number/],
    ['cmd.x.node-1', /slot "x" is not a slot number/],
    ['ev.node.', /an empty token/],
    ['ev.ds.1..x', /an empty token/],
    ['ev.node.%G1', /not an escaped name/],
    ['ev.node.%2', /not an escaped name/],
    ['ev.node.%FF', /not an escaped name/],
    ['ev.node.%41', /not how a name is escaped \(escapeToken writes "A"\)/],
    ['ev.node.%2e', /not an escaped name/],
    ['ev.life.a b', /not how a name is escaped/],
    ['ev.node.a*', /not how a name is escaped/],
    ['', /not a subject of the old log/],
  ];
  for (const [subject, reason] of refusals) {
    it(`refuses ${JSON.stringify(subject)}`, () => {
      const r = legacyToCurrentSubject(subject);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.match(r.reason, reason);
        assert.ok(r.reason.startsWith(JSON.stringify(subject)), `the reason names the subject: ${r.reason}`);
      }
    });
  }
});

describe('logLayoutOf', () => {
  it('tells the current layout, the old one and anything else apart, whatever the order', () => {
    assert.equal(logLayoutOf(['s.>', 'g.>']), 'current');
    assert.equal(logLayoutOf(['g.>', 's.>']), 'current');
    assert.equal(logLayoutOf(['ev.>', 'cmd.>']), 'legacy');
    assert.equal(logLayoutOf(['cmd.>', 'ev.>']), 'legacy');
    assert.equal(logLayoutOf(['ev.>']), 'other');
    assert.equal(logLayoutOf(['ev.>', 'cmd.>', 's.>', 'g.>']), 'other');
    assert.equal(logLayoutOf([]), 'other');
    assert.equal(logLayoutOf(undefined), 'other');
  });
});

describe('the holding stream and the fillers', () => {
  it('a held subject gives back its old subject; the holding stream’s own messages have none', () => {
    for (const s of ['ev.ds.9.kube-system.x', 'cmd.1.n', 'ev.node.%2Efoo']) assert.equal(oldSubjectOfHeld(heldSubject(s)), s);
    assert.equal(oldSubjectOfHeld(MIGRATION_META_SUBJECT), undefined);
    assert.equal(oldSubjectOfHeld(MIGRATION_DONE_SUBJECT), undefined);
    assert.equal(oldSubjectOfHeld('ev.node.x'), undefined);
  });

  it('fillers sit in the global part of the new log under a family no event has, so the purge by subject takes only them', () => {
    assert.ok(MIGRATION_FILLER_SUBJECT.startsWith(GLOBAL_FILTER.slice(0, -1)));
    assert.equal(legacyToCurrentSubject(MIGRATION_FILLER_SUBJECT).ok, false);
    assert.equal(subjectFamilyOf(MIGRATION_FILLER_SUBJECT), '_migration');
  });
});

describe('headers through the holding stream', () => {
  it('Nats-* headers are held under another name, the others unchanged, in order', () => {
    const original: [string, string][] = [
      ['Nats-Msg-Id', 'create-1'],
      ['Nats-Expected-Last-Subject-Sequence', '24'],
      ['X-Other', 'a'],
      ['X-Other', 'b'],
    ];
    assert.deepEqual(heldHeaders(original), [
      ['Ds-Held-Nats-Msg-Id', 'create-1'],
      ['Ds-Held-Nats-Expected-Last-Subject-Sequence', '24'],
      ['X-Other', 'a'],
      ['X-Other', 'b'],
    ]);
  });

  it('restored: the message id comes back, the publish preconditions are named as dropped, the holding headers go', () => {
    const held = [...heldHeaders([['Nats-Msg-Id', 'create-1'], ['Nats-Expected-Last-Subject-Sequence', '24'], ['Nats-Rollup', 'sub'], ['X-Other', 'a']]), ['Ds-Time', '1796680894638'], [HEADER_HELD_SEQ, '46']] as [string, string][];
    const r = restoredHeaders(held);
    assert.deepEqual(r.headers, [['Nats-Msg-Id', 'create-1'], ['X-Other', 'a'], ['Ds-Time', '1796680894638']]);
    assert.deepEqual(r.dropped, ['Nats-Expected-Last-Subject-Sequence', 'Nats-Rollup']);
    assert.deepEqual([...CARRIED_NATS_HEADERS], ['Nats-Msg-Id']);
  });

  it('a message without headers stays without (but its time)', () => {
    assert.deepEqual(restoredHeaders(heldHeaders([])), { headers: [], dropped: [] });
  });
});

describe('parseTimeHeader', () => {
  it('takes whole milliseconds and nothing else', () => {
    assert.equal(parseTimeHeader('1796680894638'), 1796680894638);
    assert.equal(parseTimeHeader('0'), 0);
    for (const bad of [undefined, '', ' 1', '1.5', '-1', '1e3', 'abc', '99999999999999999', '0x10']) assert.equal(parseTimeHeader(bad), undefined, String(bad));
  });
});

describe('what a service does on meeting them (classifyBusError)', () => {
  it('an old log is terminal (the service exits and says what to do); a migration under way is waited for', () => {
    const legacy = classifyBusError(new LegacyLogLayoutError(['ev.>', 'cmd.>']));
    assert.equal(legacy.transient, false);
    assert.equal(legacy.class, 'incompatible');
    assert.match(legacy.reason, /^the log DS_LOG is in the layout before per-slot subjects \(ev\.>, cmd\.>\): stop the controllers and run `dsctl migrate-log` to carry it over/);
    const busy = classifyBusError(new LogMigrationInProgressError('DS_LOG is being refilled'));
    assert.equal(busy.transient, true);
    assert.equal(busy.class, 'no-topology');
    assert.match(busy.reason, /wait for `dsctl migrate-log` to finish, or run it again if it was interrupted/);
  });
});
