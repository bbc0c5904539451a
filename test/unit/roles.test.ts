// Who may publish and subscribe to what (libs/topology/roles.ts) and the nats-server
// `authorization` block rendered from it. Pure: a small NATS subject matcher stands in for the
// server here; test/integration/auth-permissions.test.ts checks the same rules on a real server.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agentConsumerName,
  agentInboxPrefix,
  consumerApiSubjects,
  consumerGuard,
  permissionsFor,
  ROLES,
  type Identity,
  type KnownIdentities,
  type PermissionSet,
  type Role,
} from '../../libs/topology/roles.js';
import { agentNodesOf, renderAuthorization, type AuthorizedUser } from '../../libs/topology/server-authorization.js';

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** What nats-server decides: some allow matches and no deny does. */
function allows(set: PermissionSet, subject: string): boolean {
  return set.allow.some((a) => matches(a, subject)) && !(set.deny ?? []).some((d) => matches(d, subject));
}

const AGENT_A: Identity = { role: 'agent', node: 'node-a' };
const AGENT_B: Identity = { role: 'agent', node: 'node-b' };
/** The nodes with agent identities in these tests (node-c has none). */
const KNOWN: KnownIdentities = { nodes: ['node-a', 'node-b'] };
const ID: Readonly<Record<Role, Identity>> = {
  admin: { role: 'admin' },
  apiserver: { role: 'apiserver' },
  controller: { role: 'controller' },
  agent: AGENT_A,
  fleet: { role: 'fleet' },
  viewer: { role: 'viewer' },
};

describe('matches (the matcher these tests use)', () => {
  const cases: readonly [string, string, boolean][] = [
    ['s.*.cmd.node-a', 's.5.cmd.node-a', true],
    ['s.*.cmd.node-a', 's.5.cmd.node-b', false],
    ['s.*.cmd.node-a', 's.5.cmd.node-a.x', false],
    ['g.>', 'g.node.node-a', true],
    ['g.>', 'g', false],
    ['hb.node-a', 'hb.node-a', true],
    ['hb.node-a', 'hb.node-ab', false],
  ];
  for (const [pattern, subject, want] of cases) it(`${pattern} ~ ${subject}: ${want}`, () => assert.equal(matches(pattern, subject), want));
});

describe('permissionsFor: an agent', () => {
  it("may publish exactly its own node's subjects, its topology reads and its one consumer", () => {
    assert.deepEqual(permissionsFor(AGENT_A, KNOWN), {
      publish: {
        allow: [
          'g.node.node-a',
          's.*.pod.node-a',
          'hb.node-a',
          '$JS.API.INFO',
          '$JS.API.STREAM.INFO.DS_LOG',
          '$JS.API.STREAM.INFO.KV_ds_config',
          '$JS.API.DIRECT.GET.KV_ds_config.>',
          '$JS.API.STREAM.MSG.GET.KV_ds_config',
          '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.s.*.cmd.node-a',
          '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-a',
          '$JS.API.CONSUMER.INFO.DS_LOG.cmd_node-a',
          '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-a',
        ],
      },
      subscribe: { allow: ['_INBOX_node.node-a.>'] },
    });
  });

  it('escapes a node name with dots into one token everywhere (ip-10-0-0-1.ec2.internal)', () => {
    const node = 'ip-10-0-0-1.ec2.internal';
    const token = 'ip-10-0-0-1%2Eec2%2Einternal';
    assert.equal(agentConsumerName(node), `cmd_${token}`);
    assert.equal(agentInboxPrefix(node), `_INBOX_node.${token}`);
    const p = permissionsFor({ role: 'agent', node }, { nodes: [node] });
    assert.deepEqual(p.publish.allow.slice(0, 3), [`g.node.${token}`, `s.*.pod.${token}`, `hb.${token}`]);
    assert.deepEqual(p.subscribe.allow, [`_INBOX_node.${token}.>`]);
    assert.ok(p.publish.allow.includes(`$JS.API.CONSUMER.CREATE.DS_LOG.cmd_${token}.s.*.cmd.${token}`));
    // The dotted name must not open the subjects of a node called `ip-10-0-0-1`.
    assert.equal(allows(p.publish, 'hb.ip-10-0-0-1'), false);
    assert.equal(allows(p.publish, 'g.node.ip-10-0-0-1'), false);
  });

  it('an agent identity without a node is refused', () => {
    assert.throws(() => permissionsFor({ role: 'agent' }, KNOWN), { name: 'RangeError', message: 'an agent identity names its node' });
  });
});

/** node-a's guard, written out: what every identity but node-a's agent is denied. */
const GUARD_A = [
  '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a',
  '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.>',
  '$JS.API.CONSUMER.DURABLE.CREATE.DS_LOG.cmd_node-a',
  '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-a',
  '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-a',
  '$JS.API.CONSUMER.LEADER.STEPDOWN.DS_LOG.cmd_node-a',
  '$JS.API.CONSUMER.PAUSE.DS_LOG.cmd_node-a',
];
const GUARD_B = GUARD_A.map((s) => s.replace('cmd_node-a', 'cmd_node-b'));
const HISTORY = [
  '$JS.API.STREAM.DELETE.DS_LOG',
  '$JS.API.STREAM.PURGE.DS_LOG',
  '$JS.API.STREAM.MSG.DELETE.DS_LOG',
  '$JS.API.STREAM.UPDATE.DS_LOG',
  '$JS.API.STREAM.DELETE.DS_DLQ',
  '$JS.API.STREAM.PURGE.DS_DLQ',
  '$JS.API.STREAM.MSG.DELETE.DS_DLQ',
  '$JS.API.STREAM.UPDATE.DS_DLQ',
];

describe("consumerGuard: the agents' command consumers (issue #8)", () => {
  it("consumerApiSubjects: every API subject that acts on one consumer of the log, info apart", () => {
    assert.deepEqual(consumerApiSubjects('cmd_node-a'), GUARD_A);
  });

  it('one set per known node, after the legacy create (which names its consumer in the body)', () => {
    assert.deepEqual(consumerGuard(['node-a', 'node-b']), ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]);
  });

  it('with no nodes known, the legacy create alone', () => {
    assert.deepEqual(consumerGuard([]), ['$JS.API.CONSUMER.CREATE.DS_LOG']);
  });

  it('a node named twice is guarded once', () => {
    assert.deepEqual(consumerGuard(['node-a', 'node-a']), ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A]);
  });

  it('a dotted node name is escaped into one token, as agentConsumerName does (ip-10-0-0-1.ec2.internal)', () => {
    const consumer = 'cmd_ip-10-0-0-1%2Eec2%2Einternal';
    assert.equal(agentConsumerName('ip-10-0-0-1.ec2.internal'), consumer);
    assert.deepEqual(consumerGuard(['ip-10-0-0-1.ec2.internal']), ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A.map((s) => s.replace('cmd_node-a', consumer))]);
  });

  // The exact deny list of every role with node-a and node-b known.
  const denies: readonly [Role, readonly string[] | undefined][] = [
    ['admin', [...HISTORY, '$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]],
    ['apiserver', [...HISTORY, '$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]],
    ['controller', [...HISTORY, '$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]],
    // Its allow list names its own consumer only: nothing of another node's to deny.
    ['agent', undefined],
    ['fleet', ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]],
    ['viewer', ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]],
  ];
  for (const [role, want] of denies) {
    it(`the ${role}'s publish deny list`, () => {
      assert.deepEqual(permissionsFor(ID[role], KNOWN).publish.deny, want);
    });
  }

  it("node-b's agent may not touch node-a's consumer through any subject of the guard (nor the guard's wildcard)", () => {
    const p = permissionsFor(AGENT_B, KNOWN).publish;
    const subjects = GUARD_A.map((s) => s.replace(/\.>$/, '.cmd.*.node-b'));
    assert.deepEqual(subjects.filter((s) => allows(p, s)), []);
  });

  it("node-a's agent keeps its own consumer whatever else is known", () => {
    assert.deepEqual(permissionsFor(AGENT_A, KNOWN), permissionsFor(AGENT_A, { nodes: [] }));
  });
});

describe('permissionsFor: who may publish where', () => {
  // One row per subject, one column per role: admin, apiserver, controller, agent (node-a), fleet, viewer.
  const table: readonly [string, string, readonly [boolean, boolean, boolean, boolean, boolean, boolean]][] = [
    ['a DaemonSet spec', 's.5.ds.kube-system.fluentd', [true, true, false, false, false, false]],
    ['a namespace', 'g.ns.logging', [true, true, false, false, false, false]],
    ['an admin node write', 'g.nodeadm.node-a', [true, true, false, false, false, false]],
    ['a pod delete request', 's.5.podreq.node-a', [true, true, false, false, false, false]],
    ["node-a's own event", 'g.node.node-a', [false, false, false, true, true, false]],
    ["node-b's event", 'g.node.node-b', [false, false, false, false, true, false]],
    ["node-a's pod report", 's.5.pod.node-a', [false, false, false, true, true, false]],
    ["node-b's pod report", 's.5.pod.node-b', [false, false, false, false, true, false]],
    ["node-a's heartbeat", 'hb.node-a', [false, false, false, true, true, false]],
    ["node-b's heartbeat", 'hb.node-b', [false, false, false, false, true, false]],
    ['a command', 's.5.cmd.node-a', [false, false, true, false, false, false]],
    ['a liveness verdict', 'g.life.node-a', [false, false, true, false, false, false]],
    ['a DaemonSet status', 's.5.dss.kube-system.fluentd', [false, false, true, false, false, false]],
    ['a clock tick', 's.5.clock', [false, false, true, false, false, false]],
    ['a shard acquisition', 's.5.shard', [false, false, true, false, false, false]],
    ['a dead letter', 'dlq.controller', [false, false, true, false, false, false]],
    ['a topology setting', '$KV.ds_config.slots', [true, true, true, false, false, false]],
    ['a lease', '$KV.ds_leases.slot.5', [false, false, true, false, false, false]],
    ['deleting the log', '$JS.API.STREAM.DELETE.DS_LOG', [false, false, false, false, false, false]],
    ['purging the log', '$JS.API.STREAM.PURGE.DS_LOG', [false, false, false, false, false, false]],
    ['deleting a message of the log', '$JS.API.STREAM.MSG.DELETE.DS_LOG', [false, false, false, false, false, false]],
    ['rewriting the log (stream update)', '$JS.API.STREAM.UPDATE.DS_LOG', [false, false, false, false, false, false]],
    ['purging the dead letters', '$JS.API.STREAM.PURGE.DS_DLQ', [false, false, false, false, false, false]],
    ['rewriting the dead letters', '$JS.API.STREAM.UPDATE.DS_DLQ', [false, false, false, false, false, false]],
    ['creating the log (topology)', '$JS.API.STREAM.CREATE.DS_LOG', [true, true, true, false, false, false]],
    // An agent's command consumer is its own: nobody else may create, pull from, delete or move it.
    ["node-a's consumer over node-a's commands", '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.s.*.cmd.node-a', [false, false, false, true, false, false]],
    ["node-a's consumer over node-b's commands", '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.s.*.cmd.node-b', [false, false, false, false, false, false]],
    ["node-a's consumer with no filter token", '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a', [false, false, false, false, false, false]],
    ["node-a's consumer as a legacy durable", '$JS.API.CONSUMER.DURABLE.CREATE.DS_LOG.cmd_node-a', [false, false, false, false, false, false]],
    ['a consumer named in the body only (legacy create)', '$JS.API.CONSUMER.CREATE.DS_LOG', [false, false, false, false, false, false]],
    ["pulling from node-a's consumer", '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-a', [false, false, false, true, false, false]],
    ["pulling from node-b's consumer", '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-b', [false, false, false, false, false, false]],
    ["deleting node-a's consumer", '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-a', [false, false, false, true, false, false]],
    ["deleting node-b's consumer", '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-b', [false, false, false, false, false, false]],
    ["moving node-a's consumer's leader", '$JS.API.CONSUMER.LEADER.STEPDOWN.DS_LOG.cmd_node-a', [false, false, false, false, false, false]],
    ["pausing node-a's consumer (2.11)", '$JS.API.CONSUMER.PAUSE.DS_LOG.cmd_node-a', [false, false, false, false, false, false]],
    ["node-a's consumer info (reading it stays allowed)", '$JS.API.CONSUMER.INFO.DS_LOG.cmd_node-a', [true, true, true, true, true, true]],
    ["node-b's consumer info", '$JS.API.CONSUMER.INFO.DS_LOG.cmd_node-b', [true, true, true, false, true, true]],
    // Everyone else's consumers are untouched by the guard.
    ["a reader's consumer of its own (rd_x)", '$JS.API.CONSUMER.CREATE.DS_LOG.rd_x', [true, true, true, false, true, true]],
    ["the fleet's ordered command feed", '$JS.API.CONSUMER.CREATE.DS_LOG.ARVX9PsdbYP1MEfh2KgLGs_1.cmd.>', [true, true, true, false, true, true]],
    ["pulling from a reader's consumer of its own", '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.rd_x', [true, true, true, false, true, true]],
    ["deleting a reader's consumer", '$JS.API.CONSUMER.DELETE.DS_LOG.rd_x', [true, true, true, false, true, false]],
    ['a consumer named cmd_node-a on another stream', '$JS.API.CONSUMER.CREATE.KV_ds_config.cmd_node-a', [true, true, true, false, true, true]],
    ['pulling from the consumer of node-c (no identity, so not guarded)', '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-c', [true, true, true, false, true, true]],
    ['a direct get from the log', '$JS.API.DIRECT.GET.DS_LOG', [true, true, true, false, true, true]],
    ['a direct get of a topology setting', '$JS.API.DIRECT.GET.KV_ds_config.$KV.ds_config.slots', [true, true, true, true, true, true]],
  ];
  for (const [what, subject, want] of table) {
    it(`${what} (${subject})`, () => {
      const got = ROLES.map((role) => allows(permissionsFor(ID[role], KNOWN).publish, subject));
      assert.deepEqual(Object.fromEntries(ROLES.map((r, i) => [r, got[i]])), Object.fromEntries(ROLES.map((r, i) => [r, want[i]])));
    });
  }
});

describe('permissionsFor: who may subscribe where', () => {
  it('the viewer and the fleet subscribe to reply subjects only (no interest to aim a push consumer at)', () => {
    assert.deepEqual(permissionsFor(ID.viewer, KNOWN).subscribe, { allow: ['_INBOX.>'] });
    assert.deepEqual(permissionsFor(ID.fleet, KNOWN).subscribe, { allow: ['_INBOX.>'] });
  });

  const table: readonly [string, readonly [boolean, boolean, boolean, boolean, boolean, boolean]][] = [
    ['_INBOX.abc.1', [true, true, true, false, true, true]],
    ['_INBOX_node.node-a.abc.1', [true, true, true, true, false, false]],
    ['_INBOX_node.node-b.abc.1', [true, true, true, false, false, false]],
    ['s.5.cmd.node-b', [true, true, true, false, false, false]],
    ['hb.node-b', [true, true, true, false, false, false]],
    ['dlq.x', [true, true, true, false, false, false]],
    ['$KV.ds_config.slots', [true, true, true, false, false, false]],
  ];
  for (const [subject, want] of table) {
    it(subject, () => {
      assert.deepEqual(
        Object.fromEntries(ROLES.map((r) => [r, allows(permissionsFor(ID[r], KNOWN).subscribe, subject)])),
        Object.fromEntries(ROLES.map((r, i) => [r, want[i]])),
      );
    });
  }
});

describe('renderAuthorization', () => {
  const viewerKey = `U${'A'.repeat(55)}`;
  const agentKey = `U${'B'.repeat(55)}`;
  const users: readonly AuthorizedUser[] = [
    { name: 'viewer', nkey: viewerKey, identity: { role: 'viewer' } },
    { name: 'node-a', nkey: agentKey, identity: AGENT_A },
  ];

  /** The users of a rendered block, read back: nats-server's syntax here is JSON with bare keys. */
  function parseUsers(text: string): unknown[] {
    return text
      .split('\n')
      .filter((line) => line.trimStart().startsWith('{ nkey:'))
      .map((line) => JSON.parse(line.trim().replace(/([{,]\s*)(nkey|permissions|publish|subscribe|allow|deny):/g, '$1"$2":')) as unknown);
  }

  it('writes one nkey user per identity inside `authorization { users = [ … ] }`, with its role as a comment', () => {
    const text = renderAuthorization(users);
    const lines = text.split('\n');
    assert.deepEqual(
      lines.filter((l) => !l.trimStart().startsWith('{ nkey:')),
      [
        '# Generated by `dsctl auth`; `dsctl auth add-node` rewrites it. Reload the server after a change',
        '# (`nats-server --signal reload` or SIGHUP).',
        'authorization {',
        '  users = [',
        '    # viewer (viewer)',
        '    # node-a (agent of node node-a)',
        '  ]',
        '}',
        '',
      ],
    );
  });

  it("each user's permissions read back as permissionsFor gives them, knowing the nodes of the agent users", () => {
    const known = { nodes: ['node-a'] };
    assert.deepEqual(parseUsers(renderAuthorization(users)), [
      { nkey: viewerKey, permissions: permissionsFor({ role: 'viewer' }, known) },
      { nkey: agentKey, permissions: permissionsFor(AGENT_A, known) },
    ]);
  });

  it("agentNodesOf: the agent users' nodes, in order, each once", () => {
    const agentC = `U${'C'.repeat(55)}`;
    assert.deepEqual(
      agentNodesOf([
        { name: 'viewer', nkey: viewerKey, identity: { role: 'viewer' } },
        { name: 'node-b', nkey: agentKey, identity: AGENT_B },
        { name: 'node-a', nkey: agentC, identity: AGENT_A },
        { name: 'node-b again', nkey: agentC, identity: AGENT_B },
      ]),
      ['node-b', 'node-a'],
    );
  });

  it("the deny lists guard exactly the consumers of the agent users' nodes (adding one rewrites every deny list)", () => {
    const agentBKey = `U${'C'.repeat(55)}`;
    const withB = [...users, { name: 'node-b', nkey: agentBKey, identity: AGENT_B }];
    const deny = (text: string): unknown => (parseUsers(text)[0] as { permissions: { publish: { deny?: unknown } } }).permissions.publish.deny;
    assert.deepEqual(deny(renderAuthorization(users)), ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A]);
    assert.deepEqual(deny(renderAuthorization(withB)), ['$JS.API.CONSUMER.CREATE.DS_LOG', ...GUARD_A, ...GUARD_B]);
    assert.deepEqual(deny(renderAuthorization(users.slice(0, 1))), ['$JS.API.CONSUMER.CREATE.DS_LOG']);
  });

  it('writes deny lists where a role has them (the controller: no history writes)', () => {
    const [controller] = parseUsers(renderAuthorization([{ name: 'controller', nkey: viewerKey, identity: { role: 'controller' } }]));
    // No agent users: the guard is the legacy create alone.
    assert.deepEqual(controller, { nkey: viewerKey, permissions: permissionsFor({ role: 'controller' }, { nodes: [] }) });
    assert.deepEqual(permissionsFor({ role: 'controller' }, { nodes: [] }).publish.deny, [...HISTORY, '$JS.API.CONSUMER.CREATE.DS_LOG']);
  });

  const notKeys: readonly [string, string][] = [
    ['a seed instead of a public key', `SU${'A'.repeat(56)}`],
    ['an account key', `A${'A'.repeat(55)}`],
    ['a short key', 'UABC'],
    ['lower case', `u${'a'.repeat(55)}`],
    ['a key with a line break after it', `U${'A'.repeat(55)}\n}`],
    ['an empty key', ''],
  ];
  for (const [what, nkey] of notKeys) {
    it(`refuses ${what}`, () => {
      assert.throws(() => renderAuthorization([{ name: 'x', nkey, identity: { role: 'viewer' } }]), (err: unknown) => err instanceof RangeError && /is not a public user nkey/.test(err.message));
    });
  }

  it('a name with a line break stays inside its comment', () => {
    const text = renderAuthorization([{ name: 'evil\n}\nauthorization { users = [] }', nkey: viewerKey, identity: { role: 'viewer' } }]);
    assert.equal(text.split('\n')[4], '    # evil } authorization { users = [] } (viewer)');
    // Two header comments, `authorization {`, `users = [`, the comment, the user, `]`, `}`, and the final newline.
    assert.equal(text.split('\n').length, 9);
  });
});
