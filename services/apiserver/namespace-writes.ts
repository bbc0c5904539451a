// Writes of v1 Namespaces: create (POST), update (PUT), patch (strategic, merge, JSON, server-side
// apply) and delete. A namespace lives on its own subject, `g.ns.<name>`: a create or a change of
// its labels and annotations is one NamespaceCreated, a delete deletes its DaemonSets (one
// DaemonSetDeleted each, background propagation) and then writes NamespaceDeleted. Every write
// states the last sequence of that subject, so two creates of one name cannot both win.

import { randomUUID } from 'node:crypto';
import { namespaceObject, rfc3339 } from '../../libs/core/k8s-objects.js';
import { namespaceDeletion, namespaceView, UNDELETABLE_NAMESPACE, type NamespaceView } from '../../libs/core/namespaces.js';
import type { NamespaceCreated, NamespaceDeleted } from '../../libs/events/types.js';
import { parseNamespace, type NamespaceManifest } from '../../libs/model/namespace-manifest.js';
import type { Labels } from '../../libs/model/types.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { dsSubject, namespaceSubject } from '../../libs/topology/names.js';
import { alreadyExists, ApiError, badRequest, conflict, forbidden, invalid, notFound } from './api-errors.js';
import { checkApplyIdentity, NAMESPACES, type WriteOptions, type WriteResult } from './daemonset-writes.js';
import { validateFields } from './field-validation.js';
import { lastOnSubject } from '../../libs/nats/subject-reads.js';
import { WRITE_ATTEMPTS, type WriteContext } from './log-writes.js';
import { applyPatch, type PatchType } from './patch-types.js';
import type { Json } from './patch.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function meta(body: Obj): Obj {
  return isObj(body['metadata']) ? body['metadata'] : {};
}

function parse(body: Obj, name: string | undefined): NamespaceManifest {
  const m = meta(body);
  const filled = name !== undefined && m['name'] === undefined ? { ...body, metadata: { ...m, name } } : body;
  const r = parseNamespace(filled);
  if (!r.ok) throw invalid('', 'Namespace', r.name, r.errors);
  if (name !== undefined && r.value.name !== name) throw badRequest(`the name of the object (${r.value.name}) does not match the name on the URL (${name})`);
  return r.value;
}

function sameMap(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * The subject's last sequence, with the read model caught up to it: a decision made on the model
 * and published stating that sequence cannot miss a write on the subject.
 */
async function subjectHead(ctx: WriteContext, name: string): Promise<{ seq: number; event: string | undefined }> {
  const last = await lastOnSubject(ctx.jsm, namespaceSubject(name));
  await ctx.model.waitForServed(last.seq);
  return { seq: last.seq, event: last.event?.type };
}

async function publishNamespace(ctx: WriteContext, event: NamespaceCreated | NamespaceDeleted, expect: number): Promise<number> {
  const ack = await publishEvent(ctx.js, { subject: namespaceSubject(event.data.name), event, expectLastSubjectSeq: expect });
  await ctx.model.waitForServed(ack.seq);
  return ack.seq;
}

function served(ctx: WriteContext, name: string): Obj {
  const stored = ctx.model.get('namespaces', '', name);
  if (!stored) throw new ApiError(500, 'InternalError', `namespaces "${name}" was written but is not served`);
  return stored.object as unknown as Obj;
}

/** What a dry run answers: the namespace as it would be stored. */
function dryRunObject(ns: NamespaceManifest, current: NamespaceView | undefined, nowMs: number): unknown {
  return namespaceObject({
    name: ns.name,
    uid: current?.uid ?? randomUUID(),
    labels: ns.labels,
    annotations: ns.annotations,
    createdMs: current?.createdMs ?? nowMs,
    lastSeq: current?.lastSeq ?? 0,
    origin: 'created',
  });
}

async function create(ctx: WriteContext, ns: NamespaceManifest, opts: WriteOptions, warnings: readonly string[]): Promise<WriteResult> {
  const head = await subjectHead(ctx, ns.name);
  if (namespaceView(ctx.model.state, ns.name) || head.event === 'NamespaceCreated') throw alreadyExists(NAMESPACES, ns.name);
  if (opts.dryRun) return { code: 201, body: dryRunObject(ns, undefined, Date.now()), warnings };
  try {
    await publishNamespace(ctx, { type: 'NamespaceCreated', v: 1, data: { name: ns.name, uid: randomUUID(), labels: ns.labels, annotations: ns.annotations } }, head.seq);
  } catch (err) {
    if (err instanceof ConflictError) throw alreadyExists(NAMESPACES, ns.name);
    throw err;
  }
  return { code: 201, body: served(ctx, ns.name), warnings };
}

export async function createNamespace(ctx: WriteContext, raw: unknown, opts: WriteOptions): Promise<WriteResult> {
  if (!isObj(raw)) throw badRequest('the body of the request must be a Namespace object');
  const { body, warnings } = validateFields('Namespace', raw, opts.validation, 'create');
  return create(ctx, parse(body as Obj, undefined), opts, warnings);
}

/**
 * Writes `desiredOf(current object)` as the namespace's labels and annotations; `rvOf` is the
 * resourceVersion the client stated, if any (a stale one is a Conflict).
 */
async function write(ctx: WriteContext, name: string, desiredOf: (current: Json) => Obj, rvOf: () => string | undefined, opts: WriteOptions, warningsOf: () => readonly string[]): Promise<WriteResult> {
  for (let attempt = 1; ; attempt++) {
    const head = await subjectHead(ctx, name);
    const current = namespaceView(ctx.model.state, name);
    const stored = ctx.model.get('namespaces', '', name);
    if (!current || !stored) throw notFound(NAMESPACES, name);
    const stated = rvOf();
    if (stated !== undefined && stated !== '' && stated !== String(stored.rv)) throw conflict(NAMESPACES, name);
    const desired = desiredOf(stored.object as unknown as Json);
    const m = meta(desired);
    if (typeof m['uid'] === 'string' && m['uid'] !== '' && m['uid'] !== current.uid) {
      throw conflict(NAMESPACES, name, `Precondition failed: UID in precondition: ${m['uid']}, UID in object meta: ${current.uid}`);
    }
    const ns = parse(desired, name);
    const warnings = warningsOf();
    if (sameMap(ns.labels, current.labels) && sameMap(ns.annotations, current.annotations)) return { code: 200, body: stored.object, warnings };
    if (opts.dryRun) return { code: 200, body: dryRunObject(ns, current, Date.now()), warnings };
    try {
      await publishNamespace(ctx, { type: 'NamespaceCreated', v: 1, data: { name, uid: current.uid, labels: ns.labels, annotations: ns.annotations } }, head.seq);
      return { code: 200, body: served(ctx, name), warnings };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (stated !== undefined || attempt >= WRITE_ATTEMPTS) throw conflict(NAMESPACES, name);
    }
  }
}

export async function updateNamespace(ctx: WriteContext, name: string, raw: unknown, opts: WriteOptions): Promise<WriteResult> {
  if (!isObj(raw)) throw badRequest('the body of the request must be a Namespace object');
  const { body, warnings } = validateFields('Namespace', raw, opts.validation, 'create');
  const rv = meta(body as Obj)['resourceVersion'];
  return write(ctx, name, () => body as Obj, () => (typeof rv === 'string' ? rv : undefined), opts, () => warnings);
}

/** PATCH; a server-side apply of a namespace that does not exist creates it. */
export async function patchNamespace(ctx: WriteContext, name: string, type: PatchType, patch: unknown, opts: WriteOptions): Promise<WriteResult> {
  let warnings: readonly string[] = [];
  if (type === 'apply') {
    if (!isObj(patch)) throw badRequest('the body of the request must be a Namespace object');
    checkApplyIdentity(patch, name, 'Namespace', 'v1');
    const validated = validateFields('Namespace', patch, opts.validation, 'patch');
    patch = validated.body;
    warnings = validated.warnings;
    await ctx.model.waitForServed(ctx.model.state.seq);
    if (!namespaceView(ctx.model.state, name)) {
      const m = meta(patch as Obj);
      return create(ctx, parse({ ...(patch as Obj), metadata: { ...m, name } }, name), { ...opts }, warnings);
    }
  }
  const rv = isObj(patch) ? meta(patch)['resourceVersion'] : undefined;
  return write(
    ctx,
    name,
    (current) => {
      const patched = applyPatch(type, current, patch);
      if (!isObj(patched)) throw badRequest('the patched object is not an object');
      if (type === 'apply') return patched;
      const validated = validateFields('Namespace', patched, opts.validation, 'patch');
      warnings = validated.warnings;
      return validated.body as Obj;
    },
    () => (typeof rv === 'string' ? rv : undefined),
    opts,
    () => warnings,
  );
}

/**
 * DELETE: the namespace's DaemonSets first (background propagation, as the namespace controller
 * deletes the contents), then the namespace. Answers the namespace as it was, Terminating.
 */
export async function deleteNamespace(ctx: WriteContext, name: string, dryRun: boolean): Promise<WriteResult> {
  await ctx.model.waitForServed(ctx.model.state.seq);
  for (let attempt = 1; ; attempt++) {
    const head = await subjectHead(ctx, name);
    const plan = namespaceDeletion(ctx.model.state, name);
    if (!plan.ok) throw plan.reason === 'Forbidden' ? forbidden(NAMESPACES, name, UNDELETABLE_NAMESPACE) : notFound(NAMESPACES, name);
    const stored = ctx.model.get('namespaces', '', name);
    if (!stored) throw notFound(NAMESPACES, name);
    const terminating = { ...stored.object, metadata: { ...stored.object.metadata, deletionTimestamp: rfc3339(Date.now()) }, status: { phase: 'Terminating' } };
    if (dryRun) return { code: 200, body: terminating };
    try {
      for (const { ds, event } of plan.daemonSets) {
        const ack = await publishEvent(ctx.js, { subject: dsSubject(ds.slot, ds.namespace, ds.name), event, expectLastSubjectSeq: ds.lastSpecSeq });
        await ctx.model.waitForServed(ack.seq);
      }
      await publishNamespace(ctx, plan.event, head.seq);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // A DaemonSet or the namespace changed under us: decide again on the caught-up model.
      if (attempt >= WRITE_ATTEMPTS) throw conflict(NAMESPACES, name);
      await ctx.model.catchUp();
      continue;
    }
    return { code: 200, body: terminating };
  }
}
