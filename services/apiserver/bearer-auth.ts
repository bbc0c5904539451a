// Bearer-token authentication: a request is let in when its `Authorization: Bearer <token>` names
// the configured token. Compared in constant time: both sides are hashed to SHA-256 first, so
// crypto.timingSafeEqual always compares equal-length buffers and the token's length does not
// leak either. The token is never logged and never echoed.

import { createHash, timingSafeEqual } from 'node:crypto';

/** Paths served without a token, as the API server serves its health checks to anyone. */
const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz']);

export type Authenticator = (path: string, authorization: string | undefined) => boolean;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Every request is let in when `token` is undefined (no APISERVER_TOKEN_FILE). */
export function bearerAuthenticator(token: string | undefined): Authenticator {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (path, authorization) => {
    if (OPEN_PATHS.has(path)) return true;
    if (authorization === undefined) return false;
    const match = /^Bearer +(.+)$/i.exec(authorization.trim());
    if (match === null) return false;
    return timingSafeEqual(digest(match[1]!), expected);
  };
}
