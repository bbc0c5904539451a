// Who may publish and subscribe to what on the bus: one set of NATS subject permissions per
// role, written as wildcards over the subject layout of names.ts. An agent is pinned to its own
// node's subjects and reads its commands through one named consumer whose filter it cannot
// widen (nats-server 2.9's `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>` puts the filter in
// the subject, where a permission can pin it). Every other identity that could reach that
// consumer through its wider rights is denied the subjects that name it (consumerGuard).
// PURE: no I/O.

import { escapeToken } from './escape.js';
import { CONFIG_BUCKET, DEAD_LETTER_STREAM, LEASE_BUCKET, LOG_STREAM, MEMBERS_BUCKET, SNAPSHOT_BUCKET, nodeCommandFilter } from './names.js';

export const ROLES = ['admin', 'apiserver', 'controller', 'agent', 'fleet', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What each role is for, as `dsctl auth` prints it. */
export const ROLE_PURPOSE: Readonly<Record<Role, string>> = {
  admin: 'dsctl: DaemonSet specs, namespaces, admin labels, taints and cordons, pod deletes; creates the topology',
  apiserver: 'the Kubernetes API facade: the same writes as admin, on behalf of kubectl users',
  controller: 'controllers: commands, liveness verdicts, status, shard leases, snapshots',
  agent: "one node's agent: its own registration, heartbeats, taints and pod reports; reads only its own commands",
  fleet: 'the simulated fleet (tests and benchmarks): agent rights for every node',
  viewer: 'read-only: may read everything and write nothing',
};

export interface Identity {
  readonly role: Role;
  /** The node an agent speaks for (agents only). */
  readonly node?: string;
}

export interface PermissionSet {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
}

export interface SubjectPermissions {
  readonly publish: PermissionSet;
  readonly subscribe: PermissionSet;
}

/** What the permissions of one identity depend on besides its role: who else exists. */
export interface KnownIdentities {
  /** The nodes that have an agent identity (their `cmd_<node>` consumers are guarded). */
  readonly nodes: readonly string[];
}

const KV = (bucket: string): string => `KV_${bucket}`;

/** The durable name of the consumer through which an agent reads its node's commands. */
export function agentConsumerName(node: string): string {
  return `cmd_${escapeToken(node)}`;
}

/**
 * The reply-subject prefix of an agent's connection. Replies to its JetStream requests (and the
 * messages its consumer delivers) arrive there, so no other node can subscribe to them.
 */
export function agentInboxPrefix(node: string): string {
  return `_INBOX_node.${escapeToken(node)}`;
}

/** Reading the topology settings (slot count) and the log's position: every process does it. */
function topologyReads(): string[] {
  return [
    '$JS.API.INFO',
    `$JS.API.STREAM.INFO.${LOG_STREAM}`,
    `$JS.API.STREAM.INFO.${KV(CONFIG_BUCKET)}`,
    `$JS.API.DIRECT.GET.${KV(CONFIG_BUCKET)}.>`,
    `$JS.API.STREAM.MSG.GET.${KV(CONFIG_BUCKET)}`,
  ];
}

/**
 * The JetStream API subjects that act on the consumer named `consumer` of the log, other than
 * reading its info: creating or replacing it (new style, with or without a filter token, and the
 * legacy durable form), pulling from it, deleting it, moving its leadership, and pausing it
 * (`CONSUMER.PAUSE` is nats-server 2.11; on 2.9 the entry matches nothing). NATS wildcards match
 * whole tokens, so `cmd_*` cannot be written: one set per node.
 */
export function consumerApiSubjects(consumer: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${consumer}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${LOG_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.MSG.NEXT.${LOG_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.DELETE.${LOG_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.LEADER.STEPDOWN.${LOG_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.PAUSE.${LOG_STREAM}.${consumer}`,
  ];
}

/**
 * The legacy consumer create on the log (`$JS.API.CONSUMER.CREATE.DS_LOG`, no name in the
 * subject). nats-server 2.9.10 takes the consumer's name from the body there (tried: a create
 * there with `name: "cmd_node-a"` in the body makes that consumer), so it would create or update
 * `cmd_<node>` past any per-name deny. Nothing of ours uses it: readers and ordered consumers
 * name theirs in the subject.
 */
export const LEGACY_LOG_CONSUMER_CREATE = `$JS.API.CONSUMER.CREATE.${LOG_STREAM}`;

/**
 * What an identity other than the node's own agent may not do to the agents' command consumers,
 * for every known node: an admin, a controller, the fleet or a viewer pulling from `cmd_<node>`
 * would take commands meant for the agent (ack none, delivered once), and deleting or re-creating
 * it (as a push consumer, headers only, another filter) would divert or blank them.
 */
export function consumerGuard(nodes: readonly string[]): string[] {
  const out = [LEGACY_LOG_CONSUMER_CREATE];
  const seen = new Set<string>();
  for (const node of nodes) {
    const consumer = agentConsumerName(node);
    if (seen.has(consumer)) continue;
    seen.add(consumer);
    out.push(...consumerApiSubjects(consumer));
  }
  return out;
}

/** Reading anything (consumers of its own making, direct gets, stream and consumer info). */
const READ_ANYTHING = [
  '$JS.API.INFO',
  '$JS.API.STREAM.INFO.*',
  '$JS.API.STREAM.NAMES',
  '$JS.API.STREAM.LIST',
  '$JS.API.STREAM.MSG.GET.*',
  '$JS.API.DIRECT.GET.>',
  '$JS.API.CONSUMER.CREATE.>',
  '$JS.API.CONSUMER.MSG.NEXT.>',
  '$JS.API.CONSUMER.INFO.>',
  '$JS.API.CONSUMER.NAMES.*',
  '$JS.API.CONSUMER.LIST.*',
];

/**
 * Destroying or rewriting history: nobody's business but an operator with server access. An
 * update counts: `max_msgs: 1` or a short `max_age` on the log deletes it as surely as a purge.
 */
const HISTORY_WRITES = [
  `$JS.API.STREAM.DELETE.${LOG_STREAM}`,
  `$JS.API.STREAM.PURGE.${LOG_STREAM}`,
  `$JS.API.STREAM.MSG.DELETE.${LOG_STREAM}`,
  `$JS.API.STREAM.UPDATE.${LOG_STREAM}`,
  `$JS.API.STREAM.DELETE.${DEAD_LETTER_STREAM}`,
  `$JS.API.STREAM.PURGE.${DEAD_LETTER_STREAM}`,
  `$JS.API.STREAM.MSG.DELETE.${DEAD_LETTER_STREAM}`,
  `$JS.API.STREAM.UPDATE.${DEAD_LETTER_STREAM}`,
];

/**
 * What a reader subscribes to: reply subjects only. nats-server does not check a push consumer's
 * deliver subject against its creator's permissions (nats-io/nats-server#8274), and it delivers
 * only where a literal subscription shows interest; a role that may create consumers and also
 * subscribe to `>` could point one at `dlq.x` or `$KV.ds_config.x`, subscribe there, and have the
 * server copy the log into those streams on its behalf. Replies to requests and pulled messages
 * arrive on `_INBOX.…`, which no stream captures.
 */
const INBOX_ONLY = ['_INBOX.>'];

/** A node's own subjects, for an agent (`*` for the fleet, which simulates them all). */
function nodePublishes(token: string): string[] {
  return [`g.node.${token}`, `s.*.pod.${token}`, `hb.${token}`];
}

/**
 * The subject permissions of `id`. `known.nodes` names every node with an agent identity: every
 * role whose wildcards reach the log's consumers is denied theirs (consumerGuard). Other agents
 * need no such list: an agent's allow list names its own consumer only, nothing wider.
 */
export function permissionsFor(id: Identity, known: KnownIdentities): SubjectPermissions {
  switch (id.role) {
    case 'agent': {
      if (id.node === undefined) throw new RangeError('an agent identity names its node');
      const token = escapeToken(id.node);
      const consumer = agentConsumerName(id.node);
      return {
        publish: {
          allow: [
            ...nodePublishes(token),
            ...topologyReads(),
            `$JS.API.CONSUMER.CREATE.${LOG_STREAM}.${consumer}.${nodeCommandFilter(id.node)}`,
            `$JS.API.CONSUMER.MSG.NEXT.${LOG_STREAM}.${consumer}`,
            `$JS.API.CONSUMER.INFO.${LOG_STREAM}.${consumer}`,
            `$JS.API.CONSUMER.DELETE.${LOG_STREAM}.${consumer}`,
          ],
        },
        subscribe: { allow: [`${agentInboxPrefix(id.node)}.>`] },
      };
    }
    case 'fleet':
      return {
        publish: {
          // Its command feed is an ordered consumer of its own (services/fleet/command-feed.ts),
          // never an agent's `cmd_<node>`, so the guard costs it nothing.
          allow: [...nodePublishes('*'), ...READ_ANYTHING, '$JS.API.CONSUMER.DELETE.>'],
          deny: consumerGuard(known.nodes),
        },
        subscribe: { allow: INBOX_ONLY },
      };
    case 'controller':
      return {
        publish: {
          allow: [
            's.*.cmd.>',
            's.*.dss.>',
            's.*.clock',
            's.*.shard',
            'g.life.>',
            'dlq.>',
            '$JS.API.>',
            '$JS.ACK.>',
            `$KV.${CONFIG_BUCKET}.>`,
            `$KV.${LEASE_BUCKET}.>`,
            `$KV.${MEMBERS_BUCKET}.>`,
            `$O.${SNAPSHOT_BUCKET}.>`,
          ],
          deny: [...HISTORY_WRITES, ...consumerGuard(known.nodes)],
        },
        subscribe: { allow: ['>'] },
      };
    case 'admin':
    case 'apiserver':
      return {
        publish: {
          allow: [
            's.*.ds.>',
            'g.nodeadm.>',
            's.*.podreq.>',
            'g.ns.>',
            '$JS.API.>',
            `$KV.${CONFIG_BUCKET}.>`,
          ],
          deny: [...HISTORY_WRITES, ...consumerGuard(known.nodes)],
        },
        subscribe: { allow: ['>'] },
      };
    case 'viewer':
      return {
        publish: { allow: READ_ANYTHING, deny: consumerGuard(known.nodes) },
        subscribe: { allow: INBOX_ONLY },
      };
  }
}
