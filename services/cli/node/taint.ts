// dsctl taint nodes NAME... KEY[=VALUE]:EFFECT... KEY[:EFFECT]- ... [--overwrite]

import type { NatsConnection } from '@nats-io/transport-node';
import { parseTaintArg, type TaintRemoval } from '../../../libs/model/taints.js';
import type { Taint } from '../../../libs/model/types.js';
import { CliError } from '../errors.js';
import { nodeNames, splitResourcesAndChanges } from './node-args.js';
import { loadNodesForWrite, requireNode, writeNodeEvent } from './node-write.js';
import { fail, newOutcome, type NodeCommandOutcome } from './outcome.js';
import { planTaints } from './taint-plan.js';

export interface TaintRequest {
  readonly names: string[];
  readonly add: Taint[];
  readonly remove: TaintRemoval[];
}

/** kubectl's Complete + Validate for taint: every argument checked before anything is read. */
export function parseTaintCommand(args: readonly string[]): TaintRequest {
  const { resources, changes } = splitResourcesAndChanges(
    args,
    (a) => a.includes('=') || a.includes(':') || a.endsWith('-'),
    'taint',
  );
  const add: Taint[] = [];
  const remove: TaintRemoval[] = [];
  for (const arg of changes) {
    const r = parseTaintArg(arg);
    if (!r.ok) throw new CliError(`error: ${r.error}`);
    if (r.remove) {
      remove.push(r.taint);
      continue;
    }
    const t = r.taint;
    if (add.some((o) => o.key === t.key && o.effect === t.effect)) {
      throw new CliError(`error: duplicated taints with the same key and effect: {${t.key} ${t.value ?? ''} ${t.effect} <nil>}`);
    }
    add.push(t);
  }
  if (add.length === 0 && remove.length === 0) throw new CliError('error: at least one taint update is required');
  const names = nodeNames(resources);
  const conflicts = remove
    .filter((r) => add.some((t) => t.key === r.key && (r.effect === undefined || r.effect === t.effect)))
    .map((r) => `${r.key}=${r.effect ?? ''}`);
  if (conflicts.length > 0) {
    throw new CliError(`error: can not both modify and remove the following taint(s) in the same command: ${conflicts.join(', ')}`);
  }
  return { names, add, remove };
}

/** Writes NodeTaintsSet{source: admin} with each node's whole new admin set. */
export async function taintNodes(nc: NatsConnection, req: TaintRequest, overwrite: boolean): Promise<NodeCommandOutcome> {
  const out = newOutcome();
  const { state, lastSeq } = await loadNodesForWrite(nc, req.names);
  for (const name of req.names) {
    try {
      const node = requireNode(state, name);
      const plan = planTaints(node, req.add, req.remove, overwrite);
      if (!plan.ok) {
        fail(out, plan.error);
        continue;
      }
      if (plan.changed) {
        await writeNodeEvent(nc, { type: 'NodeTaintsSet', v: 1, data: { node: name, source: 'admin', taints: plan.admin } }, lastSeq.get(name) ?? 0);
      }
      out.stdout.push(`node/${name} ${plan.operation}`);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      fail(out, err.message);
    }
  }
  return out;
}
