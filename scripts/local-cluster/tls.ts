// The certificates the launcher makes with openssl: the API facade's self-signed one (AUTH=1) and
// the bus's CA and server certificate (TLS=1). Kept across starts; every key is 0600.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalClusterConfig } from './config.js';

/** The openssl command line that makes the API facade's self-signed certificate for 127.0.0.1. */
export function apiserverCertArgs(certFile: string, keyFile: string): string[] {
  return [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
    '-subj', '/CN=daemonset-js apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ];
}

/**
 * The API facade's self-signed TLS certificate and key (PEM files): kubectl sends a token only to an
 * https:// server. The certificate also goes into the kubeconfig as its CA.
 */
export interface ApiserverTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
}

/** The bus's TLS files `npm start` makes when TLS=1, all in DATA_DIR/tls, all mode 0600. */
export interface BusTlsFiles {
  /** The self-signed CA every client trusts (NATS_TLS_CA). */
  readonly caFile: string;
  /** The CA's key: kept to sign the server certificate again when it is missing. */
  readonly caKeyFile: string;
  /** The servers' certificate, for IP:127.0.0.1 and DNS:localhost, signed by the CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** The folder of the bus's TLS files (TLS=1). */
export function tlsDirOf(config: LocalClusterConfig): string {
  return join(config.dataDir, 'tls');
}

export function busTlsFiles(config: LocalClusterConfig): BusTlsFiles {
  const dir = tlsDirOf(config);
  return { caFile: join(dir, 'ca.crt'), caKeyFile: join(dir, 'ca.key'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

const EC_KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const;
const CERT_DAYS = '825';

/** The openssl command line that makes the bus's self-signed CA. */
export function busCaArgs(files: BusTlsFiles): string[] {
  return [
    'req', '-x509', ...EC_KEY_ARGS, '-days', CERT_DAYS, '-subj', '/CN=daemonset-js local CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', files.caKeyFile, '-out', files.caFile,
  ];
}

/** The openssl command line that makes the servers' key and certificate request. */
export function busServerRequestArgs(files: BusTlsFiles, csrFile: string): string[] {
  return ['req', ...EC_KEY_ARGS, '-subj', '/CN=daemonset-js nats-server', '-keyout', files.keyFile, '-out', csrFile];
}

/**
 * The extensions of the servers' certificate. nats.js connects to an IP address with an empty TLS
 * server name, and Node then checks the certificate against `localhost`: hence DNS:localhost too.
 */
export const BUS_SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';

/** The openssl command line that signs the servers' request with the CA (`extFile` holds BUS_SERVER_EXTENSIONS). */
export function busServerSignArgs(files: BusTlsFiles, csrFile: string, extFile: string): string[] {
  return [
    'x509', '-req', '-in', csrFile, '-CA', files.caFile, '-CAkey', files.caKeyFile, '-CAcreateserial',
    '-days', CERT_DAYS, '-extfile', extFile, '-out', files.certFile,
  ];
}

/** Runs openssl; returns why it failed, or undefined when it worked. */
function openssl(args: readonly string[]): string | undefined {
  const made = spawnSync('openssl', [...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (made.error !== undefined) return made.error.message;
  return made.status === 0 ? undefined : made.stderr.trim() || `openssl ${args[0] ?? ''} exited with code ${made.status ?? made.signal ?? '?'}`;
}

/**
 * The API facade's certificate and key in `dir` (apiserver-tls.crt, apiserver-tls.key), made with
 * openssl where either is missing (the key then 0600); `failed` says why openssl could not.
 */
export function ensureApiserverTls(dir: string): { readonly ok: true; readonly tls: ApiserverTls } | { readonly ok: false; readonly failed: string } {
  const certFile = join(dir, 'apiserver-tls.crt');
  const keyFile = join(dir, 'apiserver-tls.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const failed = openssl(apiserverCertArgs(certFile, keyFile));
    if (failed !== undefined) return { ok: false, failed };
    chmodSync(keyFile, 0o600);
  }
  return { ok: true, tls: { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') } };
}

/**
 * Makes the bus's CA and the servers' certificate where they are missing. Both are kept across
 * starts, like the credentials, so a client's NATS_TLS_CA stays valid; a missing server pair is
 * signed again by the CA there is. Every file ends up 0600 in a 0700 folder. Returns why it
 * failed, or undefined.
 */
export function ensureBusTls(files: BusTlsFiles): string | undefined {
  const dir = dirname(files.caFile);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const newCa = !existsSync(files.caFile) || !existsSync(files.caKeyFile);
  if (newCa) {
    const failed = openssl(busCaArgs(files));
    if (failed !== undefined) return failed;
  }
  if (newCa || !existsSync(files.certFile) || !existsSync(files.keyFile)) {
    const csrFile = join(dir, 'server.csr');
    const extFile = join(dir, 'server.ext');
    writeFileSync(extFile, BUS_SERVER_EXTENSIONS, { mode: 0o600 });
    const failed = openssl(busServerRequestArgs(files, csrFile)) ?? openssl(busServerSignArgs(files, csrFile, extFile));
    rmSync(csrFile, { force: true });
    rmSync(extFile, { force: true });
    if (failed !== undefined) return failed;
  }
  for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o600);
  return undefined;
}
