// A v1 Namespace manifest, validated as Kubernetes' ValidateNamespace does (name a DNS-1123
// label, labels and annotations well-formed), into what the log keeps of it: its name, labels
// and annotations. `kubernetes.io/metadata.name` is dropped: the API server sets it to the name.
// Never throws. PURE.

import type { FieldError, Labels } from './types.js';
import { isDns1123Label, isQualifiedName, isValidLabelValue } from './label-syntax.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamespaceManifest {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
}

export type NamespaceParse =
  | { readonly ok: true; readonly value: NamespaceManifest }
  | { readonly ok: false; readonly name: string; readonly errors: readonly FieldError[] };

const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

function isObj(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(errors: FieldError[], field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) {
    errors.push({ field, type: 'Invalid', value: v, detail: 'must be of type object' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') errors.push({ field: `${field}[${k}]`, type: 'Invalid', value: x, detail: 'must be of type string' });
    else out[k] = x;
  }
  return out;
}

/** Validates an untrusted object as a v1 Namespace. */
export function parseNamespace(input: unknown): NamespaceParse {
  const errors: FieldError[] = [];
  if (!isObj(input)) return { ok: false, name: '', errors: [{ field: '<root>', type: 'Invalid', value: input, detail: 'must be of type object (a Namespace manifest)' }] };
  if (input['apiVersion'] !== 'v1') errors.push({ field: 'apiVersion', type: 'NotSupported', value: input['apiVersion'] ?? '', detail: 'supported values: "v1"' });
  if (input['kind'] !== 'Namespace') errors.push({ field: 'kind', type: 'NotSupported', value: input['kind'] ?? '', detail: 'supported values: "Namespace"' });
  const meta = isObj(input['metadata']) ? input['metadata'] : {};
  const rawName = meta['name'];
  const name = typeof rawName === 'string' ? rawName : '';
  if (name === '') errors.push({ field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' });
  else for (const msg of isDns1123Label(name)) errors.push({ field: 'metadata.name', type: 'Invalid', value: name, detail: msg });
  // ValidateObjectMeta: a cluster-scoped object has no namespace.
  if (typeof meta['namespace'] === 'string' && meta['namespace'] !== '') {
    errors.push({ field: 'metadata.namespace', type: 'Forbidden', detail: 'not allowed on this type' });
  }
  const labels = stringMap(errors, 'metadata.labels', meta['labels']);
  for (const k of Object.keys(labels).sort()) {
    for (const msg of isQualifiedName(k)) errors.push({ field: 'metadata.labels', type: 'Invalid', value: k, detail: msg });
    for (const msg of isValidLabelValue(labels[k] ?? '')) errors.push({ field: 'metadata.labels', type: 'Invalid', value: labels[k], detail: msg });
  }
  const annotations = stringMap(errors, 'metadata.annotations', meta['annotations']);
  let size = 0;
  for (const k of Object.keys(annotations).sort()) {
    for (const msg of isQualifiedName(k.toLowerCase())) errors.push({ field: 'metadata.annotations', type: 'Invalid', value: k, detail: msg });
    size += new TextEncoder().encode(k + (annotations[k] ?? '')).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    errors.push({ field: 'metadata.annotations', type: 'TooLong', detail: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT_BYTES} bytes` });
  }
  if (errors.length > 0) return { ok: false, name, errors };
  delete labels[NAMESPACE_NAME_LABEL];
  return { ok: true, value: { name, labels, annotations } };
}
