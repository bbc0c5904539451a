import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { banner } from '../../scripts/local-cluster/banner.js';
import { childBaseEnv, childSpecs } from '../../scripts/local-cluster/children.js';
import { LOCAL_CLUSTER_DEFAULTS, parseLocalClusterConfig } from '../../scripts/local-cluster/config.js';
import type { LocalClusterConfig } from '../../scripts/local-cluster/config.js';
import { missingNatsServerHelp } from '../../scripts/local-cluster/executables.js';
import { linePrefixer } from '../../scripts/local-cluster/log-lines.js';
import { NATS_CLUSTER_NAME, natsClusterConf, natsMembers, natsServerArgs, natsTlsBlock } from '../../scripts/local-cluster/nats-config.js';
import { agentsWaitForTopology, ledStreamsOf, metaLeaderOf, TOPOLOGY_STREAMS } from '../../scripts/local-cluster/probes.js';
import { nextCrashCount, RESTART_POLICY, restartDelayMs, STOP_ORDER, stopPlan } from '../../scripts/local-cluster/supervisor.js';
import { BUS_SERVER_EXTENSIONS, busCaArgs, busServerRequestArgs, busServerSignArgs, busTlsFiles } from '../../scripts/local-cluster/tls.js';

/** A config for tests of other settings: credentials off unless the case sets AUTH. */
function config(env: Record<string, string>): LocalClusterConfig {
  return parsed({ AUTH: '0', ...env });
}

function parsed(env: Record<string, string>): LocalClusterConfig {
  const result = parseLocalClusterConfig(env, '/work/repo');
  if (!result.ok) assert.fail(`unexpected config errors: ${result.errors.join('; ')}`);
  return result.config;
}

describe('banner: how to reach the cluster', () => {
  it('in the folder npm start ran in, with the default DATA_DIR, plain npx dsctl finds the bus context', () => {
    const here = parseLocalClusterConfig({}, process.cwd());
    assert.ok(here.ok);
    assert.ok(banner(here.config).split('\n').includes('  try:          npx dsctl get nodes'));
  });

  it('a running server (NATS_URL) gets no context: the try line names the URL, and the admin credentials with AUTH=1', () => {
    const lines = banner(config({ NATS_URL: 'nats://bus:4222', AUTH: '1', DATA_DIR: '/d' })).split('\n');
    assert.ok(lines.includes('  try:          NATS_URL=nats://bus:4222 NATS_CREDS=/d/auth/admin.creds npx dsctl get nodes'), lines.join('\n'));
  });
});

describe('parseLocalClusterConfig', () => {
  it('credentials are on by default for the embedded server, off for a running one (NATS_URL)', () => {
    assert.equal(parsed({}).auth, true);
    assert.equal(parsed({ AUTH: '0' }).auth, false);
    assert.equal(parsed({ NATS_URL: 'nats://10.0.0.1:4222' }).auth, false);
    assert.equal(parsed({ NATS_URL: 'nats://10.0.0.1:4222', AUTH: '1' }).auth, true);
  });

  it('fills every default when nothing is set', () => {
    assert.deepEqual(parsed({}), {
      natsUrl: 'nats://127.0.0.1:4222',
      embeddedNats: true,
      nodes: 3,
      controllers: 1,
      natsPort: 4222,
      natsMonitorPort: 8222,
      natsCluster: 1,
      streamReplicas: undefined,
      dataDir: '/work/repo/.data',
      driver: 'process',
      logLevel: undefined,
      apiserverPort: 8001,
      auth: true,
      tls: false,
    });
  });

  it('returns a frozen object', () => {
    assert.equal(Object.isFrozen(config({})), true);
  });

  it('reads every variable', () => {
    assert.deepEqual(
      config({ NODES: '5', CONTROLLERS: '2', NATS_PORT: '5222', DATA_DIR: '/tmp/x', DRIVER: 'sim', LOG_LEVEL: 'debug', APISERVER_PORT: '9001', AUTH: '1', TLS: '1' }),
      {
        natsUrl: 'tls://127.0.0.1:5222',
        embeddedNats: true,
        nodes: 5,
        controllers: 2,
        natsPort: 5222,
        natsMonitorPort: 9222,
        natsCluster: 1,
        streamReplicas: undefined,
        dataDir: '/tmp/x',
        driver: 'sim',
        logLevel: 'debug',
        apiserverPort: 9001,
        auth: true,
        tls: true,
      },
    );
  });

  it('uses NATS_URL and starts no server when it is set', () => {
    const parsed = config({ NATS_URL: 'nats://bus.example:4333' });
    assert.equal(parsed.natsUrl, 'nats://bus.example:4333');
    assert.equal(parsed.embeddedNats, false);
  });

  it('resolves a relative DATA_DIR against the working folder', () => {
    assert.equal(config({ DATA_DIR: 'state/here' }).dataDir, '/work/repo/state/here');
  });

  it('treats empty and blank values as unset', () => {
    assert.deepEqual(config({ NODES: '', NATS_URL: '  ', DRIVER: '' }), config({}));
  });

  it('accepts zero agents and zero controllers', () => {
    const parsed = config({ NODES: '0', CONTROLLERS: '0' });
    assert.deepEqual([parsed.nodes, parsed.controllers], [0, 0]);
  });

  it('NATS_CLUSTER=3: three URLs for everyone, R3 streams', () => {
    const parsed = config({ NATS_CLUSTER: '3', NATS_PORT: '5222' });
    assert.deepEqual(
      [parsed.natsCluster, parsed.natsUrl, parsed.streamReplicas, parsed.natsMonitorPort, parsed.embeddedNats],
      [3, 'nats://127.0.0.1:5222,nats://127.0.0.1:5223,nats://127.0.0.1:5224', 3, 9222, true],
    );
  });

  it('NATS_CLUSTER=3 with STREAM_REPLICAS=1 keeps the streams unreplicated', () => {
    assert.equal(config({ NATS_CLUSTER: '3', STREAM_REPLICAS: '1' }).streamReplicas, 1);
  });

  it('NATS_CLUSTER=1 leaves STREAM_REPLICAS to pass through to the controllers', () => {
    assert.equal(config({ STREAM_REPLICAS: '3' }).streamReplicas, undefined);
  });

  const clusterErrors: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ['a cluster larger than JetStream replicates', { NATS_CLUSTER: '6' }, 'NATS_CLUSTER="6": expected a whole number from 1 to 5'],
    ['no servers', { NATS_CLUSTER: '0' }, 'NATS_CLUSTER="0": expected a whole number from 1 to 5'],
    ['more replicas than servers', { NATS_CLUSTER: '3', STREAM_REPLICAS: '4' }, 'STREAM_REPLICAS="4": expected a whole number from 1 to 3'],
    [
      'monitor ports past 65535',
      { NATS_CLUSTER: '3', NATS_PORT: '61535' },
      'NATS_PORT=61535 with NATS_CLUSTER=3: the last monitor port would be 65537; use a NATS_PORT of at most 61533',
    ],
    [
      'servers to start and a server to use',
      { NATS_CLUSTER: '3', NATS_URL: 'nats://bus:4222' },
      'NATS_CLUSTER=3 starts servers, NATS_URL uses running ones: set only one of them',
    ],
    [
      'TLS for a server it does not start',
      { TLS: '1', NATS_URL: 'tls://bus:4222' },
      'TLS=1 makes certificates for the servers the launcher starts, NATS_URL uses running ones: for yours set NATS_TLS_CA (and a tls:// URL) instead',
    ],
    ['a TLS switch that is neither on nor off', { TLS: 'maybe' }, 'TLS="maybe": expected 1 (TLS on the bus) or 0'],
  ];
  for (const [name, env, error] of clusterErrors) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(parseLocalClusterConfig(env, '/work/repo'), { ok: false, errors: [error] });
    });
  }

  it('reports every bad variable at once', () => {
    const result = parseLocalClusterConfig(
      { NODES: '-1', CONTROLLERS: 'two', NATS_PORT: '70000', NATS_CLUSTER: 'x', DRIVER: 'docker', LOG_LEVEL: 'loud' },
      '/work/repo',
    );
    assert.deepEqual(result, {
      ok: false,
      errors: [
        'NODES="-1": expected a whole number from 0 to 1000',
        'CONTROLLERS="two": expected a whole number from 0 to 100',
        'NATS_PORT="70000": expected a whole number from 1 to 61535',
        'NATS_CLUSTER="x": expected a whole number from 1 to 5',
        'DRIVER="docker": expected one of process, sim',
        'LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent',
      ],
    });
  });

  const badNumbers: ReadonlyArray<readonly [string, string]> = [
    ['NODES', '1.5'],
    ['NODES', '3 '.repeat(2)],
    ['NODES', '1e3'],
    ['NATS_PORT', '0'],
    ['NATS_PORT', '61536'],
    ['CONTROLLERS', '0x1'],
  ];
  for (const [name, value] of badNumbers) {
    it(`refuses ${name}=${JSON.stringify(value)}`, () => {
      const result = parseLocalClusterConfig({ [name]: value }, '/work/repo');
      assert.equal(result.ok, false);
      assert.equal(result.ok ? '' : result.errors[0]?.split(':')[0], `${name}=${JSON.stringify(value.trim())}`);
    });
  }
});

describe('restart back-off', () => {
  const delays: ReadonlyArray<readonly [number, number]> = [
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    [5, 16_000],
    [6, 30_000],
    [7, 30_000],
    [100, 30_000],
    [5_000, 30_000],
  ];
  for (const [crashes, expected] of delays) {
    it(`waits ${expected} ms after crash ${crashes}`, () => {
      assert.equal(restartDelayMs(crashes), expected);
    });
  }

  it('counts consecutive quick crashes', () => {
    assert.equal(nextCrashCount(0, 500), 1);
    assert.equal(nextCrashCount(3, 59_999), 4);
  });

  it('starts again from the first delay after 60 s up', () => {
    assert.equal(nextCrashCount(6, RESTART_POLICY.resetAfterMs), 1);
    assert.equal(restartDelayMs(nextCrashCount(6, 120_000)), 1_000);
  });

  it('follows a custom policy', () => {
    const policy = { initialDelayMs: 10, maxDelayMs: 25, resetAfterMs: 100 };
    assert.deepEqual([1, 2, 3, 4].map((n) => restartDelayMs(n, policy)), [10, 20, 25, 25]);
    assert.equal(nextCrashCount(2, 100, policy), 1);
  });
});

describe('linePrefixer', () => {
  const names = ['launcher', 'nats', 'controller-1', 'node-2'];

  it('pads every prefix to the widest name, plain when not a TTY', () => {
    const prefix = linePrefixer(names, false);
    assert.equal(prefix('nats', 'Server is ready'), '[nats]         Server is ready');
    assert.equal(prefix('controller-1', '{"msg":"live"}'), '[controller-1] {"msg":"live"}');
    assert.equal(prefix('node-2', ''), '[node-2]       ');
  });

  it('colours each name with its own ANSI colour', () => {
    const prefix = linePrefixer(names, true);
    assert.equal(prefix('launcher', 'hi'), '\u001b[36m[launcher]    \u001b[0m hi');
    assert.equal(prefix('nats', 'hi'), '\u001b[33m[nats]        \u001b[0m hi');
    assert.equal(prefix('node-2', 'hi'), '\u001b[35m[node-2]      \u001b[0m hi');
  });
});

describe('childSpecs', () => {
  const exe = { node: '/usr/bin/node', natsServer: '/usr/sbin/nats-server', distDir: '/repo/dist' };

  it('AUTH=1: the server reads the authorization block, every process its own credentials, kubectl a token over https', () => {
    const auth = {
      authorization: 'authorization { users = [] }\n',
      token: 'tok',
      apiserverTls: { certFile: '/d/auth/apiserver-tls.crt', keyFile: '/d/auth/apiserver-tls.key', certPem: 'PEM' },
    };
    const specs = childSpecs(config({ NODES: '1', CONTROLLERS: '1', DATA_DIR: '/d', DRIVER: 'sim', APISERVER_PORT: '8001', AUTH: '1' }), exe, auth);
    const byName = new Map(specs.map((spec) => [spec.name, spec]));
    assert.deepEqual(byName.get('nats')?.args.slice(-2), ['-c', '/d/nats/auth-server.conf']);
    assert.deepEqual(byName.get('nats')?.files, [{ path: '/d/nats/auth-server.conf', text: auth.authorization }]);
    assert.equal(byName.get('controller-1')?.env['NATS_CREDS'], '/d/auth/controller.creds');
    assert.equal(byName.get('node-1')?.env['NATS_CREDS'], '/d/auth/nodes/node-1.creds');
    const api = byName.get('apiserver');
    assert.deepEqual(
      [api?.env['NATS_CREDS'], api?.env['APISERVER_TOKEN_FILE'], api?.env['APISERVER_TLS_CERT_FILE'], api?.env['APISERVER_TLS_KEY_FILE']],
      ['/d/auth/apiserver.creds', '/d/auth/apiserver.token', '/d/auth/apiserver-tls.crt', '/d/auth/apiserver-tls.key'],
    );
    const kubeconfig = api?.files[0];
    assert.equal(kubeconfig?.mode, 0o600);
    assert.match(kubeconfig?.text ?? '', /server: "https:\/\/127\.0\.0\.1:8001", certificate-authority-data: "UEVN"/);
    assert.match(kubeconfig?.text ?? '', /\n    token: "tok"\n/);
  });

  it('AUTH=1 without the credentials read first is a programming error', () => {
    assert.throws(() => childSpecs(config({ AUTH: '1' }), exe), /AUTH=1 needs the credentials folder read first/);
  });

  const tlsFiles = busTlsFiles(config({ DATA_DIR: '/d' }));

  it('TLS=1: the server requires TLS with the certificate in DATA_DIR/tls; every process gets a tls:// URL and the CA', () => {
    const specs = childSpecs(config({ NODES: '1', CONTROLLERS: '1', DATA_DIR: '/d', APISERVER_PORT: '8001', TLS: '1' }), exe, undefined, tlsFiles);
    const byName = new Map(specs.map((spec) => [spec.name, spec]));
    assert.deepEqual(byName.get('nats')?.args.slice(-2), ['-c', '/d/nats/tls-server.conf']);
    assert.deepEqual(byName.get('nats')?.files, [
      { path: '/d/nats/tls-server.conf', text: 'tls {\n  cert_file: "/d/tls/server.crt"\n  key_file: "/d/tls/server.key"\n  timeout: 2\n}\n' },
    ]);
    assert.deepEqual(
      ['controller-1', 'apiserver', 'node-1'].map((name) => [byName.get(name)?.env['NATS_URL'], byName.get(name)?.env['NATS_TLS_CA'], byName.get(name)?.env['NATS_CREDS']]),
      Array.from({ length: 3 }, () => ['tls://127.0.0.1:4222', '/d/tls/ca.crt', undefined]),
    );
  });

  it('TLS=1 AUTH=1: one config file with the tls block, then the authorization block', () => {
    const auth = { authorization: 'authorization { users = [] }\n', token: 'tok' };
    const specs = childSpecs(config({ NODES: '0', DATA_DIR: '/d', APISERVER_PORT: '0', TLS: '1', AUTH: '1' }), exe, auth, tlsFiles);
    assert.deepEqual(specs[0]?.args.slice(-2), ['-c', '/d/nats/auth-server.conf']);
    assert.deepEqual(specs[0]?.files, [{ path: '/d/nats/auth-server.conf', text: `${natsTlsBlock(tlsFiles)}\n${auth.authorization}` }]);
    assert.equal(specs[1]?.env['NATS_CREDS'], '/d/auth/controller.creds');
    assert.equal(specs[1]?.env['NATS_TLS_CA'], '/d/tls/ca.crt');
  });

  it('TLS=1 without the TLS files made first is a programming error', () => {
    assert.throws(() => childSpecs(config({ TLS: '1' }), exe), /TLS=1 needs the TLS files made first/);
  });

  it('TLS=1: the try line points dsctl at the bus context, which names the tls:// URL, the CA and the admin credentials', () => {
    const lines = banner(config({ DATA_DIR: '/d', TLS: '1', AUTH: '1' })).split('\n');
    assert.ok(lines.includes('  try:          DSCTL_CONTEXT=/d/context.json npx dsctl get nodes'), lines.join('\n'));
    assert.ok(lines.includes("  TLS:          clients must trust /d/tls/ca.crt (NATS_TLS_CA); the servers' certificate is for 127.0.0.1 and localhost"));
  });

  it('makes the certificates with openssl: a CA, and a server certificate for 127.0.0.1 and localhost signed by it', () => {
    assert.deepEqual(busTlsFiles(config({ DATA_DIR: '/d' })), { caFile: '/d/tls/ca.crt', caKeyFile: '/d/tls/ca.key', certFile: '/d/tls/server.crt', keyFile: '/d/tls/server.key' });
    assert.deepEqual(busCaArgs(tlsFiles).slice(-4), ['-keyout', '/d/tls/ca.key', '-out', '/d/tls/ca.crt']);
    assert.ok(busCaArgs(tlsFiles).includes('basicConstraints=critical,CA:TRUE'));
    assert.deepEqual(busServerRequestArgs(tlsFiles, '/d/tls/server.csr').slice(-4), ['-keyout', '/d/tls/server.key', '-out', '/d/tls/server.csr']);
    assert.deepEqual(busServerSignArgs(tlsFiles, '/d/tls/server.csr', '/d/tls/server.ext'), [
      'x509', '-req', '-in', '/d/tls/server.csr', '-CA', '/d/tls/ca.crt', '-CAkey', '/d/tls/ca.key', '-CAcreateserial',
      '-days', '825', '-extfile', '/d/tls/server.ext', '-out', '/d/tls/server.crt',
    ]);
    assert.match(BUS_SERVER_EXTENSIONS, /^subjectAltName=IP:127\.0\.0\.1,DNS:localhost$/m);
  });

  it("drops the caller's NATS_TLS_* for the servers it starts, keeps them for NATS_URL's", () => {
    const shell = { NATS_TLS_CA: '/old/ca.crt', NATS_TLS_CERT: '/c', NATS_TLS_KEY: '/k', TLS: '1', NODES: '3', HEARTBEAT_INTERVAL_MS: '500' };
    assert.deepEqual(childBaseEnv(config({}), shell), { HEARTBEAT_INTERVAL_MS: '500' });
    assert.deepEqual(childBaseEnv(config({ NATS_URL: 'tls://bus:4222' }), shell), { NATS_TLS_CA: '/old/ca.crt', NATS_TLS_CERT: '/c', NATS_TLS_KEY: '/k', HEARTBEAT_INTERVAL_MS: '500' });
  });

  it('starts nats, then the controllers, then the agents, with their environment', () => {
    const specs = childSpecs(config({ NODES: '2', CONTROLLERS: '1', DATA_DIR: '/d', DRIVER: 'sim', LOG_LEVEL: 'warn', APISERVER_PORT: '0' }), exe);
    assert.deepEqual(
      specs.map((spec) => [spec.name, spec.role, spec.command, spec.args.at(-1), spec.stopSignal]),
      [
        ['nats', 'nats', '/usr/sbin/nats-server', 'local', 'SIGINT'],
        ['controller-1', 'controller', '/usr/bin/node', '/repo/dist/services/controller/main.js', 'SIGTERM'],
        ['node-1', 'agent', '/usr/bin/node', '/repo/dist/services/agent/main.js', 'SIGTERM'],
        ['node-2', 'agent', '/usr/bin/node', '/repo/dist/services/agent/main.js', 'SIGTERM'],
      ],
    );
    assert.deepEqual(specs[1]?.env, { NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'warn', CONTROLLER_ID: 'controller-1' });
    assert.deepEqual(specs[3]?.env, {
      NATS_URL: 'nats://127.0.0.1:4222',
      LOG_LEVEL: 'warn',
      NODE_NAME: 'node-2',
      NODE_LABELS: '',
      DATA_DIR: '/d/agents/node-2',
      DRIVER: 'sim',
    });
    assert.deepEqual(specs.map((spec) => spec.dir), ['/d/nats', undefined, '/d/agents/node-1', '/d/agents/node-2']);
  });

  it('starts no server when NATS_URL is set, and passes that URL on', () => {
    const specs = childSpecs(config({ NATS_URL: 'nats://10.1.1.1:4222', NODES: '1', APISERVER_PORT: '0' }), exe);
    assert.deepEqual(specs.map((spec) => spec.name), ['controller-1', 'node-1']);
    assert.deepEqual(specs.map((spec) => spec.env['NATS_URL']), ['nats://10.1.1.1:4222', 'nats://10.1.1.1:4222']);
    assert.equal('LOG_LEVEL' in (specs[0]?.env ?? {}), false);
  });

  it('starts the Kubernetes API facade after the controllers, with a kubeconfig for it in DATA_DIR', () => {
    const specs = childSpecs(config({ NODES: '1', DATA_DIR: '/d', APISERVER_PORT: '9001' }), exe);
    assert.deepEqual(specs.map((spec) => spec.name), ['nats', 'controller-1', 'apiserver', 'node-1']);
    const api = specs[2]!;
    assert.equal(api.args.at(-1), '/repo/dist/services/apiserver/main.js');
    assert.deepEqual(api.env, { NATS_URL: 'nats://127.0.0.1:4222', APISERVER_HOST: '127.0.0.1', APISERVER_PORT: '9001' });
    assert.equal(api.files[0]?.path, '/d/kubeconfig');
    assert.match(api.files[0]?.text ?? '', /server: "http:\/\/127\.0\.0\.1:9001"/);
    assert.deepEqual(stopPlan(specs), [['node-1'], ['apiserver'], ['controller-1'], ['nats']]);
    assert.equal(childSpecs(config({ APISERVER_PORT: '0' }), exe).some((spec) => spec.role === 'apiserver'), false);
  });

  it('gives nats-server its store, ports and name', () => {
    assert.deepEqual(natsServerArgs(config({ NATS_PORT: '5222', DATA_DIR: '/d' })), [
      '-js', '-sd', '/d/nats', '-p', '5222', '-a', '127.0.0.1', '-m', '9222', '-n', 'local',
    ]);
  });
});

describe('NATS_CLUSTER: an embedded JetStream cluster', () => {
  const exe = { node: '/usr/bin/node', natsServer: '/usr/sbin/nats-server', distDir: '/repo/dist' };
  const three = config({ NATS_CLUSTER: '3', NATS_PORT: '5222', DATA_DIR: '/d', NODES: '1', CONTROLLERS: '2', APISERVER_PORT: '0' });

  it('plans nats-1..3 on consecutive client, route (+2000) and monitor (+4000) ports, each with its own store', () => {
    assert.deepEqual(
      natsMembers(three).map((m) => [m.name, m.host, m.clientPort, m.clusterPort, m.monitorPort, m.storeDir]),
      [
        ['nats-1', '127.0.0.1', 5222, 7222, 9222, '/d/nats-1'],
        ['nats-2', '127.0.0.1', 5223, 7223, 9223, '/d/nats-2'],
        ['nats-3', '127.0.0.1', 5224, 7224, 9224, '/d/nats-3'],
      ],
    );
  });

  it('plans one server named nats with no route port by default, and none with NATS_URL', () => {
    assert.deepEqual(natsMembers(config({ DATA_DIR: '/d' })), [
      { name: 'nats', host: '127.0.0.1', clientPort: 4222, monitorPort: 8222, clusterPort: undefined, storeDir: '/d/nats' },
    ]);
    assert.deepEqual(natsMembers(config({ NATS_URL: 'nats://bus:4222' })), []);
  });

  it('writes a config file per server: name, listeners, store, cluster name and routes to the others', () => {
    const members = natsMembers(three);
    assert.equal(
      natsClusterConf(NATS_CLUSTER_NAME, members[1]!, members),
      [
        '# nats-2 of the 3-server JetStream cluster "local".',
        '# Written by scripts/local-cluster.ts before every start: edits here are lost.',
        'server_name: "nats-2"',
        'listen: "127.0.0.1:5223"',
        'http: "127.0.0.1:9223"',
        'jetstream {',
        '  store_dir: "/d/nats-2"',
        '}',
        'cluster {',
        '  name: "local"',
        '  listen: "127.0.0.1:7223"',
        '  routes: [',
        '    "nats-route://127.0.0.1:7222"',
        '    "nats-route://127.0.0.1:7224"',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('quotes a store path the NATS config format would otherwise misread', () => {
    const members = natsMembers(config({ NATS_CLUSTER: '2', DATA_DIR: '/my data/"x"' }));
    assert.match(natsClusterConf('c', members[0]!, members), /\n {2}store_dir: "\/my data\/\\"x\\"\/nats-1"\n/);
  });

  it('starts each server from its config file, then controllers with R3 and all URLs, then agents with all URLs', () => {
    const specs = childSpecs(three, exe);
    assert.deepEqual(
      specs.map((spec) => [spec.name, spec.role, spec.args.join(' '), spec.dir, spec.stopSignal]),
      [
        ['nats-1', 'nats', '-c /d/nats-1/nats.conf', '/d/nats-1', 'SIGINT'],
        ['nats-2', 'nats', '-c /d/nats-2/nats.conf', '/d/nats-2', 'SIGINT'],
        ['nats-3', 'nats', '-c /d/nats-3/nats.conf', '/d/nats-3', 'SIGINT'],
        ['controller-1', 'controller', '/repo/dist/services/controller/main.js', undefined, 'SIGTERM'],
        ['controller-2', 'controller', '/repo/dist/services/controller/main.js', undefined, 'SIGTERM'],
        ['node-1', 'agent', '/repo/dist/services/agent/main.js', '/d/agents/node-1', 'SIGTERM'],
      ],
    );
    const members = natsMembers(three);
    assert.deepEqual(specs[0]?.files, [{ path: '/d/nats-1/nats.conf', text: natsClusterConf('local', members[0]!, members) }]);
    assert.deepEqual(specs.slice(3).map((spec) => spec.files), [[], [], []]);
    const urls = 'nats://127.0.0.1:5222,nats://127.0.0.1:5223,nats://127.0.0.1:5224';
    assert.deepEqual(specs[4]?.env, { NATS_URL: urls, STREAM_REPLICAS: '3', CONTROLLER_ID: 'controller-2' });
    assert.deepEqual(specs[5]?.env['NATS_URL'], urls);
    assert.equal('STREAM_REPLICAS' in (specs[5]?.env ?? {}), false, 'agents do not read STREAM_REPLICAS');
  });

  it('a single server writes no config file and sets no STREAM_REPLICAS', () => {
    const specs = childSpecs(config({ NODES: '0', APISERVER_PORT: '0' }), exe);
    assert.deepEqual(specs.map((spec) => [spec.name, spec.files.length, 'STREAM_REPLICAS' in spec.env]), [
      ['nats', 0, false],
      ['controller-1', 0, false],
    ]);
  });

  it('stops the agents together, the controllers together, then the servers one by one', () => {
    assert.deepEqual(stopPlan(childSpecs(three, exe)), [['node-1'], ['controller-1', 'controller-2'], ['nats-1'], ['nats-2'], ['nats-3']]);
    assert.deepEqual(stopPlan(childSpecs(config({ NODES: '2' }), exe)), [['node-1', 'node-2'], ['apiserver'], ['controller-1'], ['nats']]);
    assert.deepEqual(stopPlan(childSpecs(config({ NATS_URL: 'nats://bus:4222', NODES: '0', CONTROLLERS: '0', APISERVER_PORT: '0' }), exe)), []);
  });

  it('shows the three URLs in the banner', () => {
    const lines = banner(three).split('\n');
    assert.deepEqual(lines.slice(2, 6), [
      '  NATS:         3-server JetStream cluster "local", streams R3, stores in /d/nats-<i>',
      '                nats-1  nats://127.0.0.1:5222  (routes :7222, monitor http://127.0.0.1:9222)',
      '                nats-2  nats://127.0.0.1:5223  (routes :7223, monitor http://127.0.0.1:9223)',
      '                nats-3  nats://127.0.0.1:5224  (routes :7224, monitor http://127.0.0.1:9224)',
    ]);
    assert.ok(lines.includes('  try:          DSCTL_CONTEXT=/d/context.json npx dsctl get nodes'));
    assert.equal(banner(config({})).split('\n')[2], '  NATS:         nats://127.0.0.1:4222 (embedded nats-server, store in /work/repo/.data/nats)');
  });

  it("never prints the password or token of an external NATS_URL (#8)", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['nats://ops:s3cret-pass@bus.example:4222', 'nats://ops:***@bus.example:4222', 's3cret-pass'],
      ['nats://tok3n-abcdef@bus.example:4222', 'nats://***@bus.example:4222', 'tok3n-abcdef'],
      ['nats://a:pw-one@bus-1:4222,nats://a:pw-one@bus-2:4222', 'nats://a:***@bus-1:4222,nats://a:***@bus-2:4222', 'pw-one'],
    ];
    for (const [url, shown, secret] of cases) {
      const text = banner(config({ NATS_URL: url, DATA_DIR: '/d' }));
      const lines = text.split('\n');
      assert.equal(lines[2], `  NATS:         ${shown} (from NATS_URL; no server started)`, url);
      assert.ok(lines.includes(`  try:          NATS_URL=${shown} npx dsctl get nodes`), text);
      assert.equal(text.includes(secret), false, `${url}: the banner quotes ${secret}`);
    }
  });

  it('TLS=1 in a cluster: each member requires TLS from clients (its routes stay plain), everyone gets tls:// URLs', () => {
    const tlsThree = config({ NATS_CLUSTER: '3', NATS_PORT: '5222', DATA_DIR: '/d', NODES: '1', CONTROLLERS: '1', APISERVER_PORT: '0', TLS: '1' });
    const files = busTlsFiles(tlsThree);
    const members = natsMembers(tlsThree);
    const specs = childSpecs(tlsThree, exe, undefined, files);
    assert.deepEqual(specs[1]?.files, [{ path: '/d/nats-2/nats.conf', text: `${natsClusterConf('local', members[1]!, members)}\n${natsTlsBlock(files)}` }]);
    assert.deepEqual(specs[3]?.env['NATS_URL'], 'tls://127.0.0.1:5222,tls://127.0.0.1:5223,tls://127.0.0.1:5224');
    assert.deepEqual(banner(tlsThree).split('\n')[3], '                nats-1  tls://127.0.0.1:5222  (routes :7222, monitor http://127.0.0.1:9222)');
  });

  it('starts the agents only once the controllers made the streams, in a cluster with both', () => {
    const cases: ReadonlyArray<readonly [Record<string, string>, boolean]> = [
      [{ NATS_CLUSTER: '3' }, true],
      [{}, false],
      [{ NATS_CLUSTER: '3', CONTROLLERS: '0' }, false],
      [{ NATS_CLUSTER: '3', NODES: '0' }, false],
      [{ NATS_URL: 'nats://a:4222,nats://b:4222' }, false],
    ];
    assert.deepEqual(cases.map(([env]) => agentsWaitForTopology(config(env))), cases.map(([, wait]) => wait));
  });

  it('waits for the log and the lease bucket, the first and last streams the controllers create', () => {
    assert.deepEqual(TOPOLOGY_STREAMS, ['DS_LOG', 'KV_ds_leases']);
  });

  it('reads the streams that have a leader from /jsz?streams=true', () => {
    const jsz = {
      streams: 4,
      account_details: [
        {
          name: '$G',
          stream_detail: [
            { name: 'DS_LOG', cluster: { name: 'local', leader: 'nats-1', replicas: [] } },
            { name: 'DS_HB', cluster: { name: 'local' } },
            { name: 'DS_DLQ', cluster: { name: 'local', leader: '' } },
            { name: 'KV_ds_config' },
          ],
        },
        { name: 'SYS' },
      ],
    };
    assert.deepEqual(ledStreamsOf(jsz), ['DS_LOG', 'KV_ds_config']);
    assert.deepEqual(ledStreamsOf({ streams: 0 }), []);
    assert.deepEqual(ledStreamsOf({ account_details: [{ stream_detail: [{ name: 7 }, null] }] }), []);
    assert.deepEqual(ledStreamsOf(undefined), []);
  });

  const jszCases: ReadonlyArray<readonly [string, unknown, string | undefined]> = [
    ['a leader', { meta_cluster: { name: 'local', leader: 'nats-2', cluster_size: 3 } }, 'nats-2'],
    ['an election under way', { meta_cluster: { name: 'local', cluster_size: 3 } }, undefined],
    ['an empty leader', { meta_cluster: { leader: '' } }, undefined],
    ['a lone server (no meta_cluster)', { server_id: 'N', streams: 0 }, undefined],
    ['not an object', 'ok', undefined],
    ['null', null, undefined],
  ];
  for (const [name, jsz, leader] of jszCases) {
    it(`reads the meta leader from /jsz: ${name}`, () => {
      assert.equal(metaLeaderOf(jsz), leader);
    });
  }
});

describe('launcher constants', () => {
  it('stops agents, then controllers, then nats', () => {
    assert.deepEqual(STOP_ORDER, ['agent', 'apiserver', 'controller', 'nats']);
  });

  it('has the documented defaults', () => {
    assert.deepEqual(
      { ...LOCAL_CLUSTER_DEFAULTS },
      {
        nodes: 3,
        controllers: 1,
        natsPort: 4222,
        natsCluster: 1,
        monitorPortOffset: 4000,
        clusterPortOffset: 2000,
        dataDir: './.data',
        driver: 'process',
        apiserverPort: 8001,
      },
    );
  });

  it('tells how to get nats-server', () => {
    const help = missingNatsServerHelp();
    assert.match(help, /sudo apt-get install nats-server/);
    assert.match(help, /bash scripts\/setup\.sh/);
    assert.match(help, /releases/);
  });
});
