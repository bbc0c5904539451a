// The three patch formats the API server accepts, applied to an object's JSON (PURE):
// - application/merge-patch+json: RFC 7386;
// - application/json-patch+json: RFC 6902 (add, remove, replace, move, copy, test);
// - application/strategic-merge-patch+json: Kubernetes' strategic merge
//   (k8s.io/apimachinery/pkg/util/strategicpatch), with the merge keys of the apps/v1 and core/v1
//   fields this system serves, and the directives kubectl sends: `$patch: replace|delete|merge`,
//   `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

export class PatchError extends Error {
  override readonly name = 'PatchError';
}

function isMap(v: unknown): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

// ---- RFC 7386 --------------------------------------------------------------------------------

export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return clone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k] ?? null, v);
  }
  return out;
}

// ---- RFC 6902 --------------------------------------------------------------------------------

function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[]): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] ?? null;
    else if (isMap(cur) && t in cur) cur = cur[t] ?? null;
    else throw new PatchError(`doc is missing path: /${tokens.join('/')}`);
    if (cur === null) throw new PatchError(`doc is missing path: /${tokens.join('/')}`);
  }
  return { parent: cur, last: tokens[tokens.length - 1] ?? '' };
}

function index(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index ${JSON.stringify(token)}`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`array index ${i} out of bounds`);
  return i;
}

function getAt(doc: Json, tokens: string[]): Json {
  if (tokens.length === 0) return doc;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent[index(parent, last, false)] ?? null;
  if (isMap(parent) && last in parent) return parent[last] ?? null;
  throw new PatchError(`doc is missing path: /${tokens.join('/')}`);
}

function removeAt(doc: Json, tokens: string[]): Json {
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent.splice(index(parent, last, false), 1)[0] ?? null;
  if (isMap(parent) && last in parent) {
    const v = parent[last] ?? null;
    delete parent[last];
    return v;
  }
  throw new PatchError(`doc is missing path: /${tokens.join('/')}`);
}

function addAt(doc: Json, tokens: string[], value: Json): Json {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(index(parent, last, true), 0, value);
  else if (isMap(parent)) parent[last] = value;
  else throw new PatchError(`doc is missing path: /${tokens.join('/')}`);
  return doc;
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isMap(raw)) throw new PatchError('a JSON patch operation must be an object');
    const path = pointer(raw['path']);
    const value = (raw['value'] ?? null) as Json;
    switch (raw['op']) {
      case 'add':
        out = addAt(out, path, clone(value));
        break;
      case 'remove':
        removeAt(out, path);
        break;
      case 'replace':
        if (path.length === 0) out = clone(value);
        else {
          removeAt(out, path);
          out = addAt(out, path, clone(value));
        }
        break;
      case 'move': {
        const v = removeAt(out, pointer(raw['from']));
        out = addAt(out, path, v);
        break;
      }
      case 'copy':
        out = addAt(out, path, clone(getAt(out, pointer(raw['from']))));
        break;
      case 'test':
        if (JSON.stringify(getAt(out, path)) !== JSON.stringify(value)) throw new PatchError(`testing value /${path.join('/')} failed`);
        break;
      default:
        throw new PatchError(`unexpected JSON patch operation ${JSON.stringify(raw['op'])}`);
    }
  }
  return out;
}

// ---- strategic merge -------------------------------------------------------------------------

/** patchMergeKey of the list fields of the served types (by field name; the types agree on them). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  resourceClaims: 'name',
};

/** Primitive lists with patchStrategy merge: the patch's values are added to the original's. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((e) => !(isMap(e) && e[DIRECTIVE] !== undefined && Object.keys(e).length === 1)).map(stripDirectives);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

export function strategicMergePatch(original: Json, patch: Json): Json {
  if (!isMap(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  return mergeMap(isMap(original) ? original : {}, patch);
}

function mergeMap(original: JsonMap, patch: JsonMap): Json {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return null;
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`);
  const out: JsonMap = { ...original };
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(v)) out[field] = current.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (isMap(v)) {
      const merged = mergeMap(isMap(cur) ? cur : {}, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = mergeList(k, Array.isArray(cur) ? cur : [], v);
    } else {
      out[k] = v;
    }
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER) || !Array.isArray(order)) continue;
    const field = k.slice(SET_ORDER.length);
    const list = out[field];
    if (Array.isArray(list)) out[field] = applyOrder(field, list, order);
  }
  const retain = patch[RETAIN_KEYS];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  }
  return out;
}

function keyOf(item: Json, mergeKey: string): string | undefined {
  return isMap(item) && item[mergeKey] !== undefined ? JSON.stringify(item[mergeKey]) : undefined;
}

function mergeList(field: string, original: Json[], patch: Json[]): Json[] {
  if (patch.some((e) => isMap(e) && e[DIRECTIVE] === 'replace')) return stripDirectives(patch.filter((e) => !(isMap(e) && e[DIRECTIVE] === 'replace'))) as Json[];
  const mergeKey = MERGE_KEYS[field];
  if (mergeKey === undefined) {
    if (MERGED_PRIMITIVE_LISTS.has(field)) {
      const out = [...original];
      for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
      return out;
    }
    return stripDirectives(patch) as Json[];
  }
  const out = [...original];
  for (const item of patch) {
    const key = keyOf(item, mergeKey);
    if (key === undefined || !isMap(item)) {
      out.push(stripDirectives(item));
      continue;
    }
    const at = out.findIndex((o) => keyOf(o, mergeKey) === key);
    if (item[DIRECTIVE] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = mergeMap(isMap(out[at]) ? (out[at] as JsonMap) : {}, item);
      if (merged === null) out.splice(at, 1);
      else out[at] = merged;
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out;
}

/** `$setElementOrder/<field>`: the listed elements first, in that order, then the others as they were. */
function applyOrder(field: string, list: Json[], order: Json[]): Json[] {
  const mergeKey = MERGE_KEYS[field];
  const id = (v: Json): string => (mergeKey !== undefined ? (keyOf(v, mergeKey) ?? JSON.stringify(v)) : JSON.stringify(v));
  const wanted = order.map((o) => id(o));
  const ranked = list.map((item, i) => ({ item, i, rank: wanted.indexOf(id(item)) }));
  ranked.sort((a, b) => {
    const ra = a.rank < 0 ? Number.MAX_SAFE_INTEGER : a.rank;
    const rb = b.rank < 0 ? Number.MAX_SAFE_INTEGER : b.rank;
    return ra - rb || a.i - b.i;
  });
  return ranked.map((r) => r.item);
}
