// Validation at the decode boundary: a hand-written structural check of every event type at its
// current version. Anything that reaches the fold has the shape its type in types.ts promises, so
// the core never meets a missing field, a NaN slot or a 10 MB label. PURE.
//
// Older versions are upcast first (upcast.ts); here only the current version of each type passes.
// Unknown extra fields pass too (a newer writer may add optional fields); they are not copied: the
// event returned is the value given.
//
// Reasons name the type, version and path: `PodCreate v1: data.pod.name: expected string`.
// They never quote more than a bounded piece of the input, so they are safe to put in a header.

import type { AnyEvent, EventType } from './types.js';
import { eventNode } from './event-table.js';
import type {
  CommandRejected,
  DaemonSetApplied,
  DaemonSetDeleted,
  DaemonSetStatusUpdated,
  DsRef,
  Heartbeat,
  NamespaceCreated,
  NamespaceDeleted,
  NodeDeregistered,
  NodeLabelsSet,
  NodeNotReady,
  NodeReady,
  NodeRegistered,
  NodeTaintsSet,
  NodeUnschedulableSet,
  PodCreate,
  PodDelete,
  PodDeleted,
  PodFailed,
  PodNotReady,
  PodReady,
  PodReportBase,
  PodStarted,
  PodSucceeded,
  ShardAcquired,
  PodDeleteRequested,
  ClockTicked,
} from './types.js';
import type { Taint } from '../model/types.js';
import { isDns1123Label, isQualifiedName, isValidLabelValue } from '../model/label-syntax.js';
import { parseDaemonSet } from '../model/validate.js';
import type { RawEvent } from './upcast.js';

export type ValidationResult =
  | { readonly ok: true; readonly event: AnyEvent }
  | { readonly ok: false; readonly reason: string };

export type RawEventResult =
  | { readonly ok: true; readonly raw: RawEvent }
  | { readonly ok: false; readonly reason: string };

/** Any string: 64 KiB (UTF-16 code units). */
export const MAX_STRING_LENGTH = 65_536;
/** Names and ids: a DNS subdomain (Kubernetes' 253). */
export const MAX_NAME_LENGTH = 253;
/** Label, annotation and taint keys: a qualified name, `<253 prefix>/<63 name>`. */
export const MAX_KEY_LENGTH = 317;
/** Label values and taint values (Kubernetes' 63). */
export const MAX_LABEL_VALUE_LENGTH = 63;
/** Entries of any string map (labels, annotations, capacity). */
export const MAX_MAP_ENTRIES = 1000;
/** Entries of any array. */
export const MAX_ARRAY_ENTRIES = 10_000;
/** How much of an unknown type name a reason quotes. */
const MAX_QUOTED = 64;

// ---- checks ------------------------------------------------------------------------------
// A check returns undefined when the value is fine, else where below the value it failed and why.
// Paths are built while unwinding a failure, so a valid event allocates nothing here.

interface Failure {
  readonly path: string;
  readonly message: string;
}

type Check = (value: unknown) => Failure | undefined;

interface Optional {
  readonly optional: Check;
}

type Field = Check | Optional;

/** Fields of `T`, each with a check; optional fields of `T` must be `opt(...)`. */
type Shape<T> = { readonly [K in keyof T]-?: {} extends Pick<T, K> ? Optional : Check };

function fail(message: string): Failure {
  return { path: '', message };
}

function under(prefix: string, failure: Failure): Failure {
  return { path: prefix + failure.path, message: failure.message };
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Raw controls JSON.stringify leaves as they are (DEL, C1) and the line/paragraph separators. */
const UNESCAPED_CONTROL = /[\u007f-\u009f\u2028\u2029]/g;

/** A bounded, JSON-quoted piece of untrusted text with every control character escaped. */
function quote(text: string): string {
  const quoted = JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
  return quoted.replace(UNESCAPED_CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function str(min: number, max: number): Check {
  return (value) => {
    if (typeof value !== 'string') return fail('expected string');
    if (value.length > max) return fail(`longer than ${max} characters`);
    if (value.length < min) return fail('must not be empty');
    return undefined;
  };
}

/** A safe integer >= min: counts, sequences, epochs, slots, milliseconds. */
function int(min: number): Check {
  return (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) return fail('expected integer');
    if (value < min) return fail(`must be >= ${min}`);
    return undefined;
  };
}

const bool: Check = (value) => (typeof value === 'boolean' ? undefined : fail('expected boolean'));

const plainObject: Check = (value) => (isPlainObject(value) ? undefined : fail('expected object'));

/** An IntOrString: a safe integer or a string (a percentage; the manifest rules say which). */
const intOrString: Check = (value) =>
  typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value)) ? undefined : fail('expected integer or string');

function oneOf<T extends string>(values: readonly T[]): Check {
  const message = `expected one of ${values.join(', ')}`;
  return (value) => ((values as readonly unknown[]).includes(value) ? undefined : fail(message));
}

function opt(check: Check): Optional {
  return { optional: check };
}

function stringMap(maxValue: number): Check {
  return (value) => {
    if (!isPlainObject(value)) return fail('expected object');
    let entries = 0;
    for (const key in value) {
      if (++entries > MAX_MAP_ENTRIES) return fail(`more than ${MAX_MAP_ENTRIES} entries`);
      if (key.length === 0) return fail('empty key');
      if (key.length > MAX_KEY_LENGTH) return fail(`key longer than ${MAX_KEY_LENGTH} characters`);
      const entry = value[key];
      if (typeof entry !== 'string') return { path: `[${quote(key)}]`, message: 'expected string' };
      if (entry.length > maxValue) return { path: `[${quote(key)}]`, message: `longer than ${maxValue} characters` };
    }
    return undefined;
  };
}

function arrayOf(check: Check): Check {
  return (value) => {
    if (!Array.isArray(value)) return fail('expected array');
    if (value.length > MAX_ARRAY_ENTRIES) return fail(`more than ${MAX_ARRAY_ENTRIES} entries`);
    for (let i = 0; i < value.length; i++) {
      const failure = check(value[i]);
      if (failure !== undefined) return under(`[${i}]`, failure);
    }
    return undefined;
  };
}

interface CompiledField {
  readonly key: string;
  readonly check: Check;
  readonly optional: boolean;
}

/** A plain object whose listed fields pass their checks; other fields are not looked at. */
function object(fields: Readonly<Record<string, Field>>): Check {
  const compiled: readonly CompiledField[] = Object.entries(fields).map(([key, field]) =>
    typeof field === 'function' ? { key, check: field, optional: false } : { key, check: field.optional, optional: true },
  );
  return (value) => {
    if (!isPlainObject(value)) return fail('expected object');
    for (const { key, check, optional } of compiled) {
      const fieldValue = value[key];
      if (fieldValue === undefined) {
        if (optional) continue;
        return { path: `.${key}`, message: 'required' };
      }
      const failure = check(fieldValue);
      if (failure !== undefined) return under(`.${key}`, failure);
    }
    return undefined;
  };
}

/** `object` typed by the TypeScript shape it guards: a field added to types.ts fails to compile here. */
function shape<T>(fields: Shape<T>): Check {
  return object(fields as Readonly<Record<string, Field>>);
}

// ---- building blocks -------------------------------------------------------------------------

/** A lone surrogate: in `u` mode, surrogate pairs are one code point and do not match. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Names become subject tokens (libs/topology/escape.ts escapes their UTF-8 bytes), and a string
 * with a lone surrogate has no UTF-8 form: escaping would map `"\ud800"` and `"\udc00"` to the
 * same token. (Decoded MessagePack never holds one; values validated in-process may.)
 */
function name(min: number): Check {
  const length = str(min, MAX_NAME_LENGTH);
  return (value) => length(value) ?? (LONE_SURROGATE.test(value as string) ? fail('must be well-formed Unicode (no lone surrogates)') : undefined);
}

const NAME = name(1);
/** A name that may be empty: a rejection may concern a command whose pod was never named. */
const NAME_OR_EMPTY = name(0);
const TEXT = str(0, MAX_STRING_LENGTH);
const COUNT = int(0);
const LABELS = stringMap(MAX_LABEL_VALUE_LENGTH);
/** Annotations, capacity, allocatable: label-like keys, long values. */
const STRING_MAP = stringMap(MAX_STRING_LENGTH);

/** A namespace name: a DNS-1123 label (Kubernetes' ValidateNamespaceName). */
const NAMESPACE_NAME: Check = (value) => {
  const failure = NAME(value);
  if (failure !== undefined) return failure;
  const problem = isDns1123Label(value as string)[0];
  return problem === undefined ? undefined : fail(quoteField(problem));
};

/** Labels as ValidateLabels checks them: bounded sizes, then qualified-name keys and label values. */
const LABELS_WITH_SYNTAX: Check = (value) => {
  const failure = LABELS(value);
  if (failure !== undefined) return failure;
  for (const [key, entry] of Object.entries(value as Readonly<Record<string, string>>)) {
    const problem = isQualifiedName(key)[0] ?? isValidLabelValue(entry)[0];
    if (problem !== undefined) return { path: `[${quote(key)}]`, message: quoteField(problem) };
  }
  return undefined;
};

/** Annotations as ValidateAnnotations checks their keys: qualified names, case-insensitively. */
const ANNOTATIONS_WITH_SYNTAX: Check = (value) => {
  const failure = STRING_MAP(value);
  if (failure !== undefined) return failure;
  for (const key of Object.keys(value as Readonly<Record<string, string>>)) {
    const problem = isQualifiedName(key.toLowerCase())[0];
    if (problem !== undefined) return { path: `[${quote(key)}]`, message: quoteField(problem) };
  }
  return undefined;
};

const TAINT = shape<Taint>({
  key: str(1, MAX_KEY_LENGTH),
  value: opt(str(0, MAX_LABEL_VALUE_LENGTH)),
  effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  timeAdded: opt(TEXT),
});

/** Loose on purpose: a command's pod spec is built by the controller from a validated DaemonSet spec. */
const CONTAINER = object({ name: NAME, image: TEXT });
const POD_SPEC = object({ containers: arrayOf(CONTAINER) });

/** A piece of a manifest error (a field path may hold a label key), bounded and escaped. */
function quoteField(text: string): string {
  const bounded = text.length > 2 * MAX_QUOTED ? `${text.slice(0, 2 * MAX_QUOTED)}…` : text;
  return bounded.replace(/[\p{Cc}\u2028\u2029]/gu, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The spec passes the rules `dsctl apply` checked (libs/model parseDaemonSet, Kubernetes'
 * ValidateDaemonSetSpec): the core reads all of it (selector, tolerations, affinity, rolling-update
 * budgets), so a spec from any other writer must not reach the fold unchecked. Found by
 * test/unit/fuzz-events.test.ts: `rollingUpdate.maxUnavailable: [[1]]` threw in reconcile.
 */
const MANIFEST_SPEC: Check = (value) => {
  const r = parseDaemonSet({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'spec' }, spec: value });
  if (r.ok) return undefined;
  const first = r.errors[0];
  if (first === undefined) return fail('invalid');
  const path = first.field === 'spec' ? '' : first.field.startsWith('spec') ? first.field.slice('spec'.length) : `.${first.field}`;
  return { path: quoteField(path), message: quoteField(first.detail ? `${first.type}: ${first.detail}` : first.type) };
};

const ROLLING_UPDATE = object({ rollingUpdate: object({ maxUnavailable: intOrString, maxSurge: intOrString }) });
const UPDATE_STRATEGY: Check = (value) =>
  object({ type: oneOf(['RollingUpdate', 'OnDelete']) })(value) ??
  ((value as Readonly<Record<string, unknown>>)['type'] === 'RollingUpdate' ? ROLLING_UPDATE(value) : undefined);

/** The fields defaulting always fills (a DefaultedDaemonSetSpec), then the manifest rules. */
const DEFAULTED_SPEC = object({
  selector: plainObject,
  template: object({ metadata: opt(plainObject), spec: POD_SPEC }),
  updateStrategy: UPDATE_STRATEGY,
  minReadySeconds: COUNT,
  revisionHistoryLimit: COUNT,
});
const DAEMON_SET_SPEC: Check = (value) => DEFAULTED_SPEC(value) ?? MANIFEST_SPEC(value);

const DS_REF_FIELDS: Shape<DsRef> = { namespace: NAME, name: NAME, uid: NAME };
const COMMAND_META_FIELDS = { id: NAME, slot: COUNT, epoch: COUNT, node: NAME, causeSeq: COUNT, slotSeq: opt(COUNT), globalSeq: opt(COUNT) } as const;
const POD_REPORT_FIELDS: Shape<PodReportBase> = { node: NAME, namespace: NAME, podName: NAME, podUid: NAME };

// ---- one validator per type, at its current version -------------------------------------------

interface TypeValidator<E extends AnyEvent> {
  /** The current version: the only one validated (older ones are upcast first). */
  readonly v: E['v'];
  readonly data: Check;
}

type Validators = { readonly [K in EventType]: TypeValidator<Extract<AnyEvent, { type: K }>> };

const VALIDATORS: Validators = {
  DaemonSetApplied: {
    v: 1,
    data: shape<DaemonSetApplied['data']>({
      namespace: NAME,
      name: NAME,
      uid: NAME,
      generation: int(1),
      labels: LABELS,
      annotations: STRING_MAP,
      spec: DAEMON_SET_SPEC,
    }),
  },
  DaemonSetDeleted: {
    v: 1,
    data: shape<DaemonSetDeleted['data']>({
      ...DS_REF_FIELDS,
      propagation: oneOf(['background', 'foreground', 'orphan']),
    }),
  },
  NamespaceCreated: {
    v: 1,
    data: shape<NamespaceCreated['data']>({
      name: NAMESPACE_NAME,
      uid: NAME,
      labels: LABELS_WITH_SYNTAX,
      annotations: ANNOTATIONS_WITH_SYNTAX,
    }),
  },
  NamespaceDeleted: { v: 1, data: shape<NamespaceDeleted['data']>({ name: NAMESPACE_NAME, uid: NAME }) },
  NodeRegistered: {
    v: 1,
    data: shape<NodeRegistered['data']>({
      node: NAME,
      incarnation: NAME,
      labels: LABELS,
      capacity: STRING_MAP,
      allocatable: STRING_MAP,
    }),
  },
  NodeLabelsSet: { v: 1, data: shape<NodeLabelsSet['data']>({ node: NAME, source: oneOf(['agent', 'admin']), labels: LABELS }) },
  NodeTaintsSet: {
    v: 1,
    data: shape<NodeTaintsSet['data']>({ node: NAME, source: oneOf(['agent', 'admin']), taints: arrayOf(TAINT) }),
  },
  NodeUnschedulableSet: { v: 1, data: shape<NodeUnschedulableSet['data']>({ node: NAME, unschedulable: bool }) },
  NodeDeregistered: { v: 1, data: shape<NodeDeregistered['data']>({ node: NAME, incarnation: NAME }) },
  NodeReady: { v: 1, data: shape<NodeReady['data']>({ node: NAME }) },
  NodeNotReady: {
    v: 1,
    data: shape<NodeNotReady['data']>({
      node: NAME,
      status: oneOf(['False', 'Unknown']),
      reason: TEXT,
      lastHeartbeatMs: COUNT,
    }),
  },
  PodCreate: {
    v: 1,
    data: shape<PodCreate['data']>({
      ...COMMAND_META_FIELDS,
      ds: shape<DsRef>(DS_REF_FIELDS),
      pod: shape<PodCreate['data']['pod']>({
        namespace: NAME,
        name: NAME,
        uid: NAME,
        labels: LABELS,
        annotations: STRING_MAP,
        spec: POD_SPEC,
        hash: NAME,
        templateGeneration: COUNT,
      }),
    }),
  },
  PodDelete: {
    v: 1,
    data: shape<PodDelete['data']>({ ...COMMAND_META_FIELDS, namespace: NAME, podName: NAME, podUid: NAME, reason: TEXT, ds: opt(shape<DsRef>(DS_REF_FIELDS)) }),
  },
  PodStarted: { v: 1, data: shape<PodStarted['data']>({ ...POD_REPORT_FIELDS, restartCount: COUNT }) },
  PodReady: { v: 1, data: shape<PodReady['data']>(POD_REPORT_FIELDS) },
  PodNotReady: { v: 1, data: shape<PodNotReady['data']>({ ...POD_REPORT_FIELDS, reason: TEXT }) },
  PodFailed: {
    v: 1,
    data: shape<PodFailed['data']>({ ...POD_REPORT_FIELDS, reason: TEXT, exitCode: opt(int(Number.MIN_SAFE_INTEGER)) }),
  },
  PodSucceeded: { v: 1, data: shape<PodSucceeded['data']>(POD_REPORT_FIELDS) },
  PodDeleted: { v: 1, data: shape<PodDeleted['data']>(POD_REPORT_FIELDS) },
  CommandRejected: {
    v: 1,
    data: shape<CommandRejected['data']>({
      node: NAME,
      commandId: NAME,
      commandType: oneOf(['PodCreate', 'PodDelete']),
      slot: COUNT,
      epoch: COUNT,
      namespace: NAME_OR_EMPTY,
      podName: NAME_OR_EMPTY,
      podUid: NAME_OR_EMPTY,
      reason: oneOf(['StaleEpoch', 'Invalid', 'DriverError']),
      message: TEXT,
    }),
  },
  DaemonSetStatusUpdated: {
    v: 1,
    data: shape<DaemonSetStatusUpdated['data']>({
      ...DS_REF_FIELDS,
      status: shape<DaemonSetStatusUpdated['data']['status']>({
        desiredNumberScheduled: COUNT,
        currentNumberScheduled: COUNT,
        numberReady: COUNT,
        numberAvailable: COUNT,
        numberUnavailable: COUNT,
        updatedNumberScheduled: COUNT,
        numberMisscheduled: COUNT,
        observedGeneration: COUNT,
      }),
    }),
  },
  PodDeleteRequested: {
    v: 1,
    data: shape<PodDeleteRequested['data']>({ node: NAME, namespace: NAME, podName: NAME, podUid: NAME }),
  },
  ClockTicked: { v: 1, data: shape<ClockTicked['data']>({ slot: COUNT, reason: TEXT }) },
  ShardAcquired: { v: 1, data: shape<ShardAcquired['data']>({ slot: COUNT, owner: NAME, epoch: COUNT }) },
  Heartbeat: {
    v: 1,
    data: shape<Heartbeat['data']>({ node: NAME, incarnation: NAME, sentMs: COUNT }),
  },
};

/** A Map, so that no type name (`__proto__`, `toString`) reaches a prototype. */
const BY_TYPE: ReadonlyMap<string, TypeValidator<AnyEvent>> = new Map(Object.entries(VALIDATORS));

/** Every event type, in the order of the union in types.ts. */
export const EVENT_TYPES: readonly EventType[] = Object.keys(VALIDATORS) as EventType[];

/** The version writers write and validation accepts, per type. */
export function currentVersion(type: EventType): number {
  return VALIDATORS[type].v;
}

// ---- entry points ------------------------------------------------------------------------------

/** The `{ type: string, v: integer, data: object }` envelope every payload has, before upcasting. */
export function checkRawEvent(value: unknown): RawEventResult {
  if (!isPlainObject(value)) return { ok: false, reason: 'event: expected object' };
  const { type, v, data } = value;
  if (typeof type !== 'string') return { ok: false, reason: 'event.type: expected string' };
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return { ok: false, reason: 'event.v: expected integer' };
  if (!isPlainObject(data)) return { ok: false, reason: 'event.data: expected object' };
  return { ok: true, raw: value as unknown as RawEvent };
}

/** Validates an event at its current version; the event returned is `value` itself. */
export function validateEvent(value: unknown): ValidationResult {
  const checked = checkRawEvent(value);
  if (!checked.ok) return checked;
  const { type, v, data } = checked.raw;
  const validator = BY_TYPE.get(type);
  if (validator === undefined) return { ok: false, reason: `event.type: unknown event type ${quote(type)}` };
  if (v !== validator.v) return { ok: false, reason: `${type}: unsupported version ${v} (current: ${validator.v})` };
  const failure = validator.data(data);
  if (failure !== undefined) return { ok: false, reason: `${type} v${v}: data${failure.path}: ${failure.message}` };
  return { ok: true, event: value as AnyEvent };
}

/**
 * Whether the node named by the subject an event was read from (undefined when the subject names
 * none) is the node the event is about: an agent may only speak for its own node, and a command
 * or verdict filed under one node must concern that node. Events about no node match only a
 * subject that names no node.
 */
export function authorMatchesSubject(event: AnyEvent, subjectNode: string | undefined): boolean {
  return eventNode(event) === subjectNode;
}
