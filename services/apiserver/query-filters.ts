// `labelSelector` and `fieldSelector` query parameters, as the API server reads them: label
// selectors with labels.Parse's grammar, field selectors as `key=value`, `key==value` and
// `key!=value` terms over the fields each resource supports (its GetAttrs).

import { parseSelectorString } from '../../libs/model/selectors.js';
import type { Labels } from '../../libs/model/types.js';
import { badRequest } from './api-errors.js';
import type { ApiObject, ResourceName } from './stored-object.js';

export type ObjectFilter = (obj: ApiObject) => boolean;

type FieldGetter = (obj: ApiObject) => string;

function path(...keys: string[]): FieldGetter {
  return (obj) => {
    let v: unknown = obj;
    for (const k of keys) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
    return v === undefined || v === null ? '' : String(v);
  };
}

const COMMON: Record<string, FieldGetter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** Field selectors each resource supports (pkg/registry/.../strategy.go ToSelectableFields). */
const FIELDS: Record<ResourceName, Record<string, FieldGetter>> = {
  daemonsets: COMMON,
  controllerrevisions: COMMON,
  pods: {
    ...COMMON,
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (obj) => String(path('spec', 'hostNetwork')(obj) === 'true'),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  nodes: { ...COMMON, 'spec.unschedulable': (obj) => String(path('spec', 'unschedulable')(obj) === 'true') },
  namespaces: { ...COMMON, 'status.phase': path('status', 'phase') },
  events: {
    ...COMMON,
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
};

/** A term of a field selector. */
interface FieldTerm {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

export function parseFieldSelector(resource: ResourceName, text: string): FieldTerm[] {
  const terms: FieldTerm[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(p);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${p}'`);
    const field = m[1]!.trim();
    if (!(field in FIELDS[resource])) {
      throw badRequest(`field label not supported: ${field}`);
    }
    terms.push({ field, equal: m[2] !== '!=', value: m[3]!.trim() });
  }
  return terms;
}

/** The filter of a request's `labelSelector` and `fieldSelector` (either may be absent). */
export function objectFilter(resource: ResourceName, labelSelector: string | null, fieldSelector: string | null): ObjectFilter {
  const terms = fieldSelector ? parseFieldSelector(resource, fieldSelector) : [];
  let labels: ((l: Labels) => boolean) | undefined;
  if (labelSelector) {
    const parsed = parseSelectorString(labelSelector);
    if (!parsed.ok) throw badRequest(parsed.error);
    labels = parsed.matches;
  }
  const getters = FIELDS[resource];
  return (obj) => {
    for (const t of terms) {
      const v = getters[t.field]!(obj);
      if ((v === t.value) !== t.equal) return false;
    }
    return labels ? labels(obj.metadata.labels ?? {}) : true;
  };
}
