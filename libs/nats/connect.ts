// Connecting to the bus: one place for connection options and status logging.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export interface ConnectOptions {
  readonly url: string;
  /** Connection name shown by the server (`service/node`). */
  readonly name: string;
  readonly log?: Logger;
  /** Give up after the first failed attempt (the CLI); services retry forever. */
  readonly once?: boolean;
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

export async function connectBus(opts: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
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
