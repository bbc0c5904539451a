// Server-side apply (`PATCH` with `application/apply-patch+yaml`), merged as structured-merge-diff
// merges an applied configuration into the live object (PURE):
// - maps merge: a field in the applied configuration replaces the live one, a field it does not
//   mention keeps its value;
// - lists merge as their schema says (x-kubernetes-list-type): `map` lists element by element on
//   their keys (containers by name, ports by containerPort and protocol, ...), `set` lists as a
//   union, every other list is atomic and replaced whole;
// - a null in the applied configuration states nothing (it is skipped).
//
// What this does not do: field ownership. The log keeps no managedFields, so a field that a
// manager applied before and leaves out now is kept (Kubernetes would remove it), no apply is
// ever refused as a conflict with another manager, and `force` changes nothing.

import type { Json, JsonMap } from './patch.js';

/** x-kubernetes-list-map-keys of the map lists of apps/v1 DaemonSet and v1 Namespace (by field name). */
const LIST_MAP_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  ports: ['containerPort', 'protocol'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  volumes: ['name'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  ownerReferences: ['uid'],
  resourceClaims: ['name'],
  schedulingGates: ['name'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
};

/** Key defaults the API server fills before keys are compared (a port's protocol is TCP). */
const KEY_DEFAULTS: Readonly<Record<string, Json>> = { protocol: 'TCP' };

/** x-kubernetes-list-type: set. */
const SET_LISTS = new Set(['finalizers']);

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withoutNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

function mergeMaps(live: JsonMap, applied: JsonMap): JsonMap {
  const out: JsonMap = { ...live };
  for (const [k, v] of Object.entries(applied)) {
    if (v === null) continue;
    const cur = out[k];
    if (isMap(v)) out[k] = mergeMaps(isMap(cur) ? cur : {}, v);
    else if (Array.isArray(v)) out[k] = mergeList(k, Array.isArray(cur) ? cur : [], v);
    else out[k] = v;
  }
  return out;
}

function keyOf(item: Json, keys: readonly string[]): string | undefined {
  if (!isMap(item)) return undefined;
  const parts = keys.map((k) => item[k] ?? KEY_DEFAULTS[k] ?? null);
  return parts[0] === null ? undefined : JSON.stringify(parts);
}

function mergeList(field: string, live: Json[], applied: Json[]): Json[] {
  if (SET_LISTS.has(field)) {
    const out = [...live];
    for (const v of applied) if (v !== null && !out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  const keys = LIST_MAP_KEYS[field];
  if (keys === undefined) return withoutNulls(applied) as Json[];
  const out = [...live];
  for (const item of applied) {
    const key = keyOf(item, keys);
    const at = key === undefined ? -1 : out.findIndex((o) => keyOf(o, keys) === key);
    if (at >= 0 && isMap(item)) out[at] = mergeMaps(isMap(out[at]) ? (out[at] as JsonMap) : {}, item);
    else if (item !== null) out.push(withoutNulls(item));
  }
  return out;
}

/** The live object with the applied configuration merged in. */
export function applyConfiguration(live: Json, applied: JsonMap): JsonMap {
  return mergeMaps(isMap(live) ? live : {}, applied);
}
