// AUTH=1: the credentials folder (DATA_DIR/auth) the launcher keeps and what it reads from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_CONF, initAuthDir, readApiserverToken } from '../../libs/auth/auth-dir.js';
import type { LocalClusterConfig } from './config.js';
import { ensureApiserverTls } from './tls.js';
import type { ApiserverTls } from './tls.js';

/** The credentials folder `npm start` writes when AUTH=1. */
export function authDirOf(config: LocalClusterConfig): string {
  return join(config.dataDir, 'auth');
}

/** What the launcher read from the credentials folder (AUTH=1). */
export interface AuthMaterial {
  /** The nats-server `authorization` block (auth.conf). */
  readonly authorization: string;
  /** The API facade's bearer token, for the kubeconfig. */
  readonly token: string;
  /** The API facade's certificate (when it runs): kubectl sends a token only to an https:// server. */
  readonly apiserverTls?: ApiserverTls;
}

/**
 * Writes what is missing in the credentials folder (idempotent: existing keys are kept, missing
 * ones, a new NODES count say, are added), makes the API facade's certificate when the facade runs,
 * and reads it all back. `failed`: openssl could not make the certificate.
 */
export function prepareAuth(config: LocalClusterConfig): { readonly ok: true; readonly auth: AuthMaterial } | { readonly ok: false; readonly failed: string } {
  const dir = authDirOf(config);
  initAuthDir(dir, Array.from({ length: config.nodes }, (_, i) => `node-${i + 1}`));
  let apiserverTls: ApiserverTls | undefined;
  if (config.apiserverPort > 0) {
    const made = ensureApiserverTls(dir);
    if (!made.ok) return made;
    apiserverTls = made.tls;
  }
  const auth: AuthMaterial = {
    authorization: readFileSync(join(dir, AUTH_CONF), 'utf8'),
    token: readApiserverToken(dir) ?? '',
    ...(apiserverTls ? { apiserverTls } : {}),
  };
  return { ok: true, auth };
}
