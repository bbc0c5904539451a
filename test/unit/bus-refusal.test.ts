// A refusal by the bus's permissions, found in the error that carries it (libs/auth/permission-refusal.ts),
// and how dsctl prints it (services/cli/errors.ts busRefusal). The errors here are the shapes
// @nats-io v3 gives (test/integration/auth-permissions.test.ts sees them from a real server).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionViolationError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { permissionRefusal, type PermissionRefusal } from '../../libs/auth/permission-refusal.js';
import { busRefusal } from '../../services/cli/errors.js';

const publishText = (subject: string): string => `Permissions Violation for Publish to "${subject}"`;
const subscribeText = (subject: string): string => `Permissions Violation for Subscription to "${subject}"`;

describe('permissionRefusal', () => {
  const inbox = '_INBOX.4AgPpE1bLR37LmC7yS29pT.*';
  const cases: readonly [string, unknown, PermissionRefusal | undefined][] = [
    [
      'a request to a forbidden subject (RequestError caused by a PermissionViolationError)',
      new RequestError(publishText('s.5.ds.default.web'), { cause: new PermissionViolationError(publishText('s.5.ds.default.web'), 'publish', 's.5.ds.default.web') }),
      { operation: 'publish', subject: 's.5.ds.default.web' },
    ],
    [
      "a request whose reply subscription is forbidden (an agent's credentials without its inbox prefix)",
      new RequestError(subscribeText(inbox), { cause: new PermissionViolationError(subscribeText(inbox), 'subscription', inbox) }),
      { operation: 'subscription', subject: inbox },
    ],
    ['the PermissionViolationError itself (a status)', new PermissionViolationError(publishText('hb.node-b'), 'publish', 'hb.node-b'), { operation: 'publish', subject: 'hb.node-b' }],
    ['only the text, wrapped twice', new Error('load failed', { cause: new Error(`x: ${publishText('$JS.API.STREAM.INFO.DS_LOG')}`) }), { operation: 'publish', subject: '$JS.API.STREAM.INFO.DS_LOG' }],
    ['a timeout', new TimeoutError(), undefined],
    ['a stream not found', new Error('stream not found'), undefined],
    ['not an Error', publishText('ev.x'), undefined],
    ['undefined', undefined, undefined],
  ];
  for (const [what, err, want] of cases) it(what, () => assert.deepEqual(permissionRefusal(err), want));

  it('a cause chain that loops ends', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(permissionRefusal(a), undefined);
  });
});

describe('busRefusal: what dsctl prints (exit 1)', () => {
  const read = (what: string, why = ''): string =>
    `Error from server (Forbidden): the bus refused this read (${what}): the credentials in use may not do it${why}; a viewer's or an admin's credentials may (dsctl auth list)`;
  const write = (what: string): string => `Error from server (Forbidden): the bus refused this write (${what}): the credentials in use may not do it; an admin's credentials may (dsctl auth list)`;
  const cases: readonly [string, PermissionRefusal, string][] = [
    ['a DaemonSet write', { operation: 'publish', subject: 's.5.ds.default.web' }, write('s.5.ds.default.web')],
    ['a topology setting (KV put)', { operation: 'publish', subject: '$KV.ds_config.slots' }, write('$KV.ds_config.slots')],
    ['creating a stream', { operation: 'publish', subject: '$JS.API.STREAM.CREATE.DS_LOG' }, write('$JS.API.STREAM.CREATE.DS_LOG')],
    ['purging the log', { operation: 'publish', subject: '$JS.API.STREAM.PURGE.DS_LOG' }, write('$JS.API.STREAM.PURGE.DS_LOG')],
    ['deleting a consumer', { operation: 'publish', subject: '$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-a' }, write('$JS.API.CONSUMER.DELETE.DS_LOG.cmd_node-a')],
    [
      "the replies of an agent's credentials",
      { operation: 'subscription', subject: '_INBOX.4AgPpE1bLR37LmC7yS29pT.*' },
      read('replies on _INBOX.>', " (a node agent's may read only its own commands)"),
    ],
    ['a subscription elsewhere', { operation: 'subscription', subject: 'ev.>' }, read('ev.>')],
    ['account info', { operation: 'publish', subject: '$JS.API.INFO' }, read('$JS.API.INFO')],
    ['stream info', { operation: 'publish', subject: '$JS.API.STREAM.INFO.DS_LOG' }, read('$JS.API.STREAM.INFO.DS_LOG')],
    ['a direct get', { operation: 'publish', subject: '$JS.API.DIRECT.GET.DS_LOG' }, read('$JS.API.DIRECT.GET.DS_LOG')],
    ['a message get', { operation: 'publish', subject: '$JS.API.STREAM.MSG.GET.DS_LOG' }, read('$JS.API.STREAM.MSG.GET.DS_LOG')],
    ["a reader's consumer", { operation: 'publish', subject: '$JS.API.CONSUMER.CREATE.DS_LOG.rd_x' }, read('$JS.API.CONSUMER.CREATE.DS_LOG.rd_x')],
    ['a pull', { operation: 'publish', subject: '$JS.API.CONSUMER.MSG.NEXT.DS_LOG.rd_x' }, read('$JS.API.CONSUMER.MSG.NEXT.DS_LOG.rd_x')],
    ['consumer info', { operation: 'publish', subject: '$JS.API.CONSUMER.INFO.DS_LOG.cmd_node-b' }, read('$JS.API.CONSUMER.INFO.DS_LOG.cmd_node-b')],
  ];
  for (const [what, refusal, message] of cases) {
    it(what, () => {
      const e = busRefusal(refusal);
      assert.deepEqual({ name: e.name, message: e.message, exitCode: e.exitCode }, { name: 'CliError', message, exitCode: 1 });
    });
  }
});
