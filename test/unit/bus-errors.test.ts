// classifyBusError: which bus failures a service waits out, and which end its start at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { jserrors } from '@nats-io/jetstream/internal';
import { AuthorizationError, ClosedConnectionError, ConnectionError, NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { CredentialsError } from '../../libs/auth/credentials.js';
import { classifyBusError, type BusErrorClass } from '../../libs/nats/bus-errors.js';
import { BusAuthorizationError, BusClientCertificateError, BusUnavailableError } from '../../libs/nats/connect.js';
import { StoreFullError } from '../../libs/nats/store-full.js';
import { TopologyError, TopologyMissingError } from '../../libs/nats/topology-errors.js';
import { ConfigError } from '../../libs/runtime/env.js';

const URL = 'nats://127.0.0.1:4222';
const apiError = (status: number, errCode: number, description: string): JetStreamApiError => new JetStreamApiError({ code: status, err_code: errCode, description });
const noResponders = (subject: string): RequestError => new RequestError(`no responders: '${subject}'`, { cause: new NoRespondersError(subject) });
const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

const CASES: readonly { readonly name: string; readonly err: unknown; readonly cls: BusErrorClass; readonly transient: boolean }[] = [
  { name: 'connection refused (no server yet)', err: new BusUnavailableError(URL, new ConnectionError('connection refused')), cls: 'unreachable', transient: true },
  { name: 'a socket error before nats.js wraps it', err: withCode('connect ECONNRESET', 'ECONNRESET'), cls: 'unreachable', transient: true },
  { name: 'a request timeout', err: new TimeoutError(), cls: 'timeout', transient: true },
  { name: 'no responders on $JS.API (JetStream off)', err: new jserrors.JetStreamNotEnabled('jetstream is not enabled', { cause: noResponders('$JS.API.INFO') }), cls: 'jetstream-off', transient: true },
  { name: 'a bare no-responders request error', err: noResponders('$JS.API.STREAM.INFO.DS_LOG'), cls: 'jetstream-off', transient: true },
  { name: 'JetStream not enabled (10076)', err: apiError(503, 10076, 'JetStream not enabled'), cls: 'jetstream-off', transient: true },
  { name: 'no meta leader (10008)', err: apiError(503, 10008, 'JetStream system temporarily unavailable'), cls: 'no-leader', transient: true },
  { name: 'not the leader (10009)', err: apiError(500, 10009, 'JetStream cluster can not handle request'), cls: 'no-leader', transient: true },
  { name: 'no peers for placement yet (10005)', err: apiError(400, 10005, 'no suitable peers for placement'), cls: 'no-leader', transient: true },
  { name: 'the server store is full (10023)', err: apiError(503, 10023, 'insufficient resources'), cls: 'store-full', transient: true },
  { name: 'the account limit is reached (10002)', err: apiError(400, 10002, 'resource limits exceeded for account'), cls: 'store-full', transient: true },
  { name: 'a StoreFullError', err: new StoreFullError('ev.x', { limit: 'server', code: 10023, advice: 'free space' }, {}, apiError(503, 10023, 'insufficient resources')), cls: 'store-full', transient: true },
  { name: 'no topology yet', err: new TopologyMissingError(), cls: 'no-topology', transient: true },
  { name: 'credentials refused', err: new BusAuthorizationError(URL, undefined), cls: 'refused', transient: false },
  { name: "nats.js's authorization error", err: new AuthorizationError('Authorization Violation'), cls: 'refused', transient: false },
  { name: 'an unreadable creds file', err: new CredentialsError('cannot read credentials file /x'), cls: 'refused', transient: false },
  { name: 'a client certificate required', err: new BusClientCertificateError(URL, undefined, new TimeoutError()), cls: 'tls', transient: false },
  { name: 'an untrusted server certificate', err: new BusUnavailableError(URL, withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')), cls: 'tls', transient: false },
  { name: 'TLS asked of a server without it', err: new BusUnavailableError(URL, new ConnectionError("server does not support 'tls'")), cls: 'tls', transient: false },
  { name: 'a permission refused', err: new RequestError('permissions violation', { cause: new PermissionViolationError('Permissions Violation for Publish to "$JS.API.INFO"', 'publish', '$JS.API.INFO') }), cls: 'forbidden', transient: false },
  { name: 'a server too old', err: new TopologyError('nats-server 2.8.0 is too old: 2.9.0 or newer is required'), cls: 'incompatible', transient: false },
  { name: 'a bad configuration', err: new ConfigError(['NATS_URL: bad']), cls: 'incompatible', transient: false },
  { name: 'a closed connection', err: new ClosedConnectionError(), cls: 'closed', transient: false },
  { name: 'a stream that does not exist (a bug here, not a state of the bus)', err: apiError(404, 10059, 'stream not found'), cls: 'other', transient: false },
  { name: 'a TypeError', err: new TypeError('x is not a function'), cls: 'other', transient: false },
];

describe('classifyBusError', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.cls}, ${c.transient ? 'waited out' : 'ends the start'}`, () => {
      const v = classifyBusError(c.err);
      assert.deepEqual({ cls: v.class, transient: v.transient }, { cls: c.cls, transient: c.transient });
      assert.ok(v.reason.length > 0);
    });
  }

  it('a refusal wrapped in a timeout-looking chain is still a refusal', () => {
    const err = new BusUnavailableError(URL, new TimeoutError({ cause: new AuthorizationError('Authorization Violation') }));
    assert.equal(classifyBusError(err).class, 'refused');
  });

  it('the reason of a full store says what to do', () => {
    assert.match(classifyBusError(apiError(503, 10023, 'insufficient resources')).reason, /max_file_store/);
  });
});
