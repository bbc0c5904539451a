// Connecting to the bus: one place for connection options and status logging. A service waits
// for a server that is not reachable yet (retryUntilReady, logging why at a bounded rate) and
// fails fast on what waiting cannot mend (credentials, TLS): see bus-errors.ts.

import { connect as tcpConnect } from 'node:net';
import { AuthorizationError, connect, TimeoutError, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { authenticatorFromCredsFile, CredentialsError } from '../auth/credentials.js';
import type { EnvReader } from '../runtime/env.js';
import { retryUntilReady } from '../runtime/retry.js';
import { classifyBusError } from './bus-errors.js';
import { BusAuthorizationError, BusClientCertificateError, BusUnavailableError, redactUrl } from './connect-errors.js';

export { BusAuthorizationError, BusClientCertificateError, BusUnavailableError, redactUrl };

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
  /**
   * Give up after the first failed attempt (the CLI). Otherwise (services) the first connection
   * is retried with back-off while the failure may pass (no server yet, refused, timed out), and
   * a connection that was made reconnects forever.
   */
  readonly once?: boolean;
  /** Ends the wait for a first connection (a signal while starting): rejects with its reason. */
  readonly signal?: AbortSignal;
  readonly security?: BusSecurity;
  /** Reply subjects start with this (an agent's permissions allow only its own). */
  readonly inboxPrefix?: string;
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
  const nc = opts.once
    ? await connectOnce(opts)
    : await retryUntilReady(() => connectOnce(opts), {
        log: opts.log ?? pino({ level: 'silent' }),
        waitingMsg: 'waiting for NATS',
        readyMsg: 'NATS reachable',
        classify: classifyBusError,
        fields: { url: redactUrl(opts.url) },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
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

/** One try at a first connection, its failure turned into one of the Bus…Error classes. */
async function connectOnce(opts: ConnectOptions): Promise<NatsConnection> {
  try {
    const secured = securityOptions(opts.security);
    return await connect({
      ...secured,
      ...(opts.inboxPrefix !== undefined ? { inboxPrefix: opts.inboxPrefix } : {}),
      servers: opts.url.split(',').map((s) => s.trim()),
      name: opts.name,
      // Measured: async stack traces cost about half of the client's CPU per publish.
      noAsyncTraces: true,
      maxReconnectAttempts: opts.once ? 0 : -1,
      reconnectTimeWait: 500,
      // The first connection is retried by connectBus, which logs why it waits (nats.js's
      // waitOnFirstConnect waits silently) and tells a refusal from an absence.
      waitOnFirstConnect: false,
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
}
