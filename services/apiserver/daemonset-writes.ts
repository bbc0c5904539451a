// Writes of apps/v1 DaemonSets through the API: create (POST), update (PUT), patch (strategic
// merge, JSON merge, JSON patch) and delete. Each is validated exactly as `dsctl apply` validates
// (parseDaemonSet, defaulting, the selector's immutability) and becomes one DaemonSetApplied or
// DaemonSetDeleted on the DaemonSet's subject, stating the last spec sequence it was decided on.

import { randomUUID } from 'node:crypto';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { TEMPLATE_GENERATION_ANNOTATION, rfc3339 } from '../../libs/core/k8s-objects.js';
import { namespaceExists } from '../../libs/core/namespaces.js';
import { dsKey, type DsRecord } from '../../libs/core/state.js';
import { canonicalJson, templateHash } from '../../libs/core/template-hash.js';
import type { DaemonSetApplied, DeletePropagation } from '../../libs/events/types.js';
import { defaultDaemonSetSpec } from '../../libs/model/defaults.js';
import type { Labels } from '../../libs/model/types.js';
import { parseDaemonSet, validateDaemonSetUpdate } from '../../libs/model/validate.js';
import { dsSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound, type GroupResource } from './api-errors.js';
import { validateFields, type FieldValidation } from './field-validation.js';
import { lastOnSubject } from '../../libs/nats/subject-reads.js';
import { WRITE_ATTEMPTS, type WriteContext } from './log-writes.js';
import { applyPatch, type PatchType } from './patch-types.js';
import type { Json } from './patch.js';
import type { ApiObject } from './stored-object.js';

export const DAEMONSETS: GroupResource = { group: 'apps', resource: 'daemonsets' };
export const NAMESPACES: GroupResource = { group: '', resource: 'namespaces' };

export interface WriteResult {
  /** 200, 201 (created) or 202 (accepted: a deletion still in progress). */
  readonly code: number;
  readonly body: unknown;
  /** `Warning` header values (fieldValidation=Warn). */
  readonly warnings?: readonly string[];
}

/** What every create, update and patch is asked with (query parameters). */
export interface WriteOptions {
  /** `dryRun=All`: decide and answer, write nothing. */
  readonly dryRun: boolean;
  readonly validation: FieldValidation;
}

/** A write refused because its namespace does not exist (kube's NamespaceLifecycle admission). */
export function checkNamespaceExists(ctx: WriteContext, namespace: string): void {
  if (!namespaceExists(ctx.model.state, namespace)) throw notFound(NAMESPACES, namespace);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function meta(body: Obj): Obj {
  return isObj(body['metadata']) ? body['metadata'] : {};
}

function stringMap(v: unknown): Labels {
  return isObj(v) ? (v as Labels) : {};
}

/** A visible DaemonSet (one deleted in the background is already gone for readers). */
function liveDaemonSet(ctx: WriteContext, namespace: string, name: string): DsRecord | undefined {
  const ds = ctx.model.state.daemonSets.get(dsKey(namespace, name));
  return ds && ds.deletion?.propagation !== 'background' ? ds : undefined;
}

/** Decisions read the folded state and the served objects: let them agree first. */
function settled(ctx: WriteContext): Promise<void> {
  return ctx.model.waitForServed(ctx.model.state.seq);
}

/** The URL's namespace wins when the body has none; a different one is refused (as the API server does). */
function checkNamespace(body: Obj, namespace: string): void {
  const ns = meta(body)['namespace'];
  if (ns !== undefined && ns !== null && ns !== '' && ns !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

interface Decided {
  readonly event: DaemonSetApplied | undefined;
  readonly expect: number;
}

/**
 * Validates `body` as the DaemonSet's next state and decides the event: none when nothing
 * changes. The deprecated template-generation annotation is the server's, never stored.
 */
function decide(namespace: string, name: string, body: Obj, current: DsRecord | undefined, expectForCreate: number): Decided {
  const m = meta(body);
  const annotations: Record<string, string> = { ...stringMap(m['annotations']) };
  delete annotations[TEMPLATE_GENERATION_ANNOTATION];
  const parsed = parseDaemonSet({
    apiVersion: body['apiVersion'],
    kind: body['kind'],
    metadata: { name, namespace, ...(m['labels'] !== undefined ? { labels: m['labels'] } : {}), annotations },
    spec: body['spec'],
  });
  if (!parsed.ok) throw invalid('apps', 'DaemonSet', name, parsed.errors);
  const spec = defaultDaemonSetSpec(parsed.value.spec);
  const labels: Labels = parsed.value.metadata.labels ?? {};
  const ann: Labels = parsed.value.metadata.annotations ?? {};
  if (!current) {
    return {
      event: { type: 'DaemonSetApplied', v: 1, data: { namespace, name, uid: randomUUID(), generation: 1, labels, annotations: ann, spec } },
      expect: expectForCreate,
    };
  }
  const errors = validateDaemonSetUpdate(current.spec, parsed.value.spec);
  if (errors.length > 0) throw invalid('apps', 'DaemonSet', name, errors);
  const specSame = canonicalJson(current.spec) === canonicalJson(spec);
  const metaSame = canonicalJson(current.labels) === canonicalJson(labels) && canonicalJson(current.annotations) === canonicalJson(ann);
  if (specSame && metaSame) return { event: undefined, expect: current.lastSpecSeq };
  return {
    event: {
      type: 'DaemonSetApplied',
      v: 1,
      data: { namespace, name, uid: current.uid, generation: specSame ? current.generation : current.generation + 1, labels, annotations: ann, spec },
    },
    expect: current.lastSpecSeq,
  };
}

/** What a dry run answers: the object as it would be stored, without status. */
function dryRunObject(event: DaemonSetApplied, current: DsRecord | undefined, nowMs: number): ApiObject {
  const d = event.data;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      uid: d.uid,
      generation: d.generation,
      resourceVersion: String(current?.lastSpecSeq ?? 0),
      creationTimestamp: rfc3339(current?.createdMs ?? nowMs),
      ...(Object.keys(d.labels).length > 0 ? { labels: d.labels } : {}),
      annotations: d.annotations,
    },
    spec: d.spec,
  };
}

/**
 * A dry-run update answers the object as it would be served (`kubectl diff` compares it with the
 * live one): the served object with the new metadata and spec, its status and resourceVersion kept.
 */
function dryRunUpdate(event: DaemonSetApplied, current: DsRecord, served: ApiObject): ApiObject {
  const d = event.data;
  const templateGeneration = current.templateGeneration + (templateHash(d.spec.template) === current.currentHash ? 0 : 1);
  const { labels: _labels, ...metadata } = served.metadata;
  return {
    ...served,
    metadata: {
      ...metadata,
      generation: d.generation,
      ...(Object.keys(d.labels).length > 0 ? { labels: d.labels } : {}),
      annotations: { ...d.annotations, [TEMPLATE_GENERATION_ANNOTATION]: String(templateGeneration) },
    },
    spec: d.spec,
  };
}

/** Publishes the decision and answers with the object as served once it is folded. */
async function commit(ctx: WriteContext, namespace: string, name: string, decided: Decided, created: boolean, dryRun: boolean, current: DsRecord | undefined, warnings: readonly string[]): Promise<WriteResult> {
  if (decided.event === undefined) return { code: 200, body: ctx.model.get('daemonsets', namespace, name)?.object ?? {}, warnings };
  if (dryRun) {
    const served = current ? ctx.model.get('daemonsets', namespace, name) : undefined;
    return { code: created ? 201 : 200, body: served && current ? dryRunUpdate(decided.event, current, served.object) : dryRunObject(decided.event, current, Date.now()), warnings };
  }
  const subject = dsSubject(dsSlot(namespace, name, ctx.model.slots), namespace, name);
  const ack = await publishEvent(ctx.js, { subject, event: decided.event, expectLastSubjectSeq: decided.expect });
  await ctx.model.waitForServed(ack.seq);
  const stored = ctx.model.get('daemonsets', namespace, name);
  if (!stored) throw new ApiError(500, 'InternalError', `daemonsets.apps "${name}" was written at sequence ${ack.seq} but is not served`);
  return { code: created ? 201 : 200, body: stored.object, warnings };
}

export async function createDaemonSet(ctx: WriteContext, namespace: string, raw: unknown, opts: WriteOptions): Promise<WriteResult> {
  await settled(ctx);
  if (!isObj(raw)) throw badRequest('the body of the request must be a DaemonSet object');
  const { body, warnings } = validateFields('DaemonSet', raw, opts.validation, 'create');
  return create(ctx, namespace, body as Obj, opts.dryRun, warnings);
}

/** A create of a validated body (POST, or a server-side apply of a DaemonSet that does not exist). */
async function create(ctx: WriteContext, namespace: string, body: Obj, dryRun: boolean, warnings: readonly string[]): Promise<WriteResult> {
  checkNamespace(body, namespace);
  const name = meta(body)['name'];
  if (typeof name !== 'string' || name === '') {
    throw invalid('apps', 'DaemonSet', '', [{ field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' }]);
  }
  checkNamespaceExists(ctx, namespace);
  if (liveDaemonSet(ctx, namespace, name)) throw alreadyExists(DAEMONSETS, name);
  const subject = dsSubject(dsSlot(namespace, name, ctx.model.slots), namespace, name);
  const last = await lastOnSubject(ctx.jsm, subject);
  // Written by someone else and not folded here yet, or a foreground delete still running.
  if (last.event?.type === 'DaemonSetApplied' || ctx.model.state.daemonSets.has(dsKey(namespace, name))) {
    if (last.event?.type === 'DaemonSetApplied' || ctx.model.state.daemonSets.get(dsKey(namespace, name))?.deletion?.propagation !== 'background') {
      throw alreadyExists(DAEMONSETS, name);
    }
  }
  const decided = decide(namespace, name, body, undefined, last.seq);
  try {
    return await commit(ctx, namespace, name, decided, true, dryRun, undefined, warnings);
  } catch (err) {
    if (err instanceof ConflictError) throw alreadyExists(DAEMONSETS, name);
    throw err;
  }
}

function checkIdentity(body: Obj, namespace: string, name: string, ds: DsRecord, storedRv: number | undefined): void {
  const m = meta(body);
  if (m['name'] !== undefined && m['name'] !== name) throw badRequest(`the name of the object (${String(m['name'])}) does not match the name on the URL (${name})`);
  checkNamespace(body, namespace);
  if (typeof m['uid'] === 'string' && m['uid'] !== '' && m['uid'] !== ds.uid) {
    throw conflict(DAEMONSETS, name, `Precondition failed: UID in precondition: ${m['uid']}, UID in object meta: ${ds.uid}`);
  }
  const rv = m['resourceVersion'];
  if (rv !== undefined && rv !== null && rv !== '' && String(rv) !== String(storedRv)) throw conflict(DAEMONSETS, name);
}

/** PUT: the whole object; a stale metadata.resourceVersion is a Conflict. */
export async function updateDaemonSet(ctx: WriteContext, namespace: string, name: string, raw: unknown, opts: WriteOptions): Promise<WriteResult> {
  await settled(ctx);
  if (!isObj(raw)) throw badRequest('the body of the request must be a DaemonSet object');
  const validated = validateFields('DaemonSet', raw, opts.validation, 'create');
  const body = validated.body as Obj;
  for (let attempt = 1; ; attempt++) {
    const ds = liveDaemonSet(ctx, namespace, name);
    if (!ds) throw notFound(DAEMONSETS, name);
    checkIdentity(body, namespace, name, ds, ctx.model.get('daemonsets', namespace, name)?.rv);
    const decided = decide(namespace, name, body, ds, 0);
    try {
      return await commit(ctx, namespace, name, decided, false, opts.dryRun, ds, validated.warnings);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // A precondition stated by the client is final; an unconditional update is decided again.
      const rv = meta(body)['resourceVersion'];
      if ((rv !== undefined && rv !== '') || attempt >= WRITE_ATTEMPTS) throw conflict(DAEMONSETS, name);
      await ctx.model.catchUp();
    }
  }
}

/**
 * PATCH: the patch applied to the object as served, the result written as an update. A
 * server-side apply (type `apply`) of a DaemonSet that does not exist creates it.
 */
export async function patchDaemonSet(ctx: WriteContext, namespace: string, name: string, type: PatchType, patch: unknown, opts: WriteOptions): Promise<WriteResult> {
  await settled(ctx);
  let warnings: readonly string[] = [];
  if (type === 'apply') {
    // The applied configuration is a whole object: validated as one, before it is merged.
    if (!isObj(patch)) throw badRequest('the body of the request must be a DaemonSet object');
    checkApplyIdentity(patch, name, 'DaemonSet', 'apps/v1');
    const validated = validateFields('DaemonSet', patch, opts.validation, 'patch');
    patch = validated.body;
    warnings = validated.warnings;
    if (!liveDaemonSet(ctx, namespace, name)) return create(ctx, namespace, patch as Obj, opts.dryRun, warnings);
  }
  for (let attempt = 1; ; attempt++) {
    const ds = liveDaemonSet(ctx, namespace, name);
    const stored = ctx.model.get('daemonsets', namespace, name);
    if (!ds || !stored) throw notFound(DAEMONSETS, name);
    let patched = applyPatch(type, stored.object as unknown as Json, patch);
    if (!isObj(patched)) throw badRequest('the patched object is not an object');
    if (type !== 'apply') {
      const validated = validateFields('DaemonSet', patched, opts.validation, 'patch');
      patched = validated.body as Json;
      warnings = validated.warnings;
    }
    const body = patched as Obj;
    checkIdentity(body, namespace, name, ds, stored.rv);
    const decided = decide(namespace, name, body, ds, 0);
    try {
      return await commit(ctx, namespace, name, decided, false, opts.dryRun, ds, warnings);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw err instanceof ConflictError ? conflict(DAEMONSETS, name) : err;
      await ctx.model.catchUp();
    }
  }
}

/** An apply configuration names its kind and object: `apiVersion`, `kind`, `metadata.name` (as the URL). */
export function checkApplyIdentity(body: Obj, name: string, kind: string, apiVersion: string): void {
  if (body['apiVersion'] !== apiVersion || body['kind'] !== kind) {
    throw badRequest(`the apply configuration must be a ${kind} of ${apiVersion} (got kind ${JSON.stringify(body['kind'] ?? '')}, apiVersion ${JSON.stringify(body['apiVersion'] ?? '')})`);
  }
  const m = meta(body);
  if (m['name'] !== undefined && m['name'] !== name) throw badRequest(`the name of the object (${String(m['name'])}) does not match the name on the URL (${name})`);
}

export interface DeleteOptions {
  readonly propagation: DeletePropagation;
  readonly preconditionUid?: string;
  readonly preconditionRv?: string;
}

/** `propagationPolicy` from the query or the DeleteOptions body (Background by default for apps/v1). */
export function deleteOptionsOf(query: URLSearchParams, body: unknown): DeleteOptions {
  const b = isObj(body) ? body : {};
  const policy = query.get('propagationPolicy') ?? (typeof b['propagationPolicy'] === 'string' ? b['propagationPolicy'] : undefined);
  const orphan = query.get('orphanDependents') === 'true' || b['orphanDependents'] === true;
  let propagation: DeletePropagation = orphan ? 'orphan' : 'background';
  if (policy !== undefined) {
    if (policy === 'Background') propagation = 'background';
    else if (policy === 'Foreground') propagation = 'foreground';
    else if (policy === 'Orphan') propagation = 'orphan';
    else {
      throw invalid('', 'DeleteOptions', '', [{ field: 'propagationPolicy', type: 'NotSupported', value: policy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' }]);
    }
  }
  const pre = isObj(b['preconditions']) ? b['preconditions'] : {};
  return {
    propagation,
    ...(typeof pre['uid'] === 'string' ? { preconditionUid: pre['uid'] } : {}),
    ...(typeof pre['resourceVersion'] === 'string' ? { preconditionRv: pre['resourceVersion'] } : {}),
  };
}

export async function deleteDaemonSet(ctx: WriteContext, namespace: string, name: string, opts: DeleteOptions, dryRun: boolean): Promise<WriteResult> {
  await settled(ctx);
  for (let attempt = 1; ; attempt++) {
    const ds = liveDaemonSet(ctx, namespace, name);
    const stored = ctx.model.get('daemonsets', namespace, name);
    if (!ds || !stored) throw notFound(DAEMONSETS, name);
    if (opts.preconditionUid !== undefined && opts.preconditionUid !== ds.uid) {
      throw conflict(DAEMONSETS, name, `Precondition failed: UID in precondition: ${opts.preconditionUid}, UID in object meta: ${ds.uid}`);
    }
    if (opts.preconditionRv !== undefined && opts.preconditionRv !== String(stored.rv)) {
      throw conflict(DAEMONSETS, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditionRv}, ResourceVersion in object meta: ${stored.rv}`);
    }
    const success = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'apps', kind: 'daemonsets', uid: ds.uid } };
    if (dryRun) return { code: 200, body: success };
    if (ds.deletion) return { code: 202, body: stored.object };
    const subject = dsSubject(ds.slot, namespace, name);
    try {
      const ack = await publishEvent(ctx.js, {
        subject,
        event: { type: 'DaemonSetDeleted', v: 1, data: { namespace, name, uid: ds.uid, propagation: opts.propagation } },
        expectLastSubjectSeq: ds.lastSpecSeq,
      });
      await ctx.model.waitForServed(ack.seq);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw err instanceof ConflictError ? conflict(DAEMONSETS, name) : err;
      await ctx.model.catchUp();
      continue;
    }
    // A foreground delete keeps the object (with its finalizer) until its pods are gone.
    const still = ctx.model.get('daemonsets', namespace, name);
    return still ? { code: 202, body: still.object } : { code: 200, body: success };
  }
}
