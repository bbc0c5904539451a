// Connecting to the bus: one place for connection options and status logging.

import { connect as tcpConnect } from 'node:net';
import { AuthorizationError, connect, TimeoutError, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
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

/**
 * The server wants a client certificate (mutual TLS, `verify: true`): none was given, or it
 * refused the one given. nats.js cannot say so itself: with TLS 1.3 the client's side of the
 * handshake completes before the server checks the certificate, the server's alert closes the
 * socket, and the client reports only its connect timeout. The server's INFO, sent in plain text
 * before the handshake, says `tls_verify: true`; connectBus reads it after such a timeout.
 */
export class BusClientCertificateError extends Error {
  override readonly name = 'BusClientCertificateError';
  readonly url: string;
  constructor(url: string, certFile: string | undefined, cause: unknown) {
    const safe = redactUrl(url);
    super(
      certFile === undefined
        ? `NATS at ${safe} requires a client certificate (mutual TLS) and none was given: set NATS_TLS_CERT and NATS_TLS_KEY to a certificate and key signed by a CA the server trusts`
        : `NATS at ${safe} verifies client certificates (mutual TLS) and did not answer after the TLS handshake: it may have refused the certificate in ${certFile} (is it signed by a CA in the server's ca_file, and made for client authentication?)`,
      { cause },
    );
    this.url = safe;
  }
}

/** What a server's INFO line says about TLS (the fields connectBus looks at). */
export interface ServerTlsInfo {
  readonly tlsRequired: boolean;
  /** The server asks every client for a certificate and refuses the connection without one. */
  readonly tlsVerify: boolean;
}

const INFO_PROBE_TIMEOUT_MS = 1_000;
const DEFAULT_PORT = 4222;

/** `host:port` of one entry of a server list (`nats://h:p`, `tls://h:p`, `h:p`, `h`); undefined for websockets or nonsense. */
function hostPort(server: string): { host: string; port: number } | undefined {
  const text = server.trim();
  let u: URL;
  try {
    u = new URL(text.includes('://') ? text : `nats://${text}`);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') return undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === '' ? undefined : { host, port: u.port === '' ? DEFAULT_PORT : Number(u.port) };
}

/**
 * Reads the INFO line a NATS server sends to every new connection before anything else (before
 * TLS, unless the server is set for TLS first), then hangs up. Undefined when the server does not
 * answer with one within a second.
 */
export function probeServerTls(server: string, timeoutMs = INFO_PROBE_TIMEOUT_MS): Promise<ServerTlsInfo | undefined> {
  const target = hostPort(server);
  if (!target) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let buffered = '';
    const socket = tcpConnect(target);
    const finish = (info: ServerTlsInfo | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(info);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\r\n');
      if (end < 0) {
        if (buffered.length > 64 * 1024) finish(undefined);
        return;
      }
      const m = /^INFO\s+(\{.*\})\s*$/.exec(buffered.slice(0, end));
      let parsed: unknown;
      try {
        parsed = m ? JSON.parse(m[1]!) : undefined;
      } catch {
        parsed = undefined;
      }
      const info = parsed as { tls_required?: unknown; tls_verify?: unknown } | undefined;
      finish(info === undefined ? undefined : { tlsRequired: info.tls_required === true, tlsVerify: info.tls_verify === true });
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** After a connect timeout: whether a server of `url` requires client certificates. */
async function requiresClientCertificate(url: string): Promise<boolean> {
  for (const server of url.split(',')) {
    const info = await probeServerTls(server);
    if (info?.tlsVerify) return true;
  }
  return false;
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
    if (err instanceof TimeoutError && (await requiresClientCertificate(opts.url))) {
      throw new BusClientCertificateError(opts.url, opts.security?.tls?.certFile, err);
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
