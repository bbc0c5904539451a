// What every dsctl command shares: resolving kind/name arguments, output formats, reaching the
// bus, and the reader's view of the state.

import type { Command } from 'commander';
import type { NatsConnection } from '@nats-io/transport-node';
import type { State } from '../../libs/core/state.js';
import { CredentialsError, looksLikeSecret } from '../../libs/auth/credentials.js';
import { BusAuthorizationError, BusUnavailableError, connectBus, readBusSecurity, type BusSecurity } from '../../libs/nats/connect.js';
import { contextPathFrom, readContext } from '../../libs/nats/bus-context.js';
import { patientRequests } from '../../libs/nats/patient-requests.js';
import { ConfigError, EnvReader } from '../../libs/runtime/env.js';
import { CliError } from './errors.js';
import type { GetKind, GetOutput } from '../../libs/present/get.js';

export const KIND_ALIASES: Record<string, GetKind> = {
  ds: 'ds',
  daemonset: 'ds',
  daemonsets: 'ds',
  'daemonset.apps': 'ds',
  'daemonsets.apps': 'ds',
  po: 'pods',
  pod: 'pods',
  pods: 'pods',
  no: 'nodes',
  node: 'nodes',
  nodes: 'nodes',
};

export interface GlobalOpts {
  server?: string;
  creds?: string;
}

export interface GetFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  selector?: string;
}

/** `ds/NAME` or `ds NAME` → kind and name. */
export function splitKindName(kindArg: string, nameArg: string | undefined): { kind: GetKind; name?: string } {
  let kindText = kindArg;
  let name = nameArg;
  const slash = kindArg.indexOf('/');
  if (slash > 0) {
    kindText = kindArg.slice(0, slash);
    if (name !== undefined) throw new CliError('error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
    name = kindArg.slice(slash + 1);
  }
  const kind = KIND_ALIASES[kindText.toLowerCase()];
  if (!kind) throw new CliError(`error: the server doesn't have a resource type "${kindText}"`);
  return { kind, ...(name !== undefined ? { name } : {}) };
}

export function outputOf(o: string | undefined): GetOutput {
  if (o === undefined) return 'table';
  if (o === 'wide' || o === 'json' || o === 'yaml' || o === 'name') return o;
  throw new CliError(`error: unable to match a printer suitable for the output format "${o}", allowed formats are: json,name,wide,yaml`);
}

export async function withBus<T>(program: Command, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const g = program.opts<GlobalOpts>();
  const { url, security: fromContext, source } = busTarget(g);
  let nc: NatsConnection;
  try {
    const r = new EnvReader(process.env);
    const fromEnv = readBusSecurity(r);
    r.done();
    // The context (npm start's) fills in only what the environment and flags leave open.
    const merged = { ...fromContext, ...fromEnv, ...(fromContext.tls || fromEnv.tls ? { tls: { ...fromContext.tls, ...fromEnv.tls } } : {}) };
    const security = g.creds !== undefined ? { ...merged, credsFile: g.creds } : merged;
    if (security.credsFile !== undefined && looksLikeSecret(security.credsFile)) {
      // The "cannot read credentials file <path>" error would quote the secret itself.
      throw new CliError(
        `error: ${g.creds !== undefined ? '--creds' : 'NATS_CREDS'} takes the path of a .creds file, and was given what looks like a seed, a JWT or a credentials file's text (not shown): ` +
          'put it in a .creds file (dsctl auth init writes them) and pass that path',
      );
    }
    nc = await connectBus({ url, name: 'dsctl', once: true, security });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CredentialsError || err instanceof BusAuthorizationError) throw new CliError(`error: ${err.message}`);
    if (err instanceof BusUnavailableError && /certificate|self[- ]signed/i.test(err.message)) {
      throw new CliError(`${err.message}\nThe server's certificate is not trusted here: set NATS_TLS_CA to the CA that signed it (with \`TLS=1 npm start\`: DATA_DIR/tls/ca.crt).`);
    }
    if (err instanceof BusUnavailableError) {
      const from = source === 'default' ? '' : source === 'flag' ? ' (from --server)' : source === 'env' ? ' (from NATS_URL)' : ` (from ${source}, written by npm start)`;
      throw new CliError(`${err.message}${from}\nIs the cluster running? Start one with \`npm start\`, or point dsctl at it with --server or NATS_URL.`);
    }
    throw err;
  }
  const debug = process.env['DSCTL_DEBUG'] !== undefined && process.env['DSCTL_DEBUG'] !== '';
  const pending = debug ? tracePendingRequests(nc) : undefined;
  // A JetStream election (a server of the cluster just died or came back) is waited out.
  patientRequests(nc, debug ? { onRetry: (subject, attempt, err) => process.stderr.write(`dsctl: ${subject}: try ${attempt} failed (${err.message}); trying again\n`) } : {});
  try {
    return await fn(nc);
  } catch (err) {
    if (pending !== undefined && pending.size > 0) process.stderr.write(`dsctl: requests: ${[...pending.values()].join('; ')}\n`);
    throw err;
  } finally {
    await nc.close();
  }
}

/**
 * Where the bus is, and from what: --server, then NATS_URL, then the bus context `npm start` wrote
 * (DSCTL_CONTEXT, or .data/context.json here), then nats://127.0.0.1:4222.
 */
function busTarget(g: GlobalOpts): { url: string; security: BusSecurity; source: string } {
  if (g.server !== undefined) return { url: g.server, security: {}, source: 'flag' };
  const envUrl = process.env['NATS_URL'];
  if (envUrl !== undefined && envUrl !== '') return { url: envUrl, security: {}, source: 'env' };
  const read = readContext(contextPathFrom(process.env, process.cwd()));
  if (!read.found) {
    if (read.problem !== undefined) throw new CliError(`error: the bus context ${read.problem}; set NATS_URL (and NATS_CREDS), or start the cluster again with \`npm start\``);
    return { url: 'nats://127.0.0.1:4222', security: {}, source: 'default' };
  }
  const c = read.context;
  return {
    url: c.server,
    security: { ...(c.creds !== undefined ? { credsFile: c.creds } : {}), ...(c.tlsCa !== undefined ? { tls: { caFile: c.tlsCa } } : {}) },
    source: read.path,
  };
}

/**
 * DSCTL_DEBUG=1: remembers the subject of every request that is still in flight or failed, so
 * that a bare "timeout" can say which JetStream call went unanswered.
 */
function tracePendingRequests(nc: NatsConnection): Map<number, string> {
  const pending = new Map<number, string>();
  const request = nc.request.bind(nc);
  let next = 0;
  nc.request = async (subject, payload, opts) => {
    const id = next++;
    const started = Date.now();
    pending.set(id, `${subject} in flight`);
    try {
      const reply = await request(subject, payload, opts);
      pending.delete(id);
      return reply;
    } catch (err) {
      pending.set(id, `${subject} failed after ${Date.now() - started} ms: ${(err as Error).message}`);
      throw err;
    }
  };
  return pending;
}

export function visible(state: State): State {
  // A DaemonSet deleted in the background is gone for readers at once (Kubernetes removes the
  // object first and collects its pods afterwards); a foreground delete stays visible.
  const daemonSets = new Map([...state.daemonSets].filter(([, ds]) => ds.deletion?.propagation !== 'background'));
  return { ...state, daemonSets };
}

