// dsctl label nodes NAME... KEY=VALUE... KEY-... [--overwrite]

import type { NatsConnection } from '@nats-io/transport-node';
import { isValidLabelValue } from '../../../libs/model/label-syntax.js';
import { CliError } from '../errors.js';
import { nodeNames, splitResourcesAndChanges } from './node-args.js';
import { loadNodesForWrite, requireNode, writeNodeEvent } from './node-write.js';
import { fail, newOutcome, type NodeCommandOutcome } from './outcome.js';
import { planLabels } from './label-plan.js';

export interface LabelRequest {
  readonly names: string[];
  readonly set: Record<string, string>;
  readonly remove: string[];
}

/** kubectl's parseLabels and Validate: every argument checked before anything is read. */
export function parseLabelCommand(args: readonly string[]): LabelRequest {
  const { resources, changes } = splitResourcesAndChanges(
    args,
    (a) => (a.includes('=') && !a.startsWith('=')) || (a.endsWith('-') && a !== '-'),
    'label',
  );
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const spec of changes) {
    if (spec.includes('=')) {
      const parts = spec.split('=');
      if (parts.length !== 2) throw new CliError(`error: invalid label spec: ${spec}`);
      const [key = '', value = ''] = parts;
      const errs = isValidLabelValue(value);
      if (errs.length > 0) throw new CliError(`error: invalid label value: ${JSON.stringify(spec)}: ${errs.join(';')}`);
      set[key] = value;
    } else if (spec.endsWith('-')) {
      remove.push(spec.slice(0, -1));
    } else {
      throw new CliError(`error: unknown label spec: ${spec}`);
    }
  }
  if (remove.some((key) => key in set)) throw new CliError('error: can not both modify and remove a label in the same command');
  const names = nodeNames(resources);
  if (Object.keys(set).length === 0 && remove.length === 0) throw new CliError('error: at least one label update is required');
  return { names, set, remove };
}

/** Writes NodeLabelsSet{source: admin} with each node's whole new admin set. */
export async function labelNodes(nc: NatsConnection, req: LabelRequest, overwrite: boolean): Promise<NodeCommandOutcome> {
  const out = newOutcome();
  const { state, lastSeq } = await loadNodesForWrite(nc, req.names);
  for (const name of req.names) {
    try {
      const node = requireNode(state, name);
      const plan = planLabels(node, req.set, req.remove, overwrite);
      if (!plan.ok) {
        fail(out, plan.error);
        continue;
      }
      out.stderr.push(...plan.warnings);
      if (plan.changed) {
        await writeNodeEvent(nc, { type: 'NodeLabelsSet', v: 1, data: { node: name, source: 'admin', labels: plan.admin } }, lastSeq.get(name) ?? 0);
      }
      out.stdout.push(`node/${name} ${plan.message}`);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      fail(out, err.message);
    }
  }
  return out;
}
