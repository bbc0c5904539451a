// Writes of v1 Nodes (kubectl label, taint, cordon|uncordon send PATCHes; taint may PUT): the
// patched node is translated into the admin facts the log keeps, NodeLabelsSet and
// NodeTaintsSet with source admin and NodeUnschedulableSet, published on the node's admin subject
// (`g.nodeadm.<node>`, apart from the agent's `g.node.<node>`), each stating the last sequence
// of that subject. What the agent owns (its labels, its condition taints) and what the node
// lifecycle derives (not-ready, unreachable, unschedulable taints) is not an admin's to change.
// Other fields of a Node (annotations, status) are not kept by the log and are ignored.

import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../../libs/core/node-taints.js';
import type { NodeRecord } from '../../libs/core/state.js';
import type { NodeLabelsSet, NodeTaintsSet, NodeUnschedulableSet } from '../../libs/events/types.js';
import { isQualifiedName, isValidLabelValue } from '../../libs/model/label-syntax.js';
import { isTaintEffect } from '../../libs/model/taints.js';
import type { FieldError, Labels, Taint } from '../../libs/model/types.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { nodeAdminSubject } from '../../libs/topology/names.js';
import { badRequest, conflict, invalid, notFound, type GroupResource } from './api-errors.js';
import type { WriteResult } from './daemonset-writes.js';
import { lastOnSubject } from '../../libs/nats/subject-reads.js';
import { WRITE_ATTEMPTS, type WriteContext } from './log-writes.js';
import { applyPatch, type PatchType } from './patch-types.js';
import type { Json } from './patch.js';

export const NODES: GroupResource = { group: '', resource: 'nodes' };

const DERIVED_TAINTS = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE]);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type NodeAdminEvent = NodeLabelsSet | NodeTaintsSet | NodeUnschedulableSet;

function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

function taintsOf(v: unknown, errors: FieldError[]): Taint[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push({ field: 'spec.taints', type: 'Invalid', value: v, detail: 'must be a list' });
    return [];
  }
  const out: Taint[] = [];
  v.forEach((t: unknown, i) => {
    const path = `spec.taints[${i}]`;
    if (!isObj(t) || typeof t['key'] !== 'string' || t['key'] === '') {
      errors.push({ field: `${path}.key`, type: 'Required', detail: '' });
      return;
    }
    if (!isTaintEffect(t['effect'])) {
      errors.push({ field: `${path}.effect`, type: 'NotSupported', value: t['effect'], detail: 'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"' });
      return;
    }
    for (const msg of isQualifiedName(t['key'])) errors.push({ field: `${path}.key`, type: 'Invalid', value: t['key'], detail: msg });
    const value = typeof t['value'] === 'string' && t['value'] !== '' ? t['value'] : undefined;
    out.push({ key: t['key'], effect: t['effect'], ...(value !== undefined ? { value } : {}), ...(typeof t['timeAdded'] === 'string' ? { timeAdded: t['timeAdded'] } : {}) });
  });
  return out;
}

/** The admin events that turn `node` into `desired` (a Node object), or the field errors why not. */
export function planNodeWrite(node: NodeRecord, desired: Obj): NodeAdminEvent[] {
  const errors: FieldError[] = [];
  const metadata = isObj(desired['metadata']) ? desired['metadata'] : {};
  const spec = isObj(desired['spec']) ? desired['spec'] : {};
  const labels: Labels = isObj(metadata['labels']) ? (metadata['labels'] as Labels) : {};
  const agentLabels = node.labelsBySource.agent ?? {};
  const adminLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') {
      errors.push({ field: `metadata.labels[${k}]`, type: 'Invalid', value: v, detail: 'must be a string' });
      continue;
    }
    for (const msg of isQualifiedName(k)) errors.push({ field: 'metadata.labels', type: 'Invalid', value: k, detail: msg });
    for (const msg of isValidLabelValue(v)) errors.push({ field: 'metadata.labels', type: 'Invalid', value: v, detail: msg });
    if (agentLabels[k] !== v) adminLabels[k] = v;
  }
  for (const k of Object.keys(agentLabels)) {
    if (!(k in labels)) errors.push({ field: `metadata.labels[${k}]`, type: 'Forbidden', detail: "set by the node's agent (NODE_LABELS or its defaults); change it there" });
  }
  const taints = taintsOf(spec['taints'], errors);
  const agentTaints = node.taints.agent ?? [];
  for (const t of agentTaints) {
    if (!taints.some((d) => sameTaint(d, t))) errors.push({ field: 'spec.taints', type: 'Forbidden', value: t.key, detail: "set by the node's agent from its conditions" });
  }
  const adminTaints = taints.filter((t) => !DERIVED_TAINTS.has(t.key) && !agentTaints.some((a) => sameTaint(a, t)));
  if (errors.length > 0) throw invalid('', 'Node', node.name, errors);

  const events: NodeAdminEvent[] = [];
  const prevAdminLabels = node.labelsBySource.admin ?? {};
  const sortedEntries = (l: Labels): string => JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (sortedEntries(prevAdminLabels) !== sortedEntries(adminLabels)) {
    events.push({ type: 'NodeLabelsSet', v: 1, data: { node: node.name, source: 'admin', labels: adminLabels } });
  }
  const prevAdminTaints = node.taints.admin ?? [];
  const taintKey = (t: Taint): string => `${t.key}=${t.value ?? ''}:${t.effect}`;
  const changedTaints =
    prevAdminTaints.length !== adminTaints.length || prevAdminTaints.some((t) => !adminTaints.some((d) => taintKey(d) === taintKey(t)));
  if (changedTaints) {
    events.push({ type: 'NodeTaintsSet', v: 1, data: { node: node.name, source: 'admin', taints: adminTaints.map(({ timeAdded: _t, ...rest }) => rest) } });
  }
  const unschedulable = spec['unschedulable'] === true;
  if (unschedulable !== node.unschedulable) events.push({ type: 'NodeUnschedulableSet', v: 1, data: { node: node.name, unschedulable } });
  return events;
}

async function writeNode(ctx: WriteContext, name: string, desiredOf: (current: Json) => unknown, rvPrecondition: (rv: number) => string | undefined, dryRun: boolean): Promise<WriteResult> {
  await ctx.model.waitForServed(ctx.model.state.seq);
  for (let attempt = 1; ; attempt++) {
    const node = ctx.model.state.nodes.get(name);
    const stored = ctx.model.get('nodes', '', name);
    if (!node || !stored) throw notFound(NODES, name);
    const desired = desiredOf(stored.object as unknown as Json);
    if (!isObj(desired)) throw badRequest('the body of the request must be a Node object');
    const m = isObj(desired['metadata']) ? desired['metadata'] : {};
    if (m['name'] !== undefined && m['name'] !== name) throw badRequest(`the name of the object (${String(m['name'])}) does not match the name on the URL (${name})`);
    const stated = rvPrecondition(stored.rv);
    if (stated !== undefined && stated !== String(stored.rv)) throw conflict(NODES, name);
    const events = planNodeWrite(node, desired);
    if (events.length === 0 || dryRun) return { code: 200, body: stored.object };
    try {
      const subject = nodeAdminSubject(name);
      let expect = (await lastOnSubject(ctx.jsm, subject)).seq;
      for (const event of events) {
        const ack = await publishEvent(ctx.js, { subject, event, expectLastSubjectSeq: expect });
        expect = ack.seq;
      }
      await ctx.model.waitForServed(expect);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS || stated !== undefined) throw err instanceof ConflictError ? conflict(NODES, name) : err;
      await ctx.model.catchUp();
      continue;
    }
    const after = ctx.model.get('nodes', '', name);
    if (!after) throw notFound(NODES, name);
    return { code: 200, body: after.object };
  }
}

export function patchNode(ctx: WriteContext, name: string, type: PatchType, patch: unknown, dryRun: boolean): Promise<WriteResult> {
  return writeNode(
    ctx,
    name,
    (current) => applyPatch(type, current, patch),
    () => {
      const m = isObj(patch) && isObj(patch['metadata']) ? patch['metadata'] : {};
      return typeof m['resourceVersion'] === 'string' ? m['resourceVersion'] : undefined;
    },
    dryRun,
  );
}

export function updateNode(ctx: WriteContext, name: string, body: unknown, dryRun: boolean): Promise<WriteResult> {
  const m = isObj(body) && isObj(body['metadata']) ? body['metadata'] : {};
  const rv = typeof m['resourceVersion'] === 'string' && m['resourceVersion'] !== '' ? m['resourceVersion'] : undefined;
  return writeNode(ctx, name, () => body, () => rv, dryRun);
}
