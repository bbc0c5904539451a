// TLS on the client connections (issue #8): a throwaway CA and certificates made with the
// `openssl` CLI, a nats-server with a `tls { … }` block, and connectBus with `security.tls`.
// Covers: server TLS trusted through the CA (JetStream works over it); the same server without
// the CA, or with another CA, refused as a certificate problem; TLS together with nkey
// credentials; mutual TLS (`verify: true`) with and without a client certificate, where nats.js
// reports only a timeout and connectBus reads the server's INFO (`tls_verify`) to say why.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { AUTH_CONF, credsPath, initAuthDir } from '../../libs/auth/auth-dir.js';
import { decodeEvent } from '../../libs/codec/codec.js';
import { BusAuthorizationError, BusClientCertificateError, BusUnavailableError, connectBus, probeServerTls, type BusSecurity } from '../../libs/nats/connect.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { LOG_STREAM, nodeSubject } from '../../libs/topology/names.js';
import { agentInboxPrefix } from '../../libs/topology/roles.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';
import { ownNatsServerUnavailable, startNats, type TestNats } from '../support/nats-server.js';
import { runCli } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);

function opensslUnavailable(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'the openssl CLI is not installed: this test makes its certificates with it (`apt-get install openssl`)';
}

/** Paths of a CA and the certificates it signed. */
interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', ...EC_KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** A leaf certificate signed by `ca`, with the given extensions (subjectAltName, extendedKeyUsage). */
async function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, `${extensions}\nbasicConstraints=CA:FALSE\n`);
  await run('openssl', ['req', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { cert, key };
}

async function makePki(dir: string): Promise<Pki> {
  const ca = await makeCa(dir, 'test-ca');
  const server = await makeLeaf(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  const client = await makeLeaf(dir, 'agent-client', ca, 'extendedKeyUsage=clientAuth');
  return { dir, caCert: ca.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

function tlsBlock(pki: Pki, verify: boolean): string {
  return [
    'tls {',
    `  cert_file: ${JSON.stringify(pki.serverCert)}`,
    `  key_file: ${JSON.stringify(pki.serverKey)}`,
    ...(verify ? [`  ca_file: ${JSON.stringify(pki.caCert)}`, '  verify: true'] : []),
    '  timeout: 2',
    '}',
    '',
  ].join('\n');
}

async function refusal(url: string, security: BusSecurity | undefined): Promise<unknown> {
  return connectBus({ url, name: 'tls-test', once: true, ...(security ? { security } : {}) }).then(
    async (nc) => {
      await nc.close();
      return assert.fail('the connection was accepted');
    },
    (e: unknown) => e,
  );
}

/**
 * What the server answers a TLS client, seen below the NATS client: read the plaintext INFO,
 * upgrade, send CONNECT and PING. `PONG` when it accepts; the TLS alert's error code when it
 * refuses the handshake (the NATS client reports only a timeout then: see the mutual TLS tests).
 */
async function tlsProbe(url: string, files: { readonly ca: string; readonly cert?: string; readonly key?: string }): Promise<string> {
  const [ca, cert, key] = await Promise.all([readFile(files.ca), files.cert ? readFile(files.cert) : undefined, files.key ? readFile(files.key) : undefined]);
  const raw = tcpConnect({ host: '127.0.0.1', port: Number(new URL(url).port) });
  await new Promise<void>((resolve, reject) => {
    raw.once('data', () => resolve());
    raw.once('error', reject);
  });
  return new Promise<string>((resolve) => {
    const s = tlsConnect({ socket: raw, servername: 'localhost', ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
    const done = (answer: string): void => {
      resolve(answer);
      s.destroy();
    };
    s.once('secureConnect', () => s.write('CONNECT {"verbose":false}\r\nPING\r\n'));
    s.once('data', (d: Buffer) => done(d.toString('utf8').trim()));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.once('close', () => done('closed'));
  });
}

describe('TLS on the bus (issue #8)', { skip: ownNatsServerUnavailable() ?? opensslUnavailable() }, () => {
  let pki: Pki;
  let otherCa: { cert: string; key: string };
  const open: NatsConnection[] = [];

  before(async () => {
    const dir = await tempDir('tls-test-');
    pki = await makePki(dir);
    otherCa = await makeCa(dir, 'other-ca');
  });

  after(async () => {
    for (const nc of open) await nc.close();
    if (pki !== undefined) await rm(pki.dir, { recursive: true, force: true });
  });

  describe('server TLS', () => {
    let nats: TestNats;
    before(async () => {
      nats = await startNats({ configText: tlsBlock(pki, false) });
    });
    after(async () => {
      await nats?.stop();
    });

    it('connectBus trusting the CA connects over TLS, and JetStream works over it', async () => {
      const nc = await connectBus({ url: nats.url, name: 'tls-test', once: true, security: { tls: { caFile: pki.caCert } } });
      open.push(nc);
      assert.equal(nc.info?.tls_required, true);
      assert.deepEqual(await ensureTopology(nc), { slots: 64 });
      const ack = await publishEvent(jetstream(nc), { subject: nodeSubject('node-a'), event: EVENT_SAMPLES.NodeRegistered });
      const stored = await (await jetstreamManager(nc)).streams.getMessage(LOG_STREAM, { seq: ack.seq });
      assert.deepEqual(decodeEvent(stored!.data), { ok: true, event: EVENT_SAMPLES.NodeRegistered });
    });

    it("the server's plain-text INFO says TLS is required, but not client certificates", async () => {
      assert.deepEqual(await probeServerTls(nats.url), { tlsRequired: true, tlsVerify: false });
    });

    const untrusted: readonly [string, () => BusSecurity | undefined][] = [
      ['without a CA (the system roots do not know it)', () => undefined],
      ['trusting another CA', () => ({ tls: { caFile: otherCa.cert } })],
    ];
    for (const [what, security] of untrusted) {
      it(`connectBus ${what} fails with BusUnavailableError naming the certificate problem`, async () => {
        const err = await refusal(nats.url, security());
        assert.ok(err instanceof BusUnavailableError, String(err));
        assert.equal(err.message, `cannot reach NATS at ${nats.url}: unable to verify the first certificate`);
      });
    }
  });

  it('a server certificate for IP:127.0.0.1 alone is refused: the client checks it against the name localhost', async () => {
    // nats.js connects to an IP address with an empty TLS server name, and Node then checks the
    // certificate against `localhost`: certificates for a local server need DNS:localhost too.
    const ca = { cert: pki.caCert, key: join(pki.dir, 'test-ca.key') };
    const ipOnly = await makeLeaf(pki.dir, 'server-ip-only', ca, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
    const nats = await startNats({ configText: tlsBlock({ ...pki, serverCert: ipOnly.cert, serverKey: ipOnly.key }, false) });
    try {
      const err = await refusal(nats.url, { tls: { caFile: pki.caCert } });
      assert.ok(err instanceof BusUnavailableError, String(err));
      assert.equal(err.message, `cannot reach NATS at ${nats.url}: Hostname/IP does not match certificate's altnames: Host: localhost. is not cert's CN: server-ip-only`);
    } finally {
      await nats.stop();
    }
  });

  describe('TLS with nkey credentials', () => {
    let nats: TestNats;
    let authDir: string;
    before(async () => {
      authDir = await tempDir('tls-auth-');
      initAuthDir(authDir, ['node-a']);
      nats = await startNats({ configText: `${tlsBlock(pki, false)}${await readFile(join(authDir, AUTH_CONF), 'utf8')}` });
    });
    after(async () => {
      await nats?.stop();
      if (authDir !== undefined) await rm(authDir, { recursive: true, force: true });
    });

    it('the admin with its creds and the CA creates the topology; the agent publishes as its node', async () => {
      const admin = await connectBus({ url: nats.url, name: 'admin', once: true, security: { credsFile: credsPath(authDir, { role: 'admin' }), tls: { caFile: pki.caCert } } });
      open.push(admin);
      assert.deepEqual(await ensureTopology(admin), { slots: 64 });
      const agent = await connectBus({
        url: nats.url,
        name: 'agent/node-a',
        once: true,
        inboxPrefix: agentInboxPrefix('node-a'),
        security: { credsFile: credsPath(authDir, { role: 'agent', node: 'node-a' }), tls: { caFile: pki.caCert } },
      });
      open.push(agent);
      const ack = await publishEvent(jetstream(agent), { subject: nodeSubject('node-a'), event: EVENT_SAMPLES.NodeRegistered });
      assert.equal(ack.seq, 1);
    });

    it('TLS without credentials is refused as an authorization violation', async () => {
      const err = await refusal(nats.url, { tls: { caFile: pki.caCert } });
      assert.ok(err instanceof BusAuthorizationError, String(err));
      assert.equal(err.message, `NATS at ${nats.url} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)`);
    });

    it('credentials without the CA fail on the certificate before any credentials are sent', async () => {
      const err = await refusal(nats.url, { credsFile: credsPath(authDir, { role: 'admin' }) });
      assert.ok(err instanceof BusUnavailableError, String(err));
      assert.equal(err.message, `cannot reach NATS at ${nats.url}: unable to verify the first certificate`);
    });
  });

  describe('mutual TLS (verify: true)', () => {
    let nats: TestNats;
    before(async () => {
      nats = await startNats({ configText: tlsBlock(pki, true) });
    });
    after(async () => {
      await nats?.stop();
    });

    it('a client certificate from the CA is accepted', async () => {
      const nc = await connectBus({
        url: nats.url,
        name: 'mtls-test',
        once: true,
        security: { tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey } },
      });
      open.push(nc);
      assert.deepEqual(await ensureTopology(nc), { slots: 64 });
    });

    it('the probe sees the server accept a client certificate from the CA (PONG)', async () => {
      assert.equal(await tlsProbe(nats.url, { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey }), 'PONG');
    });

    it("the server's plain-text INFO says it verifies client certificates (tls_verify)", async () => {
      assert.deepEqual(await probeServerTls(nats.url), { tlsRequired: true, tlsVerify: true });
    });

    it('without a client certificate the server refuses the handshake (TLS alert: bad certificate), and connectBus says a certificate is required', async () => {
      assert.equal(await tlsProbe(nats.url, { ca: pki.caCert }), 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
      // With TLS 1.3 the alert comes after the client's side of the handshake is done, and the NATS
      // client reports only its connect timeout; connectBus then reads the server's INFO.
      const err = await refusal(nats.url, { tls: { caFile: pki.caCert } });
      assert.ok(err instanceof BusClientCertificateError, String(err));
      assert.equal(
        err.message,
        `NATS at ${nats.url} requires a client certificate (mutual TLS) and none was given: set NATS_TLS_CERT and NATS_TLS_KEY to a certificate and key signed by a CA the server trusts`,
      );
      assert.ok(err.cause instanceof TimeoutError, String(err.cause));
    });

    it('a client certificate from another CA is refused (TLS alert: bad certificate), and connectBus names the certificate it may have refused', async () => {
      const stranger = await makeLeaf(pki.dir, 'stranger', otherCa, 'extendedKeyUsage=clientAuth');
      assert.equal(await tlsProbe(nats.url, { ca: pki.caCert, cert: stranger.cert, key: stranger.key }), 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE');
      const err = await refusal(nats.url, { tls: { caFile: pki.caCert, certFile: stranger.cert, keyFile: stranger.key } });
      assert.ok(err instanceof BusClientCertificateError, String(err));
      assert.equal(
        err.message,
        `NATS at ${nats.url} verifies client certificates (mutual TLS) and did not answer after the TLS handshake: it may have refused the certificate in ${stranger.cert} (is it signed by a CA in the server's ca_file, and made for client authentication?)`,
      );
    });

    it('dsctl without a client certificate prints that the server requires one, and exits 1', async () => {
      const r = await runCli(['get', 'ds', '-A'], { NATS_URL: nats.url, NATS_TLS_CA: pki.caCert, NATS_TLS_CERT: undefined, NATS_TLS_KEY: undefined, NATS_CREDS: undefined });
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        {
          code: 1,
          stdout: '',
          stderr: `error: NATS at ${nats.url} requires a client certificate (mutual TLS) and none was given: set NATS_TLS_CERT and NATS_TLS_KEY to a certificate and key signed by a CA the server trusts\n`,
        },
      );
    });
  });
});
