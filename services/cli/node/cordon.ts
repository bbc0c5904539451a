// dsctl cordon|uncordon NAME...: NodeUnschedulableSet (kubectl's drain.RunCordonOrUncordon).
// Daemon pods tolerate node.kubernetes.io/unschedulable, so cordoning moves no daemon pod.

import type { NatsConnection } from '@nats-io/transport-node';
import { CliError } from '../errors.js';
import { loadNodesForWrite, requireNode, writeNodeEvent } from './node-write.js';
import { fail, newOutcome, type NodeCommandOutcome } from './outcome.js';

export async function setUnschedulable(nc: NatsConnection, names: readonly string[], unschedulable: boolean): Promise<NodeCommandOutcome> {
  const out = newOutcome();
  const verb = unschedulable ? 'cordoned' : 'uncordoned';
  const { state, lastSeq } = await loadNodesForWrite(nc, names);
  for (const name of names) {
    try {
      const node = requireNode(state, name);
      if (node.unschedulable === unschedulable) {
        out.stdout.push(`node/${name} already ${verb}`);
        continue;
      }
      await writeNodeEvent(nc, { type: 'NodeUnschedulableSet', v: 1, data: { node: name, unschedulable } }, lastSeq.get(name) ?? 0);
      out.stdout.push(`node/${name} ${verb}`);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      fail(out, err.message);
    }
  }
  return out;
}
