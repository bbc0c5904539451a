// API server facade configuration: parsed once from the environment, frozen, units in the names.
//
// It serves plain HTTP (no TLS) on 127.0.0.1:8001 by default, the address `kubectl proxy` uses,
// so a kubeconfig needs only `server: http://127.0.0.1:8001`. With APISERVER_TLS_CERT_FILE and
// APISERVER_TLS_KEY_FILE (PEM) it serves HTTPS instead. With APISERVER_TOKEN_FILE set, every
// request but the health checks must carry `Authorization: Bearer <token>` (the file's content,
// trimmed); the kubeconfig then names it as the user's `token`. kubectl (client-go) sends user
// credentials only to an https:// server, so a token needs TLS to be usable by kubectl.

import { readFile } from 'node:fs/promises';
import { BUS_SECURITY_ENV_VARS, readBusSecurity, type BusSecurity } from '../../libs/nats/connect.js';
import { EnvReader, type Env } from '../../libs/runtime/env.js';

/** Every variable the API server reads. */
export const ENV_VARS = ['NATS_URL', ...BUS_SECURITY_ENV_VARS, 'LOG_LEVEL', 'APISERVER_HOST', 'APISERVER_PORT', 'APISERVER_TOKEN_FILE', 'APISERVER_TLS_CERT_FILE', 'APISERVER_TLS_KEY_FILE', 'SHUTDOWN_GRACE_MS'] as const;

export const DEFAULT_APISERVER_PORT = 8001;
export const DEFAULT_APISERVER_HOST = '127.0.0.1';

export interface ApiserverConfig {
  readonly natsUrl: string;
  /** Credentials and TLS for the bus (NATS_CREDS, NATS_TLS_*). */
  readonly security: BusSecurity;
  readonly logLevel: string;
  /** Interface to listen on; 127.0.0.1 keeps the unauthenticated API local. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** A file holding the bearer token every request must carry; undefined: no authentication. */
  readonly tokenFile: string | undefined;
  /** PEM certificate and key files: HTTPS when both are set. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly shutdownGraceMs: number;
}

export function loadApiserverConfig(env: Env): ApiserverConfig {
  const r = new EnvReader(env);
  const cfg: { -readonly [K in keyof ApiserverConfig]: ApiserverConfig[K] } = {
    natsUrl: r.string('NATS_URL', 'nats://127.0.0.1:4222'),
    security: readBusSecurity(r),
    logLevel: r.string('LOG_LEVEL', 'info'),
    host: r.string('APISERVER_HOST', DEFAULT_APISERVER_HOST),
    port: r.int('APISERVER_PORT', DEFAULT_APISERVER_PORT, { min: 0, max: 65_535 }),
    tokenFile: r.optional('APISERVER_TOKEN_FILE'),
    tls: undefined,
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, { min: 100 }),
  };
  const certFile = r.optional('APISERVER_TLS_CERT_FILE');
  const keyFile = r.optional('APISERVER_TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) r.problem('APISERVER_TLS_CERT_FILE and APISERVER_TLS_KEY_FILE go together: set both or neither');
  else if (certFile !== undefined && keyFile !== undefined) cfg.tls = { certFile, keyFile };
  r.done();
  return Object.freeze(cfg);
}

/** A secret file that cannot be used; the error names the file, never its content. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
}

/** Reads the bearer token from `tokenFile` (its content, trimmed; an empty token is refused). */
export async function readToken(tokenFile: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(tokenFile, 'utf8');
  } catch (err) {
    throw new TokenFileError(`APISERVER_TOKEN_FILE ${JSON.stringify(tokenFile)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const token = text.trim();
  if (token === '') throw new TokenFileError(`APISERVER_TOKEN_FILE ${JSON.stringify(tokenFile)} is empty`);
  return token;
}

/** The PEM certificate and key for HTTPS. */
export async function readTls(tls: { readonly certFile: string; readonly keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new TokenFileError(`${what} ${JSON.stringify(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: await read(tls.certFile, 'APISERVER_TLS_CERT_FILE'), key: await read(tls.keyFile, 'APISERVER_TLS_KEY_FILE') };
}
