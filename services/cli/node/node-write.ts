// Writing a node's admin facts with optimistic concurrency: the last sequence of the node's admin
// subject (`g.nodeadm.<node>`, apart from the agent's own `g.node.<node>`) is read before the
// state is folded, and the write expects it, so another admin's change made in between is a
// Conflict instead of a lost update.

import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeRecord, State } from '../../../libs/core/state.js';
import type { NodeLabelsSet, NodeTaintsSet, NodeUnschedulableSet } from '../../../libs/events/types.js';
import { ConflictError, publishEvent } from '../../../libs/nats/publish.js';
import { lastOnSubject, managerOf } from '../../../libs/nats/subject-reads.js';
import { nodeAdminSubject } from '../../../libs/topology/names.js';
import { CliError, notFound } from '../errors.js';
import { loadState } from '../state-loader.js';

export type NodeAdminEvent = NodeLabelsSet | NodeTaintsSet | NodeUnschedulableSet;

/** The nodes named, each with the last sequence of its subject as read before the fold. */
export interface NodesForWrite {
  readonly state: State;
  /** Node name → last sequence of `nodeAdminSubject(node)`; 0 when the subject is empty. */
  readonly lastSeq: ReadonlyMap<string, number>;
}

/** The sequence an admin write of `node` must expect (0 when its admin subject is empty). */
export async function lastNodeSeq(nc: NatsConnection, node: string): Promise<number> {
  return (await lastOnSubject(await managerOf(nc), nodeAdminSubject(node))).seq;
}

/** Reads the subjects' positions first, then folds: whatever lands after the read conflicts. */
export async function loadNodesForWrite(nc: NatsConnection, names: readonly string[]): Promise<NodesForWrite> {
  const lastSeq = new Map<string, number>();
  for (const name of names) lastSeq.set(name, await lastNodeSeq(nc, name));
  const { state } = await loadState(nc);
  return { state, lastSeq };
}

/** The node as folded, or kubectl's NotFound. */
export function requireNode(state: State, name: string): NodeRecord {
  const node = state.nodes.get(name);
  if (!node) throw notFound('nodes', name);
  return node;
}

export function nodeConflict(name: string): CliError {
  return new CliError(
    `Error from server (Conflict): Operation cannot be fulfilled on nodes "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

/** Publishes an admin event on the node's admin subject, expecting `expectSeq` as its last sequence. */
export async function writeNodeEvent(nc: NatsConnection, event: NodeAdminEvent, expectSeq: number): Promise<void> {
  try {
    await publishEvent(jetstream(nc), { subject: nodeAdminSubject(event.data.node), event, expectLastSubjectSeq: expectSeq });
  } catch (err) {
    if (err instanceof ConflictError) throw nodeConflict(event.data.node);
    throw err;
  }
}
