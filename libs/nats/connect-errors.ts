// The errors of connecting to the bus, each with a message that says what to do. Passwords and
// tokens in the URL are blanked out of every message (dsctl prints an error's message, and pino
// serializes message, stack and fields).

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
