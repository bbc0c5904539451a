// Who may publish and subscribe to what (libs/topology/roles.ts) and the nats-server
// `authorization` block rendered from it. Pure: a small NATS subject matcher stands in for the
// server here; test/integration/auth-permissions.test.ts checks the same rules on a real server.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentConsumerName, agentInboxPrefix, permissionsFor, ROLES, type Identity, type PermissionSet, type Role } from '../../libs/topology/roles.js';
import { renderAuthorization, type AuthorizedUser } from '../../libs/topology/server-authorization.js';

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
    ['cmd.*.node-a', 'cmd.5.node-a', true],
    ['cmd.*.node-a', 'cmd.5.node-b', false],
    ['cmd.*.node-a', 'cmd.5.node-a.x', false],
    ['ev.>', 'ev.node.node-a', true],
    ['ev.>', 'ev', false],
    ['hb.node-a', 'hb.node-a', true],
    ['hb.node-a', 'hb.node-ab', false],
  ];
  for (const [pattern, subject, want] of cases) it(`${pattern} ~ ${subject}: ${want}`, () => assert.equal(matches(pattern, subject), want));
});

describe('permissionsFor: an agent', () => {
  it("may publish exactly its own node's subjects, its topology reads and its one consumer", () => {
    assert.deepEqual(permissionsFor(AGENT_A), {
      publish: {
        allow: [
          'ev.node.node-a',
          'ev.pod.*.node-a',
          'hb.node-a',
          '$JS.API.INFO',
          '$JS.API.STREAM.INFO.DS_LOG',
          '$JS.API.STREAM.INFO.KV_ds_config',
          '$JS.API.DIRECT.GET.KV_ds_config.>',
          '$JS.API.STREAM.MSG.GET.KV_ds_config',
          '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.cmd.*.node-a',
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
    const p = permissionsFor({ role: 'agent', node });
    assert.deepEqual(p.publish.allow.slice(0, 3), [`ev.node.${token}`, `ev.pod.*.${token}`, `hb.${token}`]);
    assert.deepEqual(p.subscribe.allow, [`_INBOX_node.${token}.>`]);
    assert.ok(p.publish.allow.includes(`$JS.API.CONSUMER.CREATE.DS_LOG.cmd_${token}.cmd.*.${token}`));
    // The dotted name must not open the subjects of a node called `ip-10-0-0-1`.
    assert.equal(allows(p.publish, 'hb.ip-10-0-0-1'), false);
    assert.equal(allows(p.publish, 'ev.node.ip-10-0-0-1'), false);
  });

  it('an agent identity without a node is refused', () => {
    assert.throws(() => permissionsFor({ role: 'agent' }), { name: 'RangeError', message: 'an agent identity names its node' });
  });
});

describe('permissionsFor: who may publish where', () => {
  // One row per subject, one column per role: admin, apiserver, controller, agent (node-a), fleet, viewer.
  const table: readonly [string, string, readonly [boolean, boolean, boolean, boolean, boolean, boolean]][] = [
    ['a DaemonSet spec', 'ev.ds.5.kube-system.fluentd', [true, true, false, false, false, false]],
    ['a namespace', 'ev.ns.logging', [true, true, false, false, false, false]],
    ['an admin node write', 'ev.nodeadm.node-a', [true, true, false, false, false, false]],
    ['a pod delete request', 'ev.podreq.5.node-a', [true, true, false, false, false, false]],
    ["node-a's own event", 'ev.node.node-a', [false, false, false, true, true, false]],
    ["node-b's event", 'ev.node.node-b', [false, false, false, false, true, false]],
    ["node-a's pod report", 'ev.pod.5.node-a', [false, false, false, true, true, false]],
    ["node-b's pod report", 'ev.pod.5.node-b', [false, false, false, false, true, false]],
    ["node-a's heartbeat", 'hb.node-a', [false, false, false, true, true, false]],
    ["node-b's heartbeat", 'hb.node-b', [false, false, false, false, true, false]],
    ['a command', 'cmd.5.node-a', [false, false, true, false, false, false]],
    ['a liveness verdict', 'ev.life.node-a', [false, false, true, false, false, false]],
    ['a DaemonSet status', 'ev.dss.5.kube-system.fluentd', [false, false, true, false, false, false]],
    ['a clock tick', 'ev.clock.5', [false, false, true, false, false, false]],
    ['a shard acquisition', 'ev.shard.5', [false, false, true, false, false, false]],
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
    ["a consumer over node-a's commands, by node-a's name", '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.cmd.*.node-a', [true, true, true, true, true, true]],
    ["a consumer over node-b's commands, by node-a's name", '$JS.API.CONSUMER.CREATE.DS_LOG.cmd_node-a.cmd.*.node-b', [true, true, true, false, true, true]],
    ['a consumer without a name', '$JS.API.CONSUMER.CREATE.DS_LOG', [true, true, true, false, true, true]],
    ["pulling from node-b's consumer", '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.cmd_node-b', [true, true, true, false, true, true]],
    ["deleting node-b's consumer", '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-b', [true, true, true, false, true, false]],
    ['a direct get from the log', '$JS.API.DIRECT.GET.DS_LOG', [true, true, true, false, true, true]],
    ['a direct get of a topology setting', '$JS.API.DIRECT.GET.KV_ds_config.$KV.ds_config.slots', [true, true, true, true, true, true]],
  ];
  for (const [what, subject, want] of table) {
    it(`${what} (${subject})`, () => {
      const got = ROLES.map((role) => allows(permissionsFor(ID[role]).publish, subject));
      assert.deepEqual(Object.fromEntries(ROLES.map((r, i) => [r, got[i]])), Object.fromEntries(ROLES.map((r, i) => [r, want[i]])));
    });
  }
});

describe('permissionsFor: who may subscribe where', () => {
  it('the viewer and the fleet subscribe to reply subjects only (no interest to aim a push consumer at)', () => {
    assert.deepEqual(permissionsFor(ID.viewer).subscribe, { allow: ['_INBOX.>'] });
    assert.deepEqual(permissionsFor(ID.fleet).subscribe, { allow: ['_INBOX.>'] });
  });

  const table: readonly [string, readonly [boolean, boolean, boolean, boolean, boolean, boolean]][] = [
    ['_INBOX.abc.1', [true, true, true, false, true, true]],
    ['_INBOX_node.node-a.abc.1', [true, true, true, true, false, false]],
    ['_INBOX_node.node-b.abc.1', [true, true, true, false, false, false]],
    ['cmd.5.node-b', [true, true, true, false, false, false]],
    ['hb.node-b', [true, true, true, false, false, false]],
    ['dlq.x', [true, true, true, false, false, false]],
    ['$KV.ds_config.slots', [true, true, true, false, false, false]],
  ];
  for (const [subject, want] of table) {
    it(subject, () => {
      assert.deepEqual(
        Object.fromEntries(ROLES.map((r) => [r, allows(permissionsFor(ID[r]).subscribe, subject)])),
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

  it("each user's permissions read back as permissionsFor gives them", () => {
    assert.deepEqual(parseUsers(renderAuthorization(users)), [
      { nkey: viewerKey, permissions: permissionsFor({ role: 'viewer' }) },
      { nkey: agentKey, permissions: permissionsFor(AGENT_A) },
    ]);
  });

  it('writes deny lists where a role has them (the controller: no history writes)', () => {
    const [controller] = parseUsers(renderAuthorization([{ name: 'controller', nkey: viewerKey, identity: { role: 'controller' } }]));
    assert.deepEqual(controller, { nkey: viewerKey, permissions: permissionsFor({ role: 'controller' }) });
    assert.ok((permissionsFor({ role: 'controller' }).publish.deny ?? []).includes('$JS.API.STREAM.PURGE.DS_LOG'));
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
