// Connecting to the bus: one place for connection options and status logging.

import { AuthorizationError, connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { authenticatorFromCredsFile, CredentialsError } from '../auth/credentials.js';
import type { EnvReader } from '../runtime/env.js';

/** How a process proves who it is and protects the connection; read from the environment. */
export interface BusSecurity {
  /** A `.creds` file (`NATS_CREDS`): the nkey seed, or an `nsc` user JWT and seed. */
  readonly credsFile?: string;
  /** TLS for the client connection: the CA to trust, and a client certificate for mutual TLS. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
}

/** The variables `readBusSecurity` reads (every service lists them among its ENV_VARS). */
export const BUS_SECURITY_ENV_VARS = ['NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'] as const;

export function readBusSecurity(r: EnvReader): BusSecurity {
  const credsFile = r.optional('NATS_CREDS');
  const caFile = r.optional('NATS_TLS_CA');
  const certFile = r.optional('NATS_TLS_CERT');
  const keyFile = r.optional('NATS_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) r.problem('NATS_TLS_CERT and NATS_TLS_KEY go together: set both for a client certificate, or neither');
  const tls = caFile !== undefined || certFile !== undefined ? { ...(caFile !== undefined ? { caFile } : {}), ...(certFile !== undefined ? { certFile, keyFile: keyFile! } : {}) } : undefined;
  return { ...(credsFile !== undefined ? { credsFile } : {}), ...(tls ? { tls } : {}) };
}

function securityOptions(security: BusSecurity | undefined): Partial<ConnectionOptions> {
  if (!security) return {};
  return {
    ...(security.credsFile !== undefined ? { authenticator: authenticatorFromCredsFile(security.credsFile) } : {}),
    ...(security.tls ? { tls: { ...security.tls } } : {}),
  };
}

export interface ConnectOptions {
  readonly url: string;
  /** Connection name shown by the server (`service/node`). */
  readonly name: string;
  readonly log?: Logger;
  /** Give up after the first failed attempt (the CLI); services retry forever. */
  readonly once?: boolean;
  readonly security?: BusSecurity;
  /** Reply subjects start with this (an agent's permissions allow only its own). */
  readonly inboxPrefix?: string;
}

/**
 * The server URL(s) with credentials replaced by `***` (`nats://user:***@host:4222`, a token
 * `nats://***@host`), for messages and logs: dsctl prints an error's message, and pino
 * serializes message, stack and fields.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((server) => {
      const at = server.lastIndexOf('@');
      if (at < 0) return server;
      const scheme = server.indexOf('//');
      const start = scheme >= 0 && scheme < at ? scheme + 2 : server.length - server.trimStart().length;
      const userinfo = server.slice(start, at);
      const colon = userinfo.indexOf(':');
      return `${server.slice(0, start)}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}${server.slice(at)}`;
    })
    .join(',');
}

/** The passwords and tokens in `url`, to blank out of text that might quote them. */
function secretsOf(url: string): string[] {
  const secrets: string[] = [];
  for (const server of url.split(',')) {
    const at = server.lastIndexOf('@');
    if (at < 0) continue;
    const scheme = server.indexOf('//');
    const userinfo = server.slice(scheme >= 0 && scheme < at ? scheme + 2 : 0, at).trim();
    const colon = userinfo.indexOf(':');
    const secret = colon >= 0 ? userinfo.slice(colon + 1) : userinfo;
    if (secret !== '') secrets.push(secret, encodeURIComponent(secret), safeDecode(secret));
  }
  return secrets.filter((s) => s !== '');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redactText(text: string, url: string): string {
  let out = text;
  for (const secret of secretsOf(url)) out = out.split(secret).join('***');
  return out;
}

export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
  /** The URL asked for, password redacted. */
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const safe = redactUrl(url);
    super(`cannot reach NATS at ${safe}: ${redactText(cause instanceof Error ? cause.message : String(cause), url)}`, { cause });
    this.url = safe;
  }
}

/** The server refused who we are: no credentials where they are required, or unknown ones. */
export class BusAuthorizationError extends Error {
  override readonly name = 'BusAuthorizationError';
  readonly url: string;
  constructor(url: string, credsFile: string | undefined) {
    const safe = redactUrl(url);
    super(
      credsFile === undefined
        ? `NATS at ${safe} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)`
        : `NATS at ${safe} refused the credentials in ${credsFile}: authorization violation (is this identity in the server's auth.conf, and was the server reloaded?)`,
    );
    this.url = safe;
  }
}

export async function connectBus(opts: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    const secured = securityOptions(opts.security);
    nc = await connect({
      ...secured,
      ...(opts.inboxPrefix !== undefined ? { inboxPrefix: opts.inboxPrefix } : {}),
      servers: opts.url.split(',').map((s) => s.trim()),
      name: opts.name,
      // Measured: async stack traces cost about half of the client's CPU per publish.
      noAsyncTraces: true,
      maxReconnectAttempts: opts.once ? 0 : -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: !opts.once,
      timeout: opts.once ? 3000 : 10_000,
    });
  } catch (err) {
    if (err instanceof CredentialsError) throw err;
    if (err instanceof AuthorizationError || (err instanceof Error && /authorization violation/i.test(err.message))) {
      throw new BusAuthorizationError(opts.url, opts.security?.credsFile);
    }
    throw new BusUnavailableError(opts.url, err);
  }
  const log = opts.log;
  if (log) {
    log.info({ server: nc.getServer(), version: nc.info?.version }, 'connected to NATS');
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
          log.warn({ status: s.type, server: 'server' in s ? s.server : undefined }, 'NATS connection status');
        }
      }
    })().catch((err: unknown) => log.error({ err }, 'status loop failed'));
  }
  return nc;
}
