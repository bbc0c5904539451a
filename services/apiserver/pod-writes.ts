// DELETE of a v1 Pod: as `dsctl delete pod`, a PodDeleteRequested for the slot's controller (the
// facade holds no lease), which turns it into a PodDelete with its epoch; the agent stops the
// pod and its DaemonSet decides what comes next.

import { publishEvent } from '../../libs/nats/publish.js';
import { dsKey, podKey } from '../../libs/core/state.js';
import { podRequestSubject } from '../../libs/topology/names.js';
import { ApiError, conflict, notFound, type GroupResource } from './api-errors.js';
import type { WriteResult } from './daemonset-writes.js';
import type { WriteContext } from './log-writes.js';

export const PODS: GroupResource = { group: '', resource: 'pods' };

export async function deletePod(ctx: WriteContext, namespace: string, name: string, preconditionUid: string | undefined, dryRun: boolean): Promise<WriteResult> {
  await ctx.model.waitForServed(ctx.model.state.seq);
  const pod = ctx.model.state.pods.get(podKey(namespace, name));
  const stored = ctx.model.get('pods', namespace, name);
  if (!pod || !stored) throw notFound(PODS, name);
  if (preconditionUid !== undefined && preconditionUid !== pod.uid) {
    throw conflict(PODS, name, `Precondition failed: UID in precondition: ${preconditionUid}, UID in object meta: ${pod.uid}`);
  }
  const ds = pod.owner ? ctx.model.state.daemonSets.get(dsKey(namespace, pod.owner.name)) : undefined;
  if (!ds || ds.uid !== pod.owner?.uid) {
    throw new ApiError(409, 'Conflict', `pods "${name}" has no controlling DaemonSet here; nothing would act on its deletion`, { name, group: '', kind: 'pods' });
  }
  if (dryRun || pod.deleteRequestedMs !== undefined || pod.deletionMs !== undefined) return { code: 200, body: stored.object };
  const ack = await publishEvent(ctx.js, {
    subject: podRequestSubject(ds.slot, pod.node),
    event: { type: 'PodDeleteRequested', v: 1, data: { node: pod.node, namespace, podName: name, podUid: pod.uid } },
  });
  await ctx.model.waitForServed(ack.seq);
  return { code: 200, body: ctx.model.get('pods', namespace, name)?.object ?? stored.object };
}
