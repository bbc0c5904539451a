// One object as the API serves it: its JSON with `metadata.resourceVersion` set to the log
// sequence at which it last changed.

import type { Labels } from '../../libs/model/types.js';

export type ResourceName = 'daemonsets' | 'pods' | 'nodes' | 'namespaces' | 'controllerrevisions' | 'events';

export interface ApiObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Labels;
  readonly annotations?: Labels;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly [field: string]: unknown;
}

export interface ApiObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ApiObjectMeta;
  readonly [field: string]: unknown;
}

export interface StoredObject {
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  readonly object: ApiObject;
  /** The object's JSON without resourceVersion: what a change is detected on. */
  readonly json: string;
}

/** Any of the libs' Kubernetes object shapes, seen as a generic API object. */
export function asApiObject(obj: object): ApiObject {
  return obj as ApiObject;
}

/** The object as stored at `rv`. */
export function storeObject(obj: ApiObject, rv: number, json?: string): StoredObject {
  const text = json ?? JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } });
  return {
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    rv,
    object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } },
    json: text,
  };
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
