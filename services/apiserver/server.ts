// The Kubernetes API facade over node:http: discovery, get/list/watch of the served resources
// from the read model, and the writes kubectl sends for DaemonSets, pods and nodes. Every answer
// is JSON; errors are metav1.Status objects.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type * as Yaml from 'yaml';
import { ApiError, methodNotAllowed, notFound, badRequest, unauthorized, type K8sStatus } from './api-errors.js';
import { bearerAuthenticator } from './bearer-auth.js';
import { createDaemonSet, deleteDaemonSet, deleteOptionsOf, patchDaemonSet, updateDaemonSet, type WriteOptions, type WriteResult } from './daemonset-writes.js';
import { fieldValidationOf } from './field-validation.js';
import { createNamespace, deleteNamespace, patchNamespace, updateNamespace } from './namespace-writes.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV3Document, openApiV3Root, versionInfo } from './discovery.js';
import type { WriteContext } from './log-writes.js';
import { patchNode, updateNode } from './node-writes.js';
import { patchTypeOf } from './patch-types.js';
import { deletePod } from './pod-writes.js';
import { objectFilter } from './query-filters.js';
import type { ReadModel } from './read-model.js';
import { findResource, groupVersion, type ResourceInfo } from './resources.js';
import type { StoredObject } from './stored-object.js';
import { toTable, wantsTable, type IncludeObject } from './tables.js';
import { serveWatch } from './watch-stream.js';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly model: ReadModel;
  readonly writes: WriteContext;
  readonly log: Logger;
  /** The bearer token every request but the health checks must carry; undefined: none. */
  readonly token?: string;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
}

export interface ApiServer {
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/** The API server's limit on a request body. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Watches end after this long unless the client asks for less (the reflector asks 5-10 min). */
const DEFAULT_WATCH_TIMEOUT_MS = 30 * 60_000;

interface ResourceRequest {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: K8sStatus): void {
  sendJson(res, status.code, status);
}

/** More aliases than this in an apply configuration is an expansion attack, not an object. */
const MAX_ALIAS_COUNT = 100;

/** The body as JSON, or as YAML for a server-side apply (`application/apply-patch+yaml`). */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'BadRequest', 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  const media = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/apply-patch+yaml') {
    const yaml: typeof Yaml = await import('yaml');
    try {
      const doc = yaml.parseDocument(text, { uniqueKeys: true, logLevel: 'error' });
      if (doc.errors.length > 0) throw doc.errors[0]!;
      return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the body of the request is not JSON: ${(err as Error).message}`);
  }
}

/** `/api/v1/...` or `/apis/apps/v1/...` → the resource, namespace, name and subresource. */
function parseResourcePath(segments: readonly string[]): ResourceRequest | undefined {
  let group: string;
  let rest: readonly string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments[2] === 'v1') {
    group = segments[1] ?? '';
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  if (rest.length >= 3 && rest[0] === 'namespaces') {
    const info = findResource(group, rest[2] ?? '');
    if (!info || !info.namespaced || rest.length > 5) return undefined;
    return { info, namespace: rest[1], name: rest[3], subresource: rest[4] };
  }
  const info = findResource(group, rest[0] ?? '');
  if (!info || rest.length > 3) return undefined;
  return { info, namespace: undefined, name: rest[1], subresource: rest[2] };
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function byNamespaceThenName(a: StoredObject, b: StoredObject): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { model, writes, log } = opts;
  const authenticated = bearerAuthenticator(opts.token);
  let serverAddress = `${opts.host}:${opts.port}`;

  const handleResource = async (req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): Promise<void> => {
    const { info } = r;
    const method = req.method ?? 'GET';
    const dryRun = query.getAll('dryRun').includes('All');
    const writeOpts = (): WriteOptions => ({ dryRun, validation: fieldValidationOf(query) });
    const table = wantsTable(req.headers.accept);
    const render = (items: readonly StoredObject[], rv: number): unknown => toTable(info.resource, items, rv, { state: model.state, nowMs: Date.now(), include: includeObjectOf(query) });

    if (r.subresource !== undefined && !(r.subresource === 'status' && method === 'GET')) throw methodNotAllowed();
    if (r.name === undefined) {
      // Collection: list, watch, create.
      if (method === 'GET') {
        const filter = objectFilter(info.resource, query.get('labelSelector'), query.get('fieldSelector'));
        if (query.get('watch') === '1' || query.get('watch') === 'true') {
          const timeout = Number(query.get('timeoutSeconds'));
          serveWatch(req, res, model, {
            resource: info.resource,
            namespace: r.namespace,
            filter,
            resourceVersion: query.get('resourceVersion') ?? undefined,
            timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout * 1000 : DEFAULT_WATCH_TIMEOUT_MS,
            render: (s) => (table ? render([s], s.rv) : s.object),
          });
          return;
        }
        const rv = model.servedSeq();
        const items = [...model.list(info.resource)].filter((s) => (r.namespace === undefined || s.namespace === r.namespace) && filter(s.object)).sort(byNamespaceThenName);
        if (table) return sendJson(res, 200, render(items, rv));
        return sendJson(res, 200, { kind: info.listKind, apiVersion: groupVersion(info), metadata: { resourceVersion: String(rv) }, items: items.map((s) => s.object) });
      }
      if (method === 'POST' && info.resource === 'daemonsets' && r.namespace !== undefined) {
        return sendResult(res, await createDaemonSet(writes, r.namespace, await readBody(req), writeOpts()));
      }
      if (method === 'POST' && info.resource === 'namespaces') return sendResult(res, await createNamespace(writes, await readBody(req), writeOpts()));
      throw methodNotAllowed();
    }

    const namespace = r.namespace ?? '';
    if (info.namespaced && r.namespace === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    switch (method) {
      case 'GET': {
        const stored = model.get(info.resource, namespace, r.name);
        if (!stored) throw notFound(info, r.name);
        if (table) return sendJson(res, 200, render([stored], stored.rv));
        return sendJson(res, 200, stored.object);
      }
      case 'PUT': {
        const body = await readBody(req);
        if (info.resource === 'daemonsets') return sendResult(res, await updateDaemonSet(writes, namespace, r.name, body, writeOpts()));
        if (info.resource === 'namespaces') return sendResult(res, await updateNamespace(writes, r.name, body, writeOpts()));
        if (info.resource === 'nodes') return sendResult(res, await updateNode(writes, r.name, body, dryRun));
        throw methodNotAllowed();
      }
      case 'PATCH': {
        const type = patchTypeOf(req.headers['content-type']);
        const body = await readBody(req);
        if (info.resource === 'daemonsets') return sendResult(res, await patchDaemonSet(writes, namespace, r.name, type, body, writeOpts()));
        if (info.resource === 'namespaces') return sendResult(res, await patchNamespace(writes, r.name, type, body, writeOpts()));
        if (info.resource === 'nodes') return sendResult(res, await patchNode(writes, r.name, type, body, dryRun));
        throw methodNotAllowed();
      }
      case 'DELETE': {
        const body = await readBody(req);
        if (info.resource === 'daemonsets') return sendResult(res, await deleteDaemonSet(writes, namespace, r.name, deleteOptionsOf(query, body), dryRun));
        if (info.resource === 'namespaces') return sendResult(res, await deleteNamespace(writes, r.name, dryRun));
        if (info.resource === 'pods') {
          const pre = typeof body === 'object' && body !== null ? (body as { preconditions?: { uid?: unknown } }).preconditions?.uid : undefined;
          return sendResult(res, await deletePod(writes, namespace, r.name, typeof pre === 'string' ? pre : undefined, dryRun));
        }
        throw methodNotAllowed();
      }
      default:
        throw methodNotAllowed();
    }
  };

  const sendResult = (res: ServerResponse, result: WriteResult): void => {
    if (result.warnings !== undefined && result.warnings.length > 0) res.setHeader('Warning', [...result.warnings]);
    sendJson(res, result.code, result.body);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (!authenticated(path === '' ? '/' : path, req.headers.authorization)) throw unauthorized();
    const segments = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      switch (path) {
        case '/version':
          return sendJson(res, 200, versionInfo());
        case '/api':
          return sendJson(res, 200, apiVersions(serverAddress));
        case '/api/v1':
          return sendJson(res, 200, apiResourceList(''));
        case '/apis':
          return sendJson(res, 200, apiGroupList());
        case '/apis/apps':
          return sendJson(res, 200, apiGroup('apps'));
        case '/apis/apps/v1':
          return sendJson(res, 200, apiResourceList('apps'));
        case '/openapi/v3':
          return sendJson(res, 200, openApiV3Root());
        case '/healthz':
        case '/livez':
        case '/readyz':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('ok');
          return;
        default:
          break;
      }
      if (segments[0] === 'openapi' && segments[1] === 'v3') {
        const doc = openApiV3Document(segments.slice(2).join('/'));
        if (doc !== undefined) return sendJson(res, 200, doc);
      }
    }
    const r = parseResourcePath(segments);
    if (!r) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return handleResource(req, res, r, url.searchParams);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    route(req, res).then(
      () => log.debug({ method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started }, 'request'),
      (err: unknown) => {
        if (err instanceof ApiError) {
          log.debug({ method: req.method, url: req.url, code: err.code, reason: err.reason }, 'request refused');
          if (!res.headersSent) sendStatus(res, err.toStatus());
          else res.end();
          return;
        }
        log.error({ err, method: req.method, url: req.url }, 'request failed');
        if (!res.headersSent) sendStatus(res, new ApiError(500, 'InternalError', `an error on the server ("${(err as Error).message}") has prevented the request from succeeding`).toStatus());
        else res.end();
      },
    );
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(handler);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `${opts.host}:${port}`;
  const scheme = opts.tls ? 'https' : 'http';
  log.info({ url: `${scheme}://${serverAddress}` }, 'apiserver listening');
  return {
    port,
    url: `${scheme}://${serverAddress}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
