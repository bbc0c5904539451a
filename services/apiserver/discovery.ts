// Discovery as kubectl reads it (legacy, unaggregated: kubectl falls back to it when /api and
// /apis answer plain application/json): /version, /api, /api/v1, /apis, /apis/apps/v1, and a
// minimal OpenAPI v3 whose only purpose is to tell kubectl that PATCH of the served kinds
// accepts `fieldValidation`, so that `kubectl apply|create` leave validation to the server
// instead of downloading schemas. No strategic-merge content type is listed there, so kubectl
// computes strategic merge patches from its built-in types.

import { RESOURCES, groupVersion, type ResourceInfo } from './resources.js';

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-daemonset-js' } as const;

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${process.platform}/${process.arch}`,
  };
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(): unknown {
  const gv = { groupVersion: 'apps/v1', version: 'v1' };
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [gv], preferredVersion: gv }] };
}

export function apiGroup(name: string): unknown | undefined {
  if (name !== 'apps') return undefined;
  const gv = { groupVersion: 'apps/v1', version: 'v1' };
  return { kind: 'APIGroup', apiVersion: 'v1', name: 'apps', versions: [gv], preferredVersion: gv };
}

function resourceEntry(r: ResourceInfo): unknown {
  return {
    name: r.resource,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories ? { categories: r.categories } : {}),
  };
}

/** `/api/v1` (group '') or `/apis/apps/v1`. */
export function apiResourceList(group: '' | 'apps'): unknown {
  const resources = RESOURCES.filter((r) => r.group === group);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? 'v1' : 'apps/v1', resources: resources.map(resourceEntry) };
}

// ---- OpenAPI v3, minimal -------------------------------------------------------------------

const OPENAPI_HASH = 'daemonset-js-1';

/** `/openapi/v3`: one document per group version. */
export function openApiV3Root(): unknown {
  return {
    paths: {
      'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${OPENAPI_HASH}` },
      'apis/apps/v1': { serverRelativeURL: `/openapi/v3/apis/apps/v1?hash=${OPENAPI_HASH}` },
    },
  };
}

function itemPath(r: ResourceInfo): string {
  const prefix = r.group === '' ? '/api/v1' : `/apis/${r.group}/v1`;
  return r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}/{name}` : `${prefix}/${r.resource}/{name}`;
}

/** `/openapi/v3/api/v1` or `/openapi/v3/apis/apps/v1`: the PATCH operations and their parameters. */
export function openApiV3Document(gvPath: string): unknown | undefined {
  const gv = gvPath === 'api/v1' ? 'v1' : gvPath === 'apis/apps/v1' ? 'apps/v1' : undefined;
  if (gv === undefined) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((x) => groupVersion(x) === gv)) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    paths[itemPath(r)] = {
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
        ...(r.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } }] : []),
      ],
      patch: {
        operationId: `patch${r.namespaced ? 'Namespaced' : ''}${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
        ],
        requestBody: {
          content: {
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
          },
          required: true,
        },
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, components: { schemas: {} } };
}
