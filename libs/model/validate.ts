// Manifest validation at the decode boundary: an untrusted object (from YAML or JSON) becomes a
// typed DaemonSetManifest, or the complete list of what is wrong with it, each with the field
// path and wording Kubernetes uses (pkg/apis/apps/validation ValidateDaemonSet,
// pkg/apis/core/validation, apimachinery metav1 validation). Never throws.
//
// Wrong JSON types, which Kubernetes reports as decode errors, are reported here as Invalid
// values ("must be of type object") at the field's path, so one pass reports everything.

import type {
  DaemonSetManifest,
  DaemonSetSpec,
  DefaultedDaemonSetSpec,
  FieldError,
  LabelSelector,
  Labels,
  PodSpec,
  PodTemplateSpec,
} from './types.js';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from './label-syntax.js';
import { matchesSelector, parseInt64 } from './selectors.js';
import { TAINT_EFFECTS } from './taints.js';

export type ParseResult =
  | { readonly ok: true; readonly value: DaemonSetManifest }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

type Obj = Readonly<Record<string, unknown>>;
type Errs = FieldError[];

const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----------------------------

function required(errs: Errs, field: string, detail = ''): void {
  errs.push({ field, type: 'Required', detail });
}

function invalid(errs: Errs, field: string, value: unknown, detail: string): void {
  errs.push({ field, type: 'Invalid', value, detail });
}

function notSupported(errs: Errs, field: string, value: unknown, supported: readonly string[]): void {
  errs.push({ field, type: 'NotSupported', value, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` });
}

function forbidden(errs: Errs, field: string, detail: string): void {
  errs.push({ field, type: 'Forbidden', detail });
}

function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

// ---- JSON type checks: absent (undefined or null) is not an error here -------------------------

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function absent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

function wrongType(errs: Errs, path: string, value: unknown, type: string): void {
  invalid(errs, path, value, `must be of type ${type}`);
}

function optObj(errs: Errs, path: string, v: unknown): Obj | undefined {
  if (absent(v)) return undefined;
  if (isObj(v)) return v;
  wrongType(errs, path, v, 'object');
  return undefined;
}

/** An array element: null is as wrong as any other non-object. */
function itemObj(errs: Errs, path: string, v: unknown): Obj | undefined {
  if (isObj(v)) return v;
  wrongType(errs, path, v, 'object');
  return undefined;
}

function optArray(errs: Errs, path: string, v: unknown): readonly unknown[] | undefined {
  if (absent(v)) return undefined;
  if (Array.isArray(v)) return v;
  wrongType(errs, path, v, 'array');
  return undefined;
}

function optString(errs: Errs, path: string, v: unknown): string | undefined {
  if (absent(v)) return undefined;
  if (typeof v === 'string') return v;
  wrongType(errs, path, v, 'string');
  return undefined;
}

function optBool(errs: Errs, path: string, v: unknown): boolean | undefined {
  if (absent(v)) return undefined;
  if (typeof v === 'boolean') return v;
  wrongType(errs, path, v, 'boolean');
  return undefined;
}

function optInt(errs: Errs, path: string, v: unknown): number | undefined {
  if (absent(v)) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  wrongType(errs, path, v, 'integer');
  return undefined;
}

function stringArray(errs: Errs, path: string, v: unknown): readonly string[] | undefined {
  const arr = optArray(errs, path, v);
  if (!arr) return undefined;
  let ok = true;
  arr.forEach((item, i) => {
    if (typeof item !== 'string') {
      wrongType(errs, index(path, i), item, 'string');
      ok = false;
    }
  });
  return ok ? (arr as readonly string[]) : undefined;
}

/** A map of strings (labels, annotations, nodeSelector); undefined when it is not one. */
function stringMap(errs: Errs, path: string, v: unknown): Labels | undefined {
  const o = optObj(errs, path, v);
  if (!o) return undefined;
  let ok = true;
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') {
      wrongType(errs, key(path, k), val, 'string');
      ok = false;
    }
  }
  return ok ? (o as Labels) : undefined;
}

function nonNegative(errs: Errs, path: string, value: number): void {
  if (value < 0) invalid(errs, path, value, 'must be greater than or equal to 0');
}

// ---- names and labels ------------------------------------------------------------------------

/** ValidateLabelName. */
function validateLabelName(errs: Errs, path: string, name: string): void {
  for (const msg of isQualifiedName(name)) invalid(errs, path, name, msg);
}

/** ValidateLabels: keys and values, every error at the map's path. */
function validateLabels(errs: Errs, path: string, v: unknown): Labels | undefined {
  const labels = stringMap(errs, path, v);
  if (!labels) return undefined;
  for (const k of Object.keys(labels).sort()) {
    validateLabelName(errs, path, k);
    for (const msg of isValidLabelValue(labels[k] ?? '')) invalid(errs, path, labels[k], msg);
  }
  return labels;
}

/** ValidateAnnotations: qualified keys (case-insensitive), total size. */
function validateAnnotations(errs: Errs, path: string, v: unknown): Labels | undefined {
  const annotations = stringMap(errs, path, v);
  if (!annotations) return undefined;
  let size = 0;
  for (const k of Object.keys(annotations).sort()) {
    for (const msg of isQualifiedName(k.toLowerCase())) invalid(errs, path, k, msg);
    size += utf8Length(k) + utf8Length(annotations[k] ?? '');
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    errs.push({ field: path, type: 'TooLong', detail: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT_BYTES} bytes` });
  }
  return annotations;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

// ---- label selector (metav1 validation) -----------------------------------------------------

/** ValidateLabelSelector; returns the selector when it is well-formed enough to evaluate. */
function validateLabelSelector(errs: Errs, path: string, o: Obj): LabelSelector | undefined {
  const before = errs.length;
  validateLabels(errs, child(path, 'matchLabels'), o['matchLabels']);
  const exprs = optArray(errs, child(path, 'matchExpressions'), o['matchExpressions']);
  exprs?.forEach((e, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const expr = itemObj(errs, p, e);
    if (!expr) return;
    const operator = optString(errs, child(p, 'operator'), expr['operator']);
    const values = stringArray(errs, child(p, 'values'), expr['values']) ?? [];
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) required(errs, child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'");
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) forbidden(errs, child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        break;
      default:
        invalid(errs, child(p, 'operator'), operator ?? '', 'not a valid selector operator');
    }
    const k = optString(errs, child(p, 'key'), expr['key']) ?? '';
    validateLabelName(errs, child(p, 'key'), k);
    values.forEach((val, j) => {
      for (const msg of isValidLabelValue(val)) invalid(errs, index(child(p, 'values'), j), val, msg);
    });
  });
  return errs.length === before ? (o as LabelSelector) : undefined;
}

// ---- pod template (core validation) ---------------------------------------------------------

function validateContainers(errs: Errs, path: string, v: unknown, names: Set<string>, requireOne: boolean): void {
  const list = optArray(errs, path, v);
  if (requireOne && (list === undefined || list.length === 0)) {
    if (list !== undefined || absent(v)) required(errs, path);
    return;
  }
  list?.forEach((c, i) => {
    const p = index(path, i);
    const ctr = itemObj(errs, p, c);
    if (!ctr) return;
    const name = optString(errs, child(p, 'name'), ctr['name']);
    if (name === undefined || name === '') {
      if (absent(ctr['name']) || name === '') required(errs, child(p, 'name'));
    } else {
      for (const msg of isDns1123Label(name)) invalid(errs, child(p, 'name'), name, msg);
      if (names.has(name)) errs.push({ field: child(p, 'name'), type: 'Duplicate', value: name, detail: '' });
      names.add(name);
    }
    const image = optString(errs, child(p, 'image'), ctr['image']);
    if (image === undefined || image === '') {
      if (absent(ctr['image']) || image === '') required(errs, child(p, 'image'));
    } else if (image.trim() !== image) {
      invalid(errs, child(p, 'image'), image, 'must not have leading or trailing whitespace');
    }
    stringArray(errs, child(p, 'command'), ctr['command']);
    stringArray(errs, child(p, 'args'), ctr['args']);
    optString(errs, child(p, 'workingDir'), ctr['workingDir']);
    const pullPolicy = optString(errs, child(p, 'imagePullPolicy'), ctr['imagePullPolicy']);
    if (pullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(pullPolicy)) {
      notSupported(errs, child(p, 'imagePullPolicy'), pullPolicy, ['Always', 'IfNotPresent', 'Never']);
    }
    optArray(errs, child(p, 'env'), ctr['env'])?.forEach((e, j) => {
      const ep = index(child(p, 'env'), j);
      const env = itemObj(errs, ep, e);
      if (!env) return;
      const envName = optString(errs, child(ep, 'name'), env['name']);
      if (envName === undefined || envName === '') {
        if (absent(env['name']) || envName === '') required(errs, child(ep, 'name'));
      }
      optString(errs, child(ep, 'value'), env['value']);
    });
    optArray(errs, child(p, 'ports'), ctr['ports'])?.forEach((e, j) => {
      const pp = index(child(p, 'ports'), j);
      const port = itemObj(errs, pp, e);
      if (!port) return;
      const containerPort = optInt(errs, child(pp, 'containerPort'), port['containerPort']);
      if (containerPort === undefined) {
        if (absent(port['containerPort'])) required(errs, child(pp, 'containerPort'));
      } else {
        portNumber(errs, child(pp, 'containerPort'), containerPort);
      }
      const hostPort = optInt(errs, child(pp, 'hostPort'), port['hostPort']);
      if (hostPort !== undefined && hostPort !== 0) portNumber(errs, child(pp, 'hostPort'), hostPort);
      const protocol = optString(errs, child(pp, 'protocol'), port['protocol']);
      if (protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(protocol)) {
        notSupported(errs, child(pp, 'protocol'), protocol, ['SCTP', 'TCP', 'UDP']);
      }
    });
    for (const probeName of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probe = optObj(errs, child(p, probeName), ctr[probeName]);
      if (!probe) continue;
      for (const handler of ['exec', 'httpGet', 'tcpSocket']) optObj(errs, child(child(p, probeName), handler), probe[handler]);
      for (const n of ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold']) {
        const value = optInt(errs, child(child(p, probeName), n), probe[n]);
        if (value !== undefined) nonNegative(errs, child(child(p, probeName), n), value);
      }
    }
    optObj(errs, child(p, 'resources'), ctr['resources']);
    optArray(errs, child(p, 'volumeMounts'), ctr['volumeMounts']);
  });
}

function portNumber(errs: Errs, path: string, port: number): void {
  if (port < 1 || port > 65535) invalid(errs, path, port, 'must be between 1 and 65535, inclusive');
}

/** ValidateTolerations. */
function validateTolerations(errs: Errs, path: string, v: unknown): void {
  optArray(errs, path, v)?.forEach((t, i) => {
    const p = index(path, i);
    const tol = itemObj(errs, p, t);
    if (!tol) return;
    const k = optString(errs, child(p, 'key'), tol['key']) ?? '';
    const operator = optString(errs, child(p, 'operator'), tol['operator']) ?? '';
    const value = optString(errs, child(p, 'value'), tol['value']) ?? '';
    const effect = optString(errs, child(p, 'effect'), tol['effect']) ?? '';
    const seconds = optInt(errs, child(p, 'tolerationSeconds'), tol['tolerationSeconds']);
    if (k.length > 0) validateLabelName(errs, child(p, 'key'), k);
    if (k.length === 0 && operator !== 'Exists') {
      invalid(errs, child(p, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"');
    }
    if (seconds !== undefined && effect !== 'NoExecute') {
      invalid(errs, child(p, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    switch (operator) {
      case '':
      case 'Equal':
        for (const msg of isValidLabelValue(value)) invalid(errs, child(p, 'operator'), value, msg);
        break;
      case 'Exists':
        if (value.length > 0) invalid(errs, child(p, 'operator'), tol, "value must be empty when `operator` is 'Exists'");
        break;
      default:
        notSupported(errs, child(p, 'operator'), operator, ['Equal', 'Exists']);
    }
    if (effect.length > 0 && !(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      notSupported(errs, child(p, 'effect'), effect, TAINT_EFFECTS);
    }
  });
}

/** ValidateNodeSelectorRequirement (labels) and ValidateNodeFieldSelectorRequirement (fields). */
function validateNodeSelectorRequirement(errs: Errs, p: string, r: unknown, fields: boolean): void {
  const req = itemObj(errs, p, r);
  if (!req) return;
  const operator = optString(errs, child(p, 'operator'), req['operator']) ?? '';
  const values = stringArray(errs, child(p, 'values'), req['values']) ?? [];
  const k = optString(errs, child(p, 'key'), req['key']) ?? '';
  if (fields) {
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length !== 1) {
        required(errs, child(p, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector");
      }
    } else {
      invalid(errs, child(p, 'operator'), operator, 'not a valid selector operator');
    }
    if (k !== 'metadata.name') {
      invalid(errs, child(p, 'key'), k, 'not a valid field selector key');
    } else {
      values.forEach((val, j) => {
        for (const msg of isDns1123Subdomain(val)) invalid(errs, index(child(p, 'values'), j), val, msg);
      });
    }
    return;
  }
  switch (operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) required(errs, child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'");
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) forbidden(errs, child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) {
        required(errs, child(p, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'");
      } else if (parseInt64(values[0] ?? '') === undefined) {
        // Stricter than the API server, which accepts the value and then never matches it.
        invalid(errs, index(child(p, 'values'), 0), values[0], "must be an integer when `operator` is 'Lt' or 'Gt'");
      }
      break;
    default:
      invalid(errs, child(p, 'operator'), operator, 'not a valid selector operator');
  }
  validateLabelName(errs, child(p, 'key'), k);
  values.forEach((val, j) => {
    for (const msg of isValidLabelValue(val)) invalid(errs, index(child(p, 'values'), j), val, msg);
  });
}

function validateAffinity(errs: Errs, path: string, v: unknown): void {
  const affinity = optObj(errs, path, v);
  if (!affinity) return;
  optObj(errs, child(path, 'podAffinity'), affinity['podAffinity']);
  optObj(errs, child(path, 'podAntiAffinity'), affinity['podAntiAffinity']);
  const naPath = child(path, 'nodeAffinity');
  const na = optObj(errs, naPath, affinity['nodeAffinity']);
  if (!na) return;
  optArray(errs, child(naPath, 'preferredDuringSchedulingIgnoredDuringExecution'), na['preferredDuringSchedulingIgnoredDuringExecution']);
  const reqPath = child(naPath, 'requiredDuringSchedulingIgnoredDuringExecution');
  const req = optObj(errs, reqPath, na['requiredDuringSchedulingIgnoredDuringExecution']);
  if (!req) return;
  const termsPath = child(reqPath, 'nodeSelectorTerms');
  const terms = optArray(errs, termsPath, req['nodeSelectorTerms']);
  if (terms === undefined && !absent(req['nodeSelectorTerms'])) return;
  if (terms === undefined || terms.length === 0) {
    required(errs, termsPath, 'must have at least one node selector term');
    return;
  }
  terms.forEach((t, i) => {
    const tp = index(termsPath, i);
    const term = itemObj(errs, tp, t);
    if (!term) return;
    optArray(errs, child(tp, 'matchExpressions'), term['matchExpressions'])?.forEach((r, j) =>
      validateNodeSelectorRequirement(errs, index(child(tp, 'matchExpressions'), j), r, false),
    );
    optArray(errs, child(tp, 'matchFields'), term['matchFields'])?.forEach((r, j) =>
      validateNodeSelectorRequirement(errs, index(child(tp, 'matchFields'), j), r, true),
    );
  });
}

/**
 * ValidatePodTemplateSpec plus the DaemonSet-only rules on the template's spec. Returns the
 * template labels ({} when absent), or undefined when they are malformed and cannot be matched.
 */
function validateTemplate(errs: Errs, path: string, t: Obj): Labels | undefined {
  const metaPath = child(path, 'metadata');
  const meta = optObj(errs, metaPath, t['metadata']);
  const labelsPath = child(metaPath, 'labels');
  const labels = meta ? validateLabels(errs, labelsPath, meta['labels']) : undefined;
  // Labels with bad syntax can still be matched; labels of the wrong JSON type cannot.
  const usable = absent(t['metadata']) || (meta !== undefined && (absent(meta['labels']) || labels !== undefined));
  const matchable = usable ? (labels ?? {}) : undefined;
  if (meta) validateAnnotations(errs, child(metaPath, 'annotations'), meta['annotations']);

  const specPath = child(path, 'spec');
  const spec = optObj(errs, specPath, t['spec']);
  if (!spec) {
    if (absent(t['spec'])) required(errs, specPath);
    return matchable;
  }
  optArray(errs, child(specPath, 'volumes'), spec['volumes']);
  const names = new Set<string>();
  validateContainers(errs, child(specPath, 'initContainers'), spec['initContainers'], names, false);
  validateContainers(errs, child(specPath, 'containers'), spec['containers'], names, true);

  const restartPolicy = optString(errs, child(specPath, 'restartPolicy'), spec['restartPolicy']);
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    notSupported(errs, child(specPath, 'restartPolicy'), restartPolicy, ['Always']);
  }
  const dnsPolicy = optString(errs, child(specPath, 'dnsPolicy'), spec['dnsPolicy']);
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (dnsPolicy !== undefined && !dnsPolicies.includes(dnsPolicy)) notSupported(errs, child(specPath, 'dnsPolicy'), dnsPolicy, dnsPolicies);

  const nodeName = optString(errs, child(specPath, 'nodeName'), spec['nodeName']);
  if (nodeName !== undefined && nodeName !== '') {
    for (const msg of isDns1123Subdomain(nodeName)) invalid(errs, child(specPath, 'nodeName'), nodeName, msg);
  }
  validateLabels(errs, child(specPath, 'nodeSelector'), spec['nodeSelector']);
  optBool(errs, child(specPath, 'hostNetwork'), spec['hostNetwork']);
  const grace = optInt(errs, child(specPath, 'terminationGracePeriodSeconds'), spec['terminationGracePeriodSeconds']);
  if (grace !== undefined) nonNegative(errs, child(specPath, 'terminationGracePeriodSeconds'), grace);
  optString(errs, child(specPath, 'serviceAccountName'), spec['serviceAccountName']);
  optString(errs, child(specPath, 'priorityClassName'), spec['priorityClassName']);
  validateAffinity(errs, child(specPath, 'affinity'), spec['affinity']);
  validateTolerations(errs, child(specPath, 'tolerations'), spec['tolerations']);

  if (!absent(spec['activeDeadlineSeconds'])) {
    invalid(errs, child(specPath, 'activeDeadlineSeconds'), spec['activeDeadlineSeconds'], 'activeDeadlineSeconds in DaemonSet is not Supported');
  }
  return matchable;
}

// ---- update strategy --------------------------------------------------------------------------

const PERCENT_RE = /^[0-9]+%$/;
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** ValidatePositiveIntOrPercent and IsNotMoreThan100Percent; returns the numeric value (0 when invalid). */
function validateIntOrPercent(errs: Errs, path: string, v: unknown): number {
  if (typeof v === 'string') {
    if (!PERCENT_RE.test(v)) {
      invalid(errs, path, v, PERCENT_MSG);
      return /^[+-]?[0-9]+$/.test(v) ? Number(v) : 0; // IntOrString.IntValue: Atoi of the string
    }
    const pct = Number(v.slice(0, -1));
    if (pct > 100) invalid(errs, path, v, 'must not be greater than 100%');
    return pct;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    nonNegative(errs, path, v);
    return v;
  }
  invalid(errs, path, v, "must be an integer or percentage (e.g '5%')");
  return 0;
}

/** ValidateDaemonSetUpdateStrategy on the strategy as apps/v1 defaulting leaves it. */
function validateUpdateStrategy(errs: Errs, path: string, v: unknown): void {
  const strategy = optObj(errs, path, v) ?? {};
  const typePath = child(path, 'type');
  const type = optString(errs, typePath, strategy['type']) ?? 'RollingUpdate';
  if (type === 'OnDelete') return;
  if (type !== 'RollingUpdate') {
    notSupported(errs, path, strategy, ['RollingUpdate', 'OnDelete']);
    return;
  }
  const ruPath = child(path, 'rollingUpdate');
  const ru = optObj(errs, ruPath, strategy['rollingUpdate']) ?? {};
  const muPath = child(ruPath, 'maxUnavailable');
  const msPath = child(ruPath, 'maxSurge');
  const maxUnavailable = absent(ru['maxUnavailable']) ? 1 : ru['maxUnavailable'];
  const maxSurge = absent(ru['maxSurge']) ? 0 : ru['maxSurge'];
  const mu = validateIntOrPercent(errs, muPath, maxUnavailable);
  const ms = validateIntOrPercent(errs, msPath, maxSurge);
  if (mu !== 0 && ms !== 0) invalid(errs, msPath, maxSurge, 'may not be set when maxUnavailable is non-zero');
  if (mu === 0 && ms === 0) required(errs, muPath, 'cannot be 0 when maxSurge is 0');
}

// ---- the DaemonSet ------------------------------------------------------------------------------

/** Validates an untrusted object as a DaemonSet manifest (ValidateDaemonSet). Never throws. */
export function parseDaemonSet(input: unknown): ParseResult {
  const errs: Errs = [];
  if (!isObj(input)) {
    invalid(errs, '<root>', input, 'must be of type object (a DaemonSet manifest)');
    return { ok: false, errors: errs };
  }
  const shapeProblem = plainDataProblem(input);
  if (shapeProblem !== undefined) {
    invalid(errs, shapeProblem.field, '...', shapeProblem.detail);
    return { ok: false, errors: errs };
  }
  const apiVersion = input['apiVersion'];
  if (absent(apiVersion) || apiVersion === '') required(errs, 'apiVersion');
  else if (apiVersion !== 'apps/v1') notSupported(errs, 'apiVersion', apiVersion, ['apps/v1']);
  const kind = input['kind'];
  if (absent(kind) || kind === '') required(errs, 'kind');
  else if (kind !== 'DaemonSet') notSupported(errs, 'kind', kind, ['DaemonSet']);

  // ValidateObjectMeta
  const meta = optObj(errs, 'metadata', input['metadata']);
  if (!meta && absent(input['metadata'])) required(errs, 'metadata.name', 'name or generateName is required');
  let name: string | undefined;
  let namespace: string | undefined;
  let labels: Labels | undefined;
  let annotations: Labels | undefined;
  if (meta) {
    name = optString(errs, 'metadata.name', meta['name']);
    if (name === undefined || name === '') {
      if (absent(meta['name']) || name === '') required(errs, 'metadata.name', 'name or generateName is required');
    } else {
      for (const msg of isDns1123Subdomain(name)) invalid(errs, 'metadata.name', name, msg);
    }
    namespace = optString(errs, 'metadata.namespace', meta['namespace']);
    if (namespace !== undefined && namespace !== '') {
      for (const msg of isDns1123Label(namespace)) invalid(errs, 'metadata.namespace', namespace, msg);
    }
    labels = validateLabels(errs, 'metadata.labels', meta['labels']);
    annotations = validateAnnotations(errs, 'metadata.annotations', meta['annotations']);
  }

  // ValidateDaemonSetSpec
  const spec = optObj(errs, 'spec', input['spec']);
  if (!spec) {
    if (absent(input['spec'])) required(errs, 'spec');
    return { ok: false, errors: errs };
  }
  const selectorPath = 'spec.selector';
  const selectorObj = optObj(errs, selectorPath, spec['selector']);
  const selectorErrs: Errs = [];
  const selector = selectorObj ? validateLabelSelector(selectorErrs, selectorPath, selectorObj) : undefined;
  if (absent(spec['selector'])) required(errs, selectorPath);
  errs.push(...selectorErrs);

  const templatePath = 'spec.template';
  const template = optObj(errs, templatePath, spec['template']);
  const templateErrs: Errs = [];
  const templateLabels = template ? validateTemplate(templateErrs, templatePath, template) : undefined;
  if (absent(spec['template'])) required(errs, templatePath);

  // LabelSelectorAsSelector(nil) selects nothing, so a missing selector never matches the labels.
  if ((selector !== undefined || absent(spec['selector'])) && templateLabels !== undefined) {
    if (selector === undefined || !matchesSelector(selector, templateLabels)) {
      invalid(errs, 'spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`');
    }
  }
  if (selectorObj && isEmptySelector(selectorObj)) {
    invalid(errs, selectorPath, selectorObj, 'empty selector is invalid for daemonset');
  }
  errs.push(...templateErrs);

  const minReadySeconds = optInt(errs, 'spec.minReadySeconds', spec['minReadySeconds']);
  if (minReadySeconds !== undefined) nonNegative(errs, 'spec.minReadySeconds', minReadySeconds);
  validateUpdateStrategy(errs, 'spec.updateStrategy', spec['updateStrategy']);
  const revisionHistoryLimit = optInt(errs, 'spec.revisionHistoryLimit', spec['revisionHistoryLimit']);
  if (revisionHistoryLimit !== undefined) nonNegative(errs, 'spec.revisionHistoryLimit', revisionHistoryLimit);

  if (errs.length > 0 || !template || !selector || name === undefined) return { ok: false, errors: dedupe(errs) };

  const templateMeta = template['metadata'] as { labels?: Labels; annotations?: Labels } | undefined | null;
  const cleanTemplate: PodTemplateSpec = {
    ...(templateMeta
      ? {
          metadata: {
            ...(templateMeta.labels ? { labels: templateMeta.labels } : {}),
            ...(templateMeta.annotations ? { annotations: templateMeta.annotations } : {}),
          },
        }
      : {}),
    spec: withoutNulls(template['spec']) as PodSpec,
  };
  const cleanSpec: DaemonSetSpec = {
    selector: withoutNulls(selector) as LabelSelector,
    template: cleanTemplate,
    ...(isObj(spec['updateStrategy']) ? { updateStrategy: withoutNulls(spec['updateStrategy']) as DaemonSetSpec['updateStrategy'] } : {}),
    ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
    ...(revisionHistoryLimit !== undefined ? { revisionHistoryLimit } : {}),
  };
  const value: DaemonSetManifest = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: cleanSpec,
  };
  return { ok: true, value };
}

const MAX_DEPTH = 64;

/**
 * JSON and YAML documents are trees of bounded depth; an object with a cycle (possible with YAML
 * aliases) or absurd nesting is refused before anything walks it.
 */
function plainDataProblem(root: Obj): { field: string; detail: string } | undefined {
  const ancestors = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): { field: string; detail: string } | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    if (depth > MAX_DEPTH) return { field: path, detail: `must not be nested more than ${MAX_DEPTH} levels deep` };
    if (ancestors.has(v)) return { field: path, detail: 'must not refer to itself (a cycle)' };
    ancestors.add(v);
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((item, i) => [`[${i}]`, item]) : Object.entries(v).map(([k, item]) => [`.${k}`, item]);
    for (const [step, item] of entries) {
      const problem = walk(item, path === '' ? step.replace(/^\./, '') : `${path}${step}`, depth + 1);
      if (problem) return problem;
    }
    ancestors.delete(v);
    return undefined;
  };
  return walk(root, '', 0);
}

function isEmptySelector(o: Obj): boolean {
  const ml = o['matchLabels'];
  const me = o['matchExpressions'];
  const nLabels = isObj(ml) ? Object.keys(ml).length : 0;
  const nExprs = Array.isArray(me) ? me.length : 0;
  return nLabels + nExprs === 0 && (absent(ml) || isObj(ml)) && (absent(me) || Array.isArray(me));
}

/** A copy of plain JSON data without `null` members (JSON null means "not set" in Kubernetes). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (val !== null && val !== undefined) out[k] = withoutNulls(val);
    return out;
  }
  return v;
}

/** ErrorList.ToAggregate drops errors whose messages are identical. */
function dedupe(errs: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const text = formatFieldError(e);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

// ---- updates ---------------------------------------------------------------------------------

/** ValidateDaemonSetUpdate's immutability rule: apps/v1 selectors cannot change. */
export function validateDaemonSetUpdate(old: DefaultedDaemonSetSpec, next: DaemonSetSpec): FieldError[] {
  if (selectorKey(old.selector) === selectorKey(next.selector)) return [];
  return [{ field: 'spec.selector', type: 'Invalid', value: next.selector, detail: 'field is immutable' }];
}

/** Semantic equality as apiequality.Semantic.DeepEqual sees it: empty and missing are the same. */
function selectorKey(sel: LabelSelector): string {
  const labels = Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = (sel.matchExpressions ?? []).map((e) => [e.key, e.operator, e.values ?? []]);
  return JSON.stringify([labels, exprs]);
}

// ---- kubectl's text ---------------------------------------------------------------------------

/** A value as field.Error prints it: strings quoted, numbers and booleans bare, objects as JSON. */
export function formatErrorValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // A cyclic or otherwise unprintable object: say what it is rather than fail.
    return Array.isArray(value) ? '[...]' : '{...}';
  }
}

/** Control characters (C0, DEL, C1) and line separators: JSON.stringify leaves DEL and C1 raw. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Text echoed from a manifest (a key in a field path, a value) with control characters escaped
 * as `\uXXXX`: an error goes to a terminal, where ESC or the 8-bit CSI (0x9b) would be obeyed.
 * Found by test/unit/fuzz-manifests.test.ts (`metadata.namespace: "\x9b"` printed raw).
 */
function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** field.Error.ErrorBody(): the message without the field path (`Invalid value: <value>: detail`). */
export function fieldErrorBody(e: FieldError): string {
  let body: string;
  switch (e.type) {
    case 'Required':
      body = 'Required value';
      break;
    case 'Forbidden':
      body = 'Forbidden';
      break;
    case 'TooLong':
      body = 'Too long';
      break;
    case 'Invalid':
      body = `Invalid value: ${formatErrorValue(e.value)}`;
      break;
    case 'NotSupported':
      body = `Unsupported value: ${formatErrorValue(e.value)}`;
      break;
    case 'Duplicate':
      body = `Duplicate value: ${formatErrorValue(e.value)}`;
      break;
    default: {
      const never: never = e.type;
      body = String(never);
    }
  }
  return e.detail.length > 0 ? `${body}: ${e.detail}` : body;
}

/** field.Error.Error(): `field: Invalid value: <value>: detail`, on one line. */
export function formatFieldError(e: FieldError): string {
  return escapeControls(`${e.field}: ${fieldErrorBody(e)}`);
}

/**
 * kubectl's message for an Invalid status (StandardErrorMessage + MultilineError), without the
 * trailing newline: one error on the same line, several as a `* ` list.
 */
export function formatFieldErrors(kind: string, name: string, errors: readonly FieldError[]): string {
  const prefix = `The ${kind} ${escapeControls(JSON.stringify(name))} is invalid: `;
  const lines = dedupe(errors).map(formatFieldError);
  if (lines.length === 1) return `${prefix}${lines[0] ?? ''}`;
  return `${prefix}\n${lines.map((l) => `* ${l}`).join('\n')}`;
}
