// `dsctl apply -f FILE|-`: parse every document, validate them all (a bad manifest is refused
// whole and nothing is written), then, in file order, write one NamespaceCreated per created or
// changed Namespace and one DaemonSetApplied per changed DaemonSet, each stating the last
// sequence it saw of its subject (optimistic concurrency: two conflicting applies cannot both
// win). A DaemonSet whose namespace neither exists nor is created earlier in the file is refused,
// as the API server's NamespaceLifecycle admission refuses it.
//
// A write the bus refuses does not hide what came before it: the documents that landed, the one
// that failed and why, and the ones not attempted are all reported (ApplyIncompleteError). A
// refusal of one document (a conflict) does not stop the others, as kubectl goes on with the
// rest of a file; a refusal of the bus itself (a full store, a lost connection, a permission)
// stops the writes, since the next ones would meet it too.

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type * as Yaml from 'yaml';
import { canonicalJson } from '../../libs/core/template-hash.js';
import { derivedNamespaceUid, isBuiltinNamespace, namespaceExists } from '../../libs/core/namespaces.js';
import type { DaemonSetApplied, DaemonSetDeleted, LogEvent, NamespaceCreated, NamespaceDeleted } from '../../libs/events/types.js';
import { parseNamespace, type NamespaceManifest } from '../../libs/model/namespace-manifest.js';
import { defaultDaemonSetSpec } from '../../libs/model/defaults.js';
import type { DaemonSetManifest, FieldError, Labels } from '../../libs/model/types.js';
import { formatFieldErrors, parseDaemonSet, validateDaemonSetUpdate } from '../../libs/model/validate.js';
import { permissionRefusal } from '../../libs/auth/permission-refusal.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { lastOnSubject, managerOf } from '../../libs/nats/subject-reads.js';
import { ensureTopology, readTopology } from '../../libs/nats/topology.js';
import { dsSubject, namespaceSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { ApplyIncompleteError, busRefusal, CliError } from './errors.js';
import { loadState } from './state-loader.js';

export type AppliedObject =
  | { readonly kind: 'Namespace'; readonly manifest: NamespaceManifest }
  | { readonly kind: 'DaemonSet'; readonly manifest: DaemonSetManifest };

export interface ParsedDocuments {
  readonly daemonSets: DaemonSetManifest[];
  readonly namespaces?: NamespaceManifest[];
  /** Namespaces and DaemonSets in file order: the order they are applied in. */
  readonly objects?: AppliedObject[];
  /** Documents of other kinds, skipped with a note. */
  readonly skipped: string[];
  /** The file as kubectl names it in errors (`STDIN` for -). */
  readonly source?: string;
}

/** More aliases than this in one document is an expansion attack ("billion laughs"), not a manifest. */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses multi-document YAML or JSON; throws a CliError naming every problem.
 *
 * Duplicate keys are found here in one pass per map, not by the yaml library's `uniqueKeys`,
 * which compares every pair of keys: a 10,000-key label map took 3 s, 40,000 keys 22 s
 * (found by test/unit/fuzz-manifests.test.ts).
 */
export async function parseManifests(text: string, source: string): Promise<ParsedDocuments> {
  const yaml = await import('yaml');
  const lineCounter = new yaml.LineCounter();
  // logLevel 'error': the library's warnings (a collection used as a key) go to process.emitWarning,
  // i.e. to dsctl's stderr with raw text from the file; what matters is refused below anyway.
  const docs = yaml.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false, lineCounter, logLevel: 'error' });
  const daemonSets: DaemonSetManifest[] = [];
  const namespaces: NamespaceManifest[] = [];
  const objects: AppliedObject[] = [];
  const skipped: string[] = [];
  const problems: string[] = [];
  let index = 0;
  for (const doc of docs) {
    index++;
    if (doc.errors.length) {
      problems.push(`error parsing ${source} (document ${index}): ${doc.errors[0]!.message}`);
      continue;
    }
    const duplicate = duplicateKey(yaml, doc);
    if (duplicate) {
      const { line, col } = lineCounter.linePos(duplicate.offset);
      problems.push(`error parsing ${source} (document ${index}): Map keys must be unique at line ${line}, column ${col}: ${duplicate.key}`);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // An alias bomb (ReferenceError: "Excessive alias count…") or a tree too deep to build.
      problems.push(`error parsing ${source} (document ${index}): ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const items = isList(value) ? value.items : [value];
    for (const item of items) {
      const kind = typeof item === 'object' && item !== null ? (item as { kind?: unknown }).kind : undefined;
      if (kind === 'Namespace') {
        const r = parseNamespace(item);
        if (r.ok) {
          namespaces.push(r.value);
          objects.push({ kind: 'Namespace', manifest: r.value });
        } else {
          problems.push(formatFieldErrors('Namespace', r.name, r.errors));
        }
        continue;
      }
      if (kind !== 'DaemonSet') {
        const name = (item as { metadata?: { name?: unknown } } | null)?.metadata?.name;
        skipped.push(`${typeof kind === 'string' ? kind : '<no kind>'}${typeof name === 'string' ? `/${name}` : ''}`);
        continue;
      }
      const r = parseDaemonSet(item);
      if (r.ok) {
        daemonSets.push(r.value);
        objects.push({ kind: 'DaemonSet', manifest: r.value });
      } else {
        const name = (item as { metadata?: { name?: unknown } }).metadata?.name;
        problems.push(formatFieldErrors('DaemonSet', typeof name === 'string' ? name : '', r.errors));
      }
    }
  }
  if (problems.length) throw new CliError(problems.join('\n'));
  return { daemonSets, namespaces, objects, skipped, source: source === '-' ? 'STDIN' : source };
}

/** The first key that appears twice in one map of the document (yaml's rule: equal scalar values), with its offset. */
function duplicateKey(yaml: typeof Yaml, doc: Yaml.Document.Parsed): { key: string; offset: number } | undefined {
  const { visit, isScalar } = yaml;
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) {
          const text = typeof key === 'string' ? key : String(key);
          const offset = isScalar(pair.key) && pair.key.range ? pair.key.range[0] : 0;
          found = { key: JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text), offset };
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

function isList(v: unknown): v is { items: unknown[] } {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'List' && Array.isArray((v as { items?: unknown }).items);
}

export async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`error: the path "${file}" does not exist or cannot be read (${(err as Error).message})`);
  }
}

export interface LastSpec {
  readonly seq: number;
  readonly event: DaemonSetApplied | DaemonSetDeleted;
}

/** The last event of `subject` when it is one of `types`; a CliError when the last record is something else. */
async function lastOfTypes<T extends LogEvent['type']>(
  jsm: JetStreamManager,
  subject: string,
  types: readonly T[],
): Promise<{ seq: number; event: Extract<LogEvent, { type: T }> } | undefined> {
  const last = await lastOnSubject(jsm, subject);
  if (last.seq === 0) return undefined;
  const event = last.event;
  if (event === undefined || !(types as readonly string[]).includes(event.type)) {
    throw new CliError(`error: the last record of ${subject} (seq ${last.seq}) is unreadable: ${event?.type ?? last.reason ?? 'unknown'}`);
  }
  return { seq: last.seq, event: event as Extract<LogEvent, { type: T }> };
}

/** The last spec event of one DaemonSet (a direct get of the subject's last message), if any. */
export function lastSpec(jsm: JetStreamManager, subject: string): Promise<LastSpec | undefined> {
  return lastOfTypes(jsm, subject, ['DaemonSetApplied', 'DaemonSetDeleted']);
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** The last event of a namespace's subject, if any. */
export function lastNamespaceEvent(jsm: JetStreamManager, name: string): Promise<{ seq: number; event: NamespaceCreated | NamespaceDeleted } | undefined> {
  return lastOfTypes(jsm, namespaceSubject(name), ['NamespaceCreated', 'NamespaceDeleted']);
}

function sameMap(a: Labels, b: Labels): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

interface Plan {
  readonly subject: string;
  readonly event?: DaemonSetApplied | NamespaceCreated;
  readonly expect: number;
  /** `daemonset.apps/NAME created`, `namespace/NAME unchanged` */
  readonly line: string;
  /** `daemonset.apps/NAME`, `namespace/NAME` */
  readonly ref: string;
  /** `daemonsets.apps "NAME"` for a conflict's message. */
  readonly resource: string;
}

/** A Namespace document: created (new uid), configured (same uid, new metadata) or unchanged. */
async function planNamespace(jsm: JetStreamManager, ns: NamespaceManifest): Promise<Plan> {
  const last = await lastNamespaceEvent(jsm, ns.name);
  const subject = namespaceSubject(ns.name);
  const resource = `namespaces "${ns.name}"`;
  const ref = `namespace/${ns.name}`;
  const prev = last?.event.type === 'NamespaceCreated' ? last.event.data : undefined;
  // A built-in exists without ever being written: its metadata starts empty, its uid is derived.
  const current = prev ?? (isBuiltinNamespace(ns.name) ? { uid: derivedNamespaceUid(ns.name), labels: {}, annotations: {} } : undefined);
  const data = { name: ns.name, labels: ns.labels, annotations: ns.annotations };
  if (current === undefined) {
    return { subject, expect: last?.seq ?? 0, line: `${ref} created`, ref, resource, event: { type: 'NamespaceCreated', v: 1, data: { ...data, uid: randomUUID() } } };
  }
  if (sameMap(current.labels, ns.labels) && sameMap(current.annotations, ns.annotations)) {
    return { subject, expect: last?.seq ?? 0, line: `${ref} unchanged`, ref, resource };
  }
  return { subject, expect: last?.seq ?? 0, line: `${ref} configured`, ref, resource, event: { type: 'NamespaceCreated', v: 1, data: { ...data, uid: current.uid } } };
}

export async function applyManifests(nc: NatsConnection, parsed: ParsedDocuments): Promise<{ lines: string[]; notes: string[] }> {
  // Create the topology only when there is none: creating checks every stream and bucket, and
  // each check is one more request that may meet a JetStream election.
  const { slots } = (await readTopology(nc)) ?? (await ensureTopology(nc));
  const jsm = await managerOf(nc);
  const js = jetstream(nc);
  const lines: string[] = [];
  const notes = parsed.skipped.map((s) => `note: skipping ${s}: dsctl manages Namespaces and DaemonSets only`);
  const objects: readonly AppliedObject[] = parsed.objects ?? parsed.daemonSets.map((manifest) => ({ kind: 'DaemonSet', manifest }));
  // Validate every object against what is stored before writing any of them.
  const plans: Plan[] = [];
  const problems: string[] = [];
  /** Namespaces known to exist: created earlier in the file, or found on the log. */
  const existing = new Set<string>();
  let folded: Awaited<ReturnType<typeof loadState>>['state'] | undefined;
  const namespaceFound = async (namespace: string): Promise<boolean> => {
    if (existing.has(namespace) || isBuiltinNamespace(namespace)) return true;
    if ((await lastNamespaceEvent(jsm, namespace))?.event.type === 'NamespaceCreated') return true;
    // An older log holds DaemonSets in namespaces never created: they exist too (see namespaces.ts).
    folded ??= (await loadState(nc, {})).state;
    return namespaceExists(folded, namespace);
  };
  for (const object of objects) {
    if (object.kind === 'Namespace') {
      plans.push(await planNamespace(jsm, object.manifest));
      existing.add(object.manifest.name);
      continue;
    }
    const m = object.manifest;
    const namespace = m.metadata.namespace ?? 'default';
    const name = m.metadata.name;
    const subject = dsSubject(dsSlot(namespace, name, slots), namespace, name);
    const last = await lastSpec(jsm, subject);
    const spec = defaultDaemonSetSpec(m.spec);
    const labels: Labels = m.metadata.labels ?? {};
    const annotations: Labels = m.metadata.annotations ?? {};
    const prev = last?.event.type === 'DaemonSetApplied' ? last.event.data : undefined;
    const resource = `daemonsets.apps "${name}"`;
    const ref = `daemonset.apps/${name}`;
    if (prev) {
      const errors: FieldError[] = validateDaemonSetUpdate(prev.spec, m.spec);
      if (errors.length) {
        problems.push(formatFieldErrors('DaemonSet', name, errors));
        continue;
      }
      const specSame = canonicalJson(prev.spec) === canonicalJson(spec);
      const metaSame = canonicalJson(prev.labels) === canonicalJson(labels) && canonicalJson(prev.annotations) === canonicalJson(annotations);
      if (specSame && metaSame) {
        plans.push({ subject, expect: last!.seq, line: `${ref} unchanged`, ref, resource });
        continue;
      }
      plans.push({
        subject,
        expect: last!.seq,
        line: `${ref} configured`,
        ref,
        resource,
        event: {
          type: 'DaemonSetApplied',
          v: 1,
          data: { namespace, name, uid: prev.uid, generation: specSame ? prev.generation : prev.generation + 1, labels, annotations, spec },
        },
      });
    } else {
      if (!(await namespaceFound(namespace))) {
        problems.push(`Error from server (NotFound): error when creating "${parsed.source ?? 'STDIN'}": namespaces "${namespace}" not found`);
        continue;
      }
      plans.push({
        subject,
        expect: last?.seq ?? 0,
        line: `${ref} created`,
        ref,
        resource,
        event: { type: 'DaemonSetApplied', v: 1, data: { namespace, name, uid: randomUUID(), generation: 1, labels, annotations, spec } },
      });
    }
  }
  if (problems.length) throw new CliError(problems.join('\n'));
  /** Every document's outcome, in file order. */
  const outcomes: string[] = [];
  const failures: string[] = [];
  let stopped = false;
  for (const p of plans) {
    if (!p.event) {
      lines.push(p.line);
      outcomes.push(p.line);
      continue;
    }
    if (stopped) {
      outcomes.push(`${p.ref}: not applied (an earlier document failed)`);
      continue;
    }
    const failure = await write(p, p.event);
    if (failure === undefined) {
      lines.push(p.line);
      outcomes.push(p.line);
      continue;
    }
    outcomes.push(`${p.ref}: not applied`);
    failures.push(failure.message);
    stopped = !failure.perDocument;
  }
  if (failures.length) {
    // One document: its error alone, as before. Several: what happened to each, then the errors.
    if (plans.length === 1) throw new CliError(failures[0]!);
    throw new ApplyIncompleteError({ applied: lines, notes, outcomes, failures });
  }
  return { lines, notes };

  /** Writes one document; undefined once it landed, else why not and whether the others may go on. */
  async function write(p: Plan, event: DaemonSetApplied | NamespaceCreated): Promise<{ message: string; perDocument: boolean } | undefined> {
    // With an id the write may be retried (patientRequests): a copy that already landed is
    // dropped by the server, or shows here as a conflict with our own message.
    const msgId = randomUUID();
    try {
      await publishEvent(js, { subject: p.subject, event, expectLastSubjectSeq: p.expect, msgId });
      return undefined;
    } catch (err) {
      if (err instanceof ConflictError && (await lastOnSubject(jsm, p.subject).catch(() => undefined))?.msgId === msgId) return undefined;
      if (err instanceof ConflictError) {
        return {
          message: `Error from server (Conflict): Operation cannot be fulfilled on ${p.resource}: the object has been modified; please apply your changes to the latest version and try again`,
          perDocument: true,
        };
      }
      const refusal = permissionRefusal(err);
      if (refusal) return { message: busRefusal(refusal).message, perDocument: false };
      // A full store (StoreFullError says what is full and what to do), a lost bus, a timeout.
      return { message: `error: ${p.ref} not applied: ${err instanceof Error ? err.message : String(err)}`, perDocument: false };
    }
  }
}


