// `dsctl get ns` and `dsctl delete ns NAME`: namespaces as kubectl shows and deletes them. A
// delete writes what the API server's does (libs/core namespaceDeletion): each DaemonSet of the
// namespace deleted in the background, then NamespaceDeleted, every write stating the last
// sequence of its subject.

import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { namespaceDeletion, UNDELETABLE_NAMESPACE } from '../../libs/core/namespaces.js';
import type { GetKind } from '../../libs/present/get.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { dsSubject, namespaceSubject } from '../../libs/topology/names.js';
import { lastNamespaceEvent } from './apply.js';
import { splitKindName } from './context.js';
import { CliError, notFound } from './errors.js';
import { loadState } from './state-loader.js';
import { managerOf } from '../../libs/nats/subject-reads.js';

const NAMESPACE_KINDS = new Set(['ns', 'namespace', 'namespaces']);

/** `ns NAME`, `ns/NAME` and the other kinds (context.ts) → kind and name. */
export function kindAndName(kindArg: string, nameArg: string | undefined): { kind: GetKind; name?: string } {
  const slash = kindArg.indexOf('/');
  const kindText = slash > 0 ? kindArg.slice(0, slash) : kindArg;
  if (!NAMESPACE_KINDS.has(kindText.toLowerCase())) return splitKindName(kindArg, nameArg);
  if (slash > 0 && nameArg !== undefined) {
    throw new CliError('error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  }
  const name = slash > 0 ? kindArg.slice(slash + 1) : nameArg;
  return { kind: 'namespaces', ...(name !== undefined ? { name } : {}) };
}

/** `dsctl delete ns NAME`: refused for built-ins (Forbidden) and unknown names (NotFound). */
export async function deleteNamespace(nc: NatsConnection, name: string): Promise<void> {
  const { state } = await loadState(nc, {});
  const plan = namespaceDeletion(state, name);
  if (!plan.ok) {
    if (plan.reason === 'Forbidden') throw new CliError(`Error from server (Forbidden): namespaces "${name}" is forbidden: ${UNDELETABLE_NAMESPACE}`);
    throw notFound('namespaces', name);
  }
  const js = jetstream(nc);
  const expectNs = (await lastNamespaceEvent(await managerOf(nc), name))?.seq ?? 0;
  try {
    for (const { ds, event } of plan.daemonSets) {
      await publishEvent(js, { subject: dsSubject(ds.slot, ds.namespace, ds.name), event, expectLastSubjectSeq: ds.lastSpecSeq });
    }
    await publishEvent(js, { subject: namespaceSubject(name), event: plan.event, expectLastSubjectSeq: expectNs });
  } catch (err) {
    if (err instanceof ConflictError) throw new CliError(`Error from server (Conflict): namespaces "${name}" changed while it was being deleted; try again`);
    throw err;
  }
}
