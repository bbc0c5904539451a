// The resources the facade serves, as discovery lists them (name, kind, verbs, short names).

import type { ResourceName } from './stored-object.js';

export type Verb = 'create' | 'delete' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface ResourceInfo {
  readonly resource: ResourceName;
  /** '' for the core group. */
  readonly group: '' | 'apps';
  readonly version: 'v1';
  readonly kind: string;
  readonly listKind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly Verb[];
  readonly categories?: readonly string[];
}

const READ: readonly Verb[] = ['get', 'list', 'watch'];

export const RESOURCES: readonly ResourceInfo[] = [
  {
    resource: 'daemonsets',
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    listKind: 'DaemonSetList',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    categories: ['all'],
  },
  {
    resource: 'controllerrevisions',
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    listKind: 'ControllerRevisionList',
    singular: 'controllerrevision',
    namespaced: true,
    shortNames: [],
    verbs: READ,
  },
  {
    resource: 'pods',
    group: '',
    version: 'v1',
    kind: 'Pod',
    listKind: 'PodList',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: ['delete', ...READ],
    categories: ['all'],
  },
  {
    resource: 'nodes',
    group: '',
    version: 'v1',
    kind: 'Node',
    listKind: 'NodeList',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    verbs: ['get', 'list', 'patch', 'update', 'watch'],
  },
  {
    resource: 'namespaces',
    group: '',
    version: 'v1',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  },
  {
    resource: 'events',
    group: '',
    version: 'v1',
    kind: 'Event',
    listKind: 'EventList',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: READ,
  },
];

export function groupVersion(info: { readonly group: string; readonly version: string }): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** The resource served at `/api/v1/<name>` (group '') or `/apis/<group>/v1/<name>`. */
export function findResource(group: string, name: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.resource === name);
}
