// The bus context: where a local cluster's bus is and the credentials to reach it, written by
// `npm start` into DATA_DIR/context.json so that dsctl finds the cluster without flags (as kind's
// kubeconfig lets kubectl find a kind cluster). Explicit settings always win: dsctl reads the
// context only when neither --server nor NATS_URL says where the bus is.
//
// Where dsctl looks: DSCTL_CONTEXT (a path) if set, else `<DATA_DIR or .data>/context.json` from
// the current folder (where `npm start` runs). The file holds paths, never secrets.

import { readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const CONTEXT_FILE = 'context.json';

export interface BusContext {
  readonly apiVersion: 'daemonset-js.io/v1';
  readonly kind: 'BusContext';
  /** NATS_URL of the cluster. */
  readonly server: string;
  /** The admin's .creds file (credentials on), absolute. */
  readonly creds?: string;
  /** The CA that signed the server's certificate (TLS on), absolute. */
  readonly tlsCa?: string;
  /** Who wrote it, for messages ("npm start, DATA_DIR /x/.data"). */
  readonly writtenBy: string;
}

/** Where dsctl looks for the context (absolute). */
export function contextPathFrom(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const explicit = env['DSCTL_CONTEXT'];
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit);
  return resolve(cwd, env['DATA_DIR'] || '.data', CONTEXT_FILE);
}

export type ContextRead = { readonly found: true; readonly context: BusContext; readonly path: string } | { readonly found: false; readonly path: string; readonly problem?: string };

/** Reads and checks a context file; a missing file is not a problem, a malformed one is. */
export function readContext(path: string): ContextRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: false, path };
    return { found: false, path, problem: `cannot read ${path}: ${(err as Error).message}` };
  }
  const parsed = parseContext(text);
  return parsed.ok ? { found: true, context: parsed.context, path } : { found: false, path, problem: `${path}: ${parsed.problem}` };
}

/** PURE: the text of a context file → the context, or what is wrong with it. */
export function parseContext(text: string): { ok: true; context: BusContext } | { ok: false; problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, problem: 'not an object' };
  const o = v as Record<string, unknown>;
  if (o['kind'] !== 'BusContext' || o['apiVersion'] !== 'daemonset-js.io/v1') return { ok: false, problem: 'not a daemonset-js.io/v1 BusContext' };
  if (typeof o['server'] !== 'string' || o['server'] === '') return { ok: false, problem: 'server: expected a NATS URL' };
  for (const k of ['creds', 'tlsCa', 'writtenBy'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') return { ok: false, problem: `${k}: expected a string` };
  }
  return {
    ok: true,
    context: {
      apiVersion: 'daemonset-js.io/v1',
      kind: 'BusContext',
      server: o['server'] as string,
      ...(typeof o['creds'] === 'string' ? { creds: o['creds'] } : {}),
      ...(typeof o['tlsCa'] === 'string' ? { tlsCa: o['tlsCa'] } : {}),
      writtenBy: typeof o['writtenBy'] === 'string' ? o['writtenBy'] : 'unknown',
    },
  };
}

/** Writes `DATA_DIR/context.json` atomically (0600: it names the admin's credentials). */
export async function writeContext(dataDir: string, context: Omit<BusContext, 'apiVersion' | 'kind'>): Promise<string> {
  const path = join(dataDir, CONTEXT_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const full: BusContext = { apiVersion: 'daemonset-js.io/v1', kind: 'BusContext', ...context };
  await writeFile(tmp, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return path;
}
