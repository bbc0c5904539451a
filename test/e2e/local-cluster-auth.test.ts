// `AUTH=1 npm start` and `TLS=1 AUTH=1 npm start` end to end (issue #8): the real launcher
// (dist/scripts/local-cluster.js) with its nats-server, controller, API facade and sim agents, driven
// by the real dsctl (and kubectl when it is on PATH). Each step is its own test, in order, against
// one running cluster per mode. Along the way every output is kept, and the last steps check that no
// secret the launcher made (nkey seeds, the facade's token, TLS keys) reached any of it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { seedOf } from '../../libs/auth/credentials.js';
import { DEFAULT_SLOTS, dsSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { eventually } from '../support/eventually.js';
import { SHARED_FLUENTD, fluentdManifest, sharedFluentdExists } from '../support/manifests.js';
import { freePort, natsServerBinary } from '../support/nats-server.js';
import { REPO_ROOT, runCli, spawnService } from '../support/processes.js';
import type { ChildEnv, CliResult, LogLine, ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const LAUNCHER = 'dist/scripts/local-cluster.js';
const NODES = ['node-1', 'node-2', 'node-3'];
const DS = { namespace: 'kube-system', name: 'fluentd-elasticsearch' } as const;
/** What the tests set themselves: nothing of the caller's shell may leak into the launcher or dsctl. */
const CLEAN_ENV: ChildEnv = {
  NATS_URL: undefined,
  NATS_CREDS: undefined,
  NATS_TLS_CA: undefined,
  NATS_TLS_CERT: undefined,
  NATS_TLS_KEY: undefined,
  KUBECONFIG: undefined,
  SLOTS: undefined,
  NATS_CLUSTER: undefined,
  STREAM_REPLICAS: undefined,
  LOG_LEVEL: undefined,
};

function onPath(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).filter((entry) => entry !== '')) {
    try {
      accessSync(join(dir, binary), fsConstants.X_OK);
      return join(dir, binary);
    } catch {
      // not in this folder: try the next
    }
  }
  return undefined;
}

function skipReason(): string | false {
  if (natsServerBinary() === undefined) return 'nats-server is not installed (bash scripts/setup.sh)';
  if (spawnSync('openssl', ['version']).status !== 0) return 'the openssl CLI is not installed: AUTH=1 and TLS=1 make certificates with it (apt-get install openssl)';
  const missing = ['dist/services/controller/main.js', 'dist/services/agent/main.js', 'dist/services/apiserver/main.js', 'bin/dsctl.js'].filter(
    (file) => !existsSync(join(REPO_ROOT, file)),
  );
  return missing.length > 0 ? `not built yet: ${missing.join(', ')}` : false;
}

const SKIP = skipReason();
if (SKIP !== false) console.log(`# skipping the AUTH=1/TLS=1 npm start tests: ${SKIP}`);
const KUBECTL = onPath('kubectl');

function saidBy(name: string, text: string): (line: LogLine) => boolean {
  return (line) => line.text.startsWith(`[${name}]`) && line.text.includes(text);
}

/** The server's log lines reporting a refused publish or subscription (2.9 says "Publish Violation", later ones "Permissions Violation"). */
function violations(launcher: ServiceProcess): string[] {
  return launcher
    .lines()
    .map((line) => line.text)
    .filter((text) => /^\[nats\]/.test(text) && /(Permissions|Publish|Subscription) Violation/.test(text));
}

function fileMode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
}

function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/));
}

/** `get ds -A`'s header and the example's row, without the AGE column. */
const DS_TABLE = [
  ['NAMESPACE', 'NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE', 'SELECTOR'],
  [DS.namespace, DS.name, '3', '3', '3', '3', '3', '<none>'],
];

function assertDsTable(result: CliResult): void {
  assert.equal(result.code, 0, result.stderr);
  const [header, row, ...rest] = table(result.stdout);
  assert.deepEqual([header?.slice(0, 9), row?.slice(0, 8), rest], [...DS_TABLE, []], result.stdout);
}

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  /** The body as sent. */
  readonly text: string;
}

function httpsGet(url: string, ca: string, token: string | undefined): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, headers: { accept: 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    req.end();
  });
}

interface Kubeconfig {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
}

function readKubeconfig(path: string): Kubeconfig {
  const doc = parse(readFileSync(path, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { token: string } }>;
  };
  const cluster = doc.clusters[0]?.cluster;
  const user = doc.users[0]?.user;
  assert.ok(cluster !== undefined && user !== undefined, `no cluster or user in ${path}`);
  return { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'), token: user.token };
}

function runKubectl(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['KUBECONFIG'];
    const child = spawn(KUBECTL ?? 'kubectl', [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out.join(''), stderr: err.join('') });
    });
  });
}

/** A secret and the texts that would betray it: its whole value, and its first 16 characters. */
interface Secret {
  readonly name: string;
  readonly needles: readonly { readonly text: string; readonly part: string }[];
}

/** A text something printed or wrote, and where it came from. */
interface Place {
  readonly where: string;
  readonly text: string;
}

function secret(name: string, value: string): Secret {
  return { name, needles: [{ text: value, part: '' }, { text: value.slice(0, 16), part: ' (its first 16 characters)' }] };
}

/**
 * A PEM private key: each full base64 line of it (its first 16 characters are a fixed ASN.1
 * header, the same in every key of its kind, so the prefix rule does not fit).
 */
function pemSecret(name: string, pem: string): Secret {
  const lines = pem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
  return { name, needles: lines.map((text, i) => ({ text, part: ` (line ${i + 1} of its body)` })) };
}

/** `.creds` files in `folder`, by name. */
function credsFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith('.creds'))
    .sort();
}

/**
 * Every secret the launcher made in `dir`: the nkey seed (and JWT, if one is there) of each
 * DATA_DIR/auth/*.creds and auth/nodes/*.creds, the facade's bearer token (the file's and the
 * kubeconfig's), and the private keys of its TLS certificates.
 */
function launcherSecrets(dir: string): Secret[] {
  const auth = join(dir, 'auth');
  const files = [...credsFiles(auth), ...credsFiles(join(auth, 'nodes')).map((file) => join('nodes', file))];
  const secrets = files.flatMap((file) => {
    const text = readFileSync(join(auth, file), 'utf8');
    const jwt = /-{3,}\s*BEGIN NATS USER JWT\s*-{3,}\s*\n\s*(\S+)\s*\n/.exec(text)?.[1];
    return [secret(`the seed of auth/${file}`, seedOf(text, file)), ...(jwt !== undefined ? [secret(`the JWT of auth/${file}`, jwt)] : [])];
  });
  const token = readFileSync(join(auth, 'apiserver.token'), 'utf8').trim();
  secrets.push(secret('the API facade token (auth/apiserver.token)', token));
  const kubeconfigToken = readKubeconfig(join(dir, 'kubeconfig')).token;
  if (kubeconfigToken !== token) secrets.push(secret("the kubeconfig's token", kubeconfigToken));
  for (const key of ['auth/apiserver-tls.key', 'tls/ca.key', 'tls/server.key']) {
    if (existsSync(join(dir, key))) secrets.push(pemSecret(`the private key ${key}`, readFileSync(join(dir, key), 'utf8')));
  }
  return secrets;
}

/** "<secret> in <place>" for every secret that a place holds whole or in part. */
function leaks(secrets: readonly Secret[], places: readonly Place[]): string[] {
  return places.flatMap((place) =>
    secrets.flatMap((s) => {
      const found = s.needles.find((needle) => place.text.includes(needle.text));
      return found === undefined ? [] : [`${s.name}${found.part} in ${place.where}`];
    }),
  );
}

/** A dsctl run's two streams as places. */
function placesOf(what: string, result: CliResult): Place[] {
  return [
    { where: `${what}: stdout`, text: result.stdout },
    { where: `${what}: stderr`, text: result.stderr },
  ];
}

/**
 * Every line `service` prints, from the moment this is called until it exits (`lines()` keeps only
 * the last OUTPUT_LINES): a waitForLog whose predicate keeps each line and never matches.
 */
function everyLineOf(service: ServiceProcess): string[] {
  const all: string[] = [];
  service
    .waitForLog(
      (line) => {
        all.push(line.text);
        return false;
      },
      { timeoutMs: 2 ** 31 - 1, message: 'the end of its output' },
    )
    // It rejects when the service exits: that is the end of the output, which is all this waits for.
    .catch(() => undefined);
  return all;
}

/** The launcher's output by child (`[name] ...`): each service's pino log, nats-server's log, the launcher's own lines (and its banner, unprefixed). */
function outputByChild(lines: readonly string[]): Place[] {
  const byName = new Map<string, string[]>();
  for (const line of lines) {
    const name = /^\[([^\]]+)\]/.exec(line)?.[1] ?? 'launcher';
    const mine = byName.get(name) ?? [];
    mine.push(line);
    byName.set(name, mine);
  }
  const whereOf = (name: string): string => (name === 'nats' ? "nats-server's output" : name === 'launcher' ? "the launcher's own lines" : `${name}'s log`);
  return [...byName].map(([name, text]) => ({ where: whereOf(name), text: text.join('\n') }));
}

/** The example manifest the other tests use: ../shared/manifests, or the inline copy written to `dir`. */
async function manifestFile(dir: string): Promise<string> {
  if (sharedFluentdExists()) return SHARED_FLUENTD;
  const file = join(dir, 'fluentd-elasticsearch.yaml');
  await writeFile(file, fluentdManifest());
  return file;
}

/** A JWT that is no JWT, in a malformed creds file: no one may echo it either. */
const GARBLED_JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJnYXJibGVkIjp0cnVlfQ.bm90LWEtc2lnbmF0dXJl';

const folders: string[] = [];
after(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

describe('AUTH=1 npm start', { skip: SKIP }, () => {
  let dir: string;
  let url: string;
  let apiPort: number;
  let launcher: ServiceProcess | undefined;
  /** Every line the launcher printed (its own, nats-server's and every service's log). */
  let everyLine: string[] = [];
  /** What dsctl, kubectl and the facade printed in the steps, checked for secrets in the last steps. */
  const printed: Place[] = [];
  const record = (what: string, result: CliResult): CliResult => {
    printed.push(...placesOf(what, result));
    return result;
  };
  const admin = (): ChildEnv => ({ ...CLEAN_ENV, NATS_URL: url });
  const adminCreds = (): string => join(dir, 'auth', 'admin.creds');
  const viewerCreds = (): string => join(dir, 'auth', 'viewer.creds');

  before(async () => {
    dir = await tempDir('local-cluster-auth-e2e-');
    folders.push(dir);
    const natsPort = await freePort();
    apiPort = await freePort();
    url = `nats://127.0.0.1:${natsPort}`;
    launcher = spawnService('launcher', LAUNCHER, {
      ...CLEAN_ENV,
      AUTH: '1',
      TLS: undefined,
      DRIVER: 'sim',
      NODES: String(NODES.length),
      CONTROLLERS: '1',
      DATA_DIR: dir,
      NATS_PORT: String(natsPort),
      APISERVER_PORT: String(apiPort),
      // Every service's debug lines too, so that the secret check covers them.
      LOG_LEVEL: 'debug',
    });
    everyLine = everyLineOf(launcher);
    await launcher.waitForLog(saidBy('launcher', `nats-server is ready at ${url}`), { message: 'nats-server ready' });
  });

  after(async () => {
    if (launcher !== undefined) await launcher.stop('SIGTERM');
  });

  it('dsctl without credentials is refused: authorization violation, exit 1', async () => {
    const result = record('dsctl get ds -A without credentials', await runCli(['get', 'ds', '-A'], admin()));
    assert.deepEqual(
      [result.code, result.stderr, result.stdout],
      [1, `error: NATS at ${url} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)\n`, ''],
    );
  });

  it('dsctl --creds admin.creds applies the fluentd example, and get ds shows 3 desired, 3 current, 3 ready', async () => {
    const applied = record('dsctl apply -f', await runCli(['--creds', adminCreds(), 'apply', '-f', await manifestFile(dir)], admin()));
    assert.deepEqual([applied.code, applied.stdout, applied.stderr], [0, 'namespace/logging created\ndaemonset.apps/fluentd-elasticsearch created\n', '']);
    await eventually(async () => assertDsTable(await runCli(['--creds', adminCreds(), 'get', 'ds', '-A'], admin())), {
      timeoutMs: 30_000,
      intervalMs: 300,
      message: 'get ds -A shows 3 desired, 3 current, 3 ready',
    });
  });

  it('the viewer credentials read (get ds -A), but delete ds is Forbidden with exit 1 and deletes nothing', async () => {
    assertDsTable(record('dsctl get ds -A (viewer)', await runCli(['--creds', viewerCreds(), 'get', 'ds', '-A'], admin())));
    const refused = record("the viewer's refused dsctl delete ds", await runCli(['--creds', viewerCreds(), 'delete', 'ds', DS.name, '-n', DS.namespace], admin()));
    const subject = dsSubject(dsSlot(DS.namespace, DS.name, DEFAULT_SLOTS), DS.namespace, DS.name);
    assert.deepEqual(
      [refused.code, refused.stderr, refused.stdout],
      [
        1,
        `Error from server (Forbidden): the bus refused this write (${subject}): the credentials in use may not do it; an admin's credentials may (dsctl auth list)\n`,
        '',
      ],
    );
    assert.ok(launcher !== undefined);
    await launcher.waitForLog((line) => line.text.startsWith('[nats]') && /(Permissions|Publish) Violation/.test(line.text) && line.text.includes(subject), {
      message: "nats-server's log of the viewer's refused publish",
    });
    assertDsTable(await runCli(['--creds', adminCreds(), 'get', 'ds', '-A'], admin()));
  });

  it('the credentials files, the token, the facade key and the kubeconfig are mode 0600 in 0700 folders', () => {
    const expected: Record<string, string> = {
      auth: '0700',
      'auth/nodes': '0700',
      ...Object.fromEntries(['admin', 'apiserver', 'controller', 'fleet', 'viewer'].map((role) => [`auth/${role}.creds`, '0600'])),
      ...Object.fromEntries(NODES.map((node) => [`auth/nodes/${node}.creds`, '0600'])),
      'auth/apiserver.token': '0600',
      'auth/apiserver-tls.key': '0600',
      kubeconfig: '0600',
    };
    const actual = Object.fromEntries(Object.keys(expected).map((file) => [file, fileMode(join(dir, file))]));
    assert.deepEqual(actual, expected);
  });

  it('the API facade answers over https with the token and CA from DATA_DIR/kubeconfig, and 401 without the token', async () => {
    assert.ok(launcher !== undefined);
    await launcher.waitForLog(saidBy('apiserver', '"msg":"apiserver listening"'), { message: 'the API facade listening' });
    const kubeconfig = readKubeconfig(join(dir, 'kubeconfig'));
    assert.equal(kubeconfig.server, `https://127.0.0.1:${apiPort}`);
    assert.equal(kubeconfig.token, readFileSync(join(dir, 'auth', 'apiserver.token'), 'utf8').trim());
    const list = `${kubeconfig.server}/apis/apps/v1/daemonsets`;

    const answer = await httpsGet(list, kubeconfig.caPem, kubeconfig.token);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const items = (answer.body as { items: Array<{ metadata: { namespace: string; name: string }; status: Record<string, number> }> }).items;
    assert.deepEqual(
      items.map((ds) => [ds.metadata.namespace, ds.metadata.name, ds.status['desiredNumberScheduled'], ds.status['currentNumberScheduled'], ds.status['numberReady']]),
      [[DS.namespace, DS.name, 3, 3, 3]],
    );

    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ['no token', undefined],
      ['another token', 'not-the-token'],
      // Near misses and secrets sent to the wrong place: neither the 401 nor a log line may quote them.
      ['the token with one character more', `${kubeconfig.token}x`],
      ["the admin's nkey seed", seedOf(readFileSync(adminCreds(), 'utf8'), 'admin.creds')],
    ];
    for (const [what, token] of cases) {
      const refused = await httpsGet(list, kubeconfig.caPem, token);
      printed.push({ where: `the facade's 401 body (${what})`, text: refused.text });
      assert.deepEqual(
        [refused.status, (refused.body as { reason?: string; code?: number }).reason, (refused.body as { code?: number }).code],
        [401, 'Unauthorized', 401],
        what,
      );
    }
  });

  it('kubectl --kubeconfig DATA_DIR/kubeconfig get ds -A', { skip: KUBECTL === undefined ? 'kubectl is not on PATH' : false }, async () => {
    assertDsTable(record('kubectl get ds -A', await runKubectl(['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'ds', '-A'])));
  });

  it('dsctl -o json, -o yaml, get nodes -o wide, describe ds, events and auth list print no seed, JWT or token', async () => {
    const identities = JSON.parse(readFileSync(join(dir, 'auth', 'identities.json'), 'utf8')) as { identities: Array<{ name: string; nkey: string }> };
    const adminKey = identities.identities.find((identity) => identity.name === 'admin')?.nkey;
    assert.ok(adminKey !== undefined);
    /** The command, and a text its output must hold (that it printed what it is for). */
    const runs: ReadonlyArray<readonly [readonly string[], string]> = [
      [['get', 'ds', '-A', '-o', 'json'], `"name": "${DS.name}"`],
      [['get', 'ds', '-A', '-o', 'yaml'], `name: ${DS.name}`],
      [['get', 'pods', '-A', '-o', 'json'], `"nodeName": "node-1"`],
      [['get', 'nodes', '-o', 'wide'], 'node-3'],
      [['get', 'nodes', '-o', 'json'], '"name": "node-3"'],
      [['get', 'controllers', '-o', 'json'], 'controller-1'],
      [['describe', 'ds', DS.name, '-n', DS.namespace], `Name:           ${DS.name}`],
      [['events', '-A'], DS.name],
      [['events', '-A', '-o', 'json'], DS.name],
      [['auth', 'list', '--dir', join(dir, 'auth')], adminKey],
    ];
    for (const [args, shows] of runs) {
      const result = record(`dsctl ${args.join(' ')}`, await runCli(['--creds', adminCreds(), ...args], admin()));
      assert.equal(result.code, 0, `dsctl ${args.join(' ')}: ${result.stderr}`);
      assert.ok(result.stdout.includes(shows), `dsctl ${args.join(' ')} shows ${shows}:\n${result.stdout}`);
    }
  });

  it('failing dsctl runs (malformed or misplaced credentials, a token in the URL) say what is wrong and echo no secret', async () => {
    const adminText = readFileSync(adminCreds(), 'utf8');
    const seed = seedOf(adminText, 'admin.creds');
    const token = readKubeconfig(join(dir, 'kubeconfig')).token;
    const seedBlock = adminText.slice(adminText.indexOf('-----BEGIN USER NKEY SEED'));
    const malformed = {
      truncated: adminText.slice(0, adminText.indexOf(seed) + 30),
      seedGarbage: `${seed}garbage!!\n`,
      seedLonger: adminText.replace(seed, `${seed}QQQQ`),
      seedThenJwt: `${seedBlock}\n-----BEGIN NATS USER JWT-----\n${GARBLED_JWT}\n------END NATS USER JWT------\n`,
    };
    const path = (name: keyof typeof malformed): string => join(dir, `${name}.creds`);
    for (const [name, text] of Object.entries(malformed)) await writeFile(path(name as keyof typeof malformed), text, { mode: 0o600 });
    const notCreds = (file: string): string => `error: ${file}: not a credentials file (no USER NKEY SEED block)\n`;
    const notPath = (from: string): string =>
      `error: ${from} takes the path of a .creds file, and was given what looks like a seed, a JWT or a credentials file's text (not shown): ` +
      'put it in a .creds file (dsctl auth init writes them) and pass that path\n';
    const natsPort = new URL(url).port;
    /** What is wrong, dsctl's arguments and environment before `get nodes`, and its stderr (undefined: see the case). */
    const cases: ReadonlyArray<readonly [string, readonly string[], ChildEnv, string | undefined]> = [
      ['admin.creds cut off inside the seed', ['--creds', path('truncated')], {}, notCreds(path('truncated'))],
      ['a bare seed with garbage appended', ['--creds', path('seedGarbage')], {}, notCreds(path('seedGarbage'))],
      [
        'a seed block whose seed has base32 letters appended',
        ['--creds', path('seedLonger')],
        {},
        `error: ${path('seedLonger')}: the USER NKEY SEED block does not hold a valid seed\n`,
      ],
      // Each block is read by its name, whatever the order: the JWT block holds no JWT.
      ['a seed block followed by a garbled JWT block', ['--creds', path('seedThenJwt')], {}, `error: ${path('seedThenJwt')}: the NATS USER JWT block does not hold a JWT\n`],
      ['--creds naming a folder (DATA_DIR/auth)', ['--creds', join(dir, 'auth')], {}, `error: cannot read credentials file ${join(dir, 'auth')} (EISDIR)\n`],
      ['--creds given the seed itself', ['--creds', seed], {}, notPath('--creds')],
      ['NATS_CREDS set to the seed itself', [], { NATS_CREDS: seed }, notPath('NATS_CREDS')],
      [
        'the facade token as the user of the server URL, without credentials',
        ['--server', `nats://${token}@127.0.0.1:${natsPort}`],
        {},
        `error: NATS at nats://***@127.0.0.1:${natsPort} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)\n`,
      ],
    ];
    for (const [what, args, env, stderr] of cases) {
      const result = record(`dsctl get nodes with ${what}`, await runCli([...args, 'get', 'nodes'], { ...admin(), DSCTL_DEBUG: '1', ...env }));
      assert.deepEqual([result.code, result.stdout], [1, ''], `${what}: ${result.stderr}`);
      if (stderr !== undefined) assert.equal(result.stderr, stderr, what);
    }
  });

  it('no seed, JWT or token in anything dsctl, kubectl or the facade printed in these steps', () => {
    const secrets = [...launcherSecrets(dir), secret('the JWT of seedThenJwt.creds', GARBLED_JWT)];
    assert.deepEqual(
      secrets.map((s) => s.name),
      [
        ...['admin', 'apiserver', 'controller', 'fleet', 'viewer'].map((role) => `the seed of auth/${role}.creds`),
        ...NODES.map((node) => `the seed of auth/nodes/${node}.creds`),
        'the API facade token (auth/apiserver.token)',
        'the private key auth/apiserver-tls.key',
        'the JWT of seedThenJwt.creds',
      ],
    );
    // The check finds what it looks for.
    const seed = seedOf(readFileSync(adminCreds(), 'utf8'), 'admin.creds');
    assert.deepEqual(leaks(secrets, [{ where: 'a probe', text: `…${seed.slice(0, 16)}…` }]), ['the seed of auth/admin.creds (its first 16 characters) in a probe']);
    assert.deepEqual(leaks(secrets, printed), []);
  });

  it("stops cleanly, and nats-server logged no permission violation but the viewer's delete", async () => {
    assert.ok(launcher !== undefined);
    const code = await launcher.stop('SIGTERM');
    assert.equal(code, 0, launcher.output());
    const identities = JSON.parse(readFileSync(join(dir, 'auth', 'identities.json'), 'utf8')) as { identities: Array<{ name: string; nkey: string }> };
    const viewer = identities.identities.find((identity) => identity.name === 'viewer')?.nkey;
    assert.ok(viewer !== undefined);
    const subject = dsSubject(dsSlot(DS.namespace, DS.name, DEFAULT_SLOTS), DS.namespace, DS.name);
    const seen = violations(launcher);
    assert.equal(seen.length, 1, seen.join('\n'));
    assert.ok(seen[0]?.includes(viewer) === true && seen[0].includes(`"${subject}"`), seen[0]);
  });

  it("no seed, JWT or token in the launcher's whole output (nats-server's and every service's debug log) or the server's config", () => {
    const secrets = [...launcherSecrets(dir), secret('the JWT of seedThenJwt.creds', GARBLED_JWT)];
    const output = outputByChild(everyLine);
    assert.deepEqual(
      output.map((place) => place.where).sort(),
      ["apiserver's log", "controller-1's log", "nats-server's output", ...NODES.map((node) => `${node}'s log`), "the launcher's own lines"],
    );
    const files = ['auth/auth.conf', 'auth/identities.json', 'nats/auth-server.conf'].map((file) => ({ where: `DATA_DIR/${file}`, text: readFileSync(join(dir, file), 'utf8') }));
    assert.deepEqual(leaks(secrets, [...output, ...files]), []);
  });
});

describe('TLS=1 AUTH=1 npm start', { skip: SKIP }, () => {
  let dir: string;
  let url: string;
  let launcher: ServiceProcess | undefined;
  let everyLine: string[] = [];
  const tlsFile = (name: string): string => join(dir, 'tls', name);

  before(async () => {
    dir = await tempDir('local-cluster-tls-e2e-');
    folders.push(dir);
    const natsPort = await freePort();
    url = `tls://127.0.0.1:${natsPort}`;
    launcher = spawnService('launcher', LAUNCHER, {
      ...CLEAN_ENV,
      AUTH: '1',
      TLS: '1',
      DRIVER: 'sim',
      NODES: '1',
      CONTROLLERS: '1',
      DATA_DIR: dir,
      NATS_PORT: String(natsPort),
      APISERVER_PORT: String(await freePort()),
    });
    everyLine = everyLineOf(launcher);
    await launcher.waitForLog(saidBy('launcher', `nats-server is ready at ${url}`), { message: 'nats-server ready' });
  });

  after(async () => {
    if (launcher !== undefined) await launcher.stop('SIGTERM');
  });

  it("writes the bus context dsctl needs (URL, CA, admin credentials) and prints how to use it, and the server requires TLS with the launcher's certificate", async () => {
    assert.ok(launcher !== undefined);
    const text = launcher.lines().map((line) => line.text);
    assert.ok(text.includes(`  try:          DSCTL_CONTEXT=${join(dir, 'context.json')} npx dsctl get nodes`), launcher.output());
    const context = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([context['server'], context['tlsCa'], context['creds']], [url, tlsFile('ca.crt'), join(dir, 'auth', 'admin.creds')]);
    const viaContext = await runCli(['get', 'nodes', '-o', 'name'], { NATS_URL: undefined, NATS_CREDS: undefined, NATS_TLS_CA: undefined, DSCTL_CONTEXT: join(dir, 'context.json') });
    assert.equal(viaContext.code, 0, viaContext.stderr);
    await launcher.waitForLog(saidBy('nats', 'TLS required for client connections'));
    // The launcher's readiness probe must not open plain connections the server logs as failed handshakes.
    assert.deepEqual(text.filter((line) => line.includes('TLS handshake error')), []);
    const conf = readFileSync(join(dir, 'nats', 'auth-server.conf'), 'utf8');
    assert.ok(conf.startsWith(`tls {\n  cert_file: ${JSON.stringify(tlsFile('server.crt'))}\n  key_file: ${JSON.stringify(tlsFile('server.key'))}\n`), conf);
    assert.match(conf, /\nauthorization \{\n/);
  });

  it('the TLS files are mode 0600 in a 0700 folder', () => {
    const expected = { tls: '0700', 'tls/ca.crt': '0600', 'tls/ca.key': '0600', 'tls/ca.srl': '0600', 'tls/server.crt': '0600', 'tls/server.key': '0600' };
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((file) => [file, fileMode(join(dir, file))])), expected);
  });

  it('every child connects to the bus over TLS with the CA it was given', async () => {
    assert.ok(launcher !== undefined);
    for (const name of ['controller-1', 'apiserver', 'node-1']) {
      await launcher.waitForLog(saidBy(name, '"msg":"connected to NATS"'), { message: `${name} connected to NATS` });
    }
  });

  it('dsctl with the CA and the admin credentials works', async () => {
    const env: ChildEnv = { ...CLEAN_ENV, NATS_URL: url, NATS_TLS_CA: tlsFile('ca.crt'), NATS_CREDS: join(dir, 'auth', 'admin.creds') };
    await eventually(
      async () => {
        const result = await runCli(['get', 'nodes', '-o', 'json'], env);
        assert.equal(result.code, 0, result.stderr);
        const list = JSON.parse(result.stdout) as { items: Array<{ metadata: { name: string } }> };
        assert.deepEqual(list.items.map((node) => node.metadata.name), ['node-1']);
      },
      { timeoutMs: 20_000, intervalMs: 300, message: 'dsctl get nodes over TLS lists node-1' },
    );
  });

  /** What each refused dsctl gets on top of NATS_URL, and what it must print. */
  const refusals: ReadonlyArray<readonly [string, (files: { readonly ca: string; readonly creds: string }) => ChildEnv, (at: string) => string]> = [
    [
      'without the CA (admin credentials) fails on the certificate, exit 1',
      (files) => ({ NATS_CREDS: files.creds }),
      (at) =>
        `cannot reach NATS at ${at}: unable to verify the first certificate\n` +
        "The server's certificate is not trusted here: set NATS_TLS_CA to the CA that signed it (with `TLS=1 npm start`: DATA_DIR/tls/ca.crt).",
    ],
    [
      'with the CA but without credentials is refused: authorization violation, exit 1',
      (files) => ({ NATS_TLS_CA: files.ca }),
      (at) => `error: NATS at ${at} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)`,
    ],
  ];
  for (const [what, extraEnv, printed] of refusals) {
    it(`dsctl ${what}`, async () => {
      const env: ChildEnv = { ...CLEAN_ENV, NATS_URL: url, ...extraEnv({ ca: tlsFile('ca.crt'), creds: join(dir, 'auth', 'admin.creds') }) };
      const result = await runCli(['get', 'nodes'], env);
      assert.deepEqual([result.code, result.stderr.trimEnd(), result.stdout], [1, printed(url), ''], result.stderr);
    });
  }

  it('stops cleanly', async () => {
    assert.ok(launcher !== undefined);
    assert.equal(await launcher.stop('SIGTERM'), 0, launcher.output());
  });

  it("no seed, token or TLS private key in the launcher's whole output", () => {
    const secrets = launcherSecrets(dir);
    assert.deepEqual(
      secrets.map((s) => s.name).slice(-3),
      ['the private key auth/apiserver-tls.key', 'the private key tls/ca.key', 'the private key tls/server.key'],
    );
    assert.deepEqual(leaks(secrets, outputByChild(everyLine)), []);
  });
});
