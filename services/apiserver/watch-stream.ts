// A `?watch=1` response: newline-delimited WatchEvent JSON (`{"type":…,"object":…}`), replaying
// the changes after the requested resourceVersion and then following live, as the API server's
// watch cache does. An object that stops matching the watch's selectors is sent as DELETED, one
// that starts matching as ADDED. A resourceVersion older than the buffer gets 410 Expired.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { expired } from './api-errors.js';
import type { ObjectFilter } from './query-filters.js';
import type { ReadModel } from './read-model.js';
import { objectKey, type ApiObject, type ResourceName, type StoredObject } from './stored-object.js';
import type { ChangeRecord, WatchEventType } from './watch-hub.js';

export interface WatchRequest {
  readonly resource: ResourceName;
  /** undefined: every namespace (or a cluster-scoped resource). */
  readonly namespace: string | undefined;
  readonly filter: ObjectFilter;
  /** The `resourceVersion` parameter; undefined or '0' starts with the current objects as ADDED. */
  readonly resourceVersion: string | undefined;
  readonly timeoutMs: number;
  /** Renders an object as the client asked (the object itself, or a one-row Table). */
  readonly render: (stored: StoredObject) => unknown;
}

export function serveWatch(req: IncomingMessage, res: ServerResponse, model: ReadModel, w: WatchRequest): void {
  const inScope = (s: StoredObject): boolean => w.namespace === undefined || s.namespace === w.namespace;
  const matched = new Set<string>();
  const send = (type: WatchEventType | 'ERROR', object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const onChange = (c: ChangeRecord): void => {
    if (c.resource !== w.resource || !inScope(c.stored)) return;
    const key = objectKey(c.stored.namespace, c.stored.name);
    const m = w.filter(c.stored.object);
    if (c.type === 'DELETED') {
      if (m || matched.has(key)) send('DELETED', w.render(c.stored));
      matched.delete(key);
      return;
    }
    if (m) {
      send(matched.has(key) ? 'MODIFIED' : 'ADDED', w.render(c.stored));
      matched.add(key);
    } else if (matched.has(key)) {
      send('DELETED', w.render(c.stored));
      matched.delete(key);
    }
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Clients wait for the headers before they read events: send them now, not with the first event.
  res.flushHeaders();
  const rv = w.resourceVersion;
  const current = [...model.list(w.resource)].filter((s) => inScope(s) && w.filter(s.object));
  let replay: readonly ChangeRecord[] = [];
  if (rv === undefined || rv === '' || rv === '0') {
    for (const s of current) {
      matched.add(objectKey(s.namespace, s.name));
      send('ADDED', w.render(s));
    }
  } else {
    const n = Number(rv);
    const since = Number.isInteger(n) && n >= 0 ? model.hub.since(n) : { ok: false, changes: [], floor: model.hub.since(Number.MAX_SAFE_INTEGER).floor };
    if (!since.ok) {
      send('ERROR', expired(`too old resource version: ${rv} (${since.floor})`).toStatus());
      res.end();
      return;
    }
    replay = since.changes;
    // What the client holds as of `rv`: objects that match now and did not change since, and
    // (assumed matching) those whose first change since is not their creation.
    const first = new Map<string, WatchEventType>();
    for (const c of replay) {
      const key = objectKey(c.stored.namespace, c.stored.name);
      if (c.resource === w.resource && !first.has(key)) first.set(key, c.type);
    }
    for (const s of current) {
      const key = objectKey(s.namespace, s.name);
      if (!first.has(key)) matched.add(key);
    }
    for (const [key, type] of first) if (type !== 'ADDED') matched.add(key);
  }
  for (const c of replay) onChange(c);
  const unsubscribe = model.hub.subscribe(onChange);
  const finish = (): void => {
    unsubscribe();
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(finish, w.timeoutMs);
  req.on('close', finish);
  res.on('close', finish);
}

/** A one-row Table, or the object: what each watch event carries. */
export type Renderer = (stored: StoredObject) => unknown;

export function plainObject(stored: StoredObject): ApiObject {
  return stored.object;
}
