// What a failure on the bus means: one that may pass by itself (the server is not reachable yet,
// JetStream is not enabled or has no leader yet, a request timed out, the store is full until
// someone frees space) or one that waiting cannot mend (refused credentials, a TLS mismatch, a
// refused permission, a server too old). Decided by the nats.js error classes and the JetStream
// API error codes (nats-server's errors.json), not by message text, except where the client
// gives nothing else (Node's TLS errors carry a `code`; JetStream's store failure 10077 carries
// only its description).

import { JetStreamApiError } from '@nats-io/jetstream';
// The client's class for "no responders on $JS.API" is exported only from its internal entry.
import { jserrors } from '@nats-io/jetstream/internal';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { CredentialsError } from '../auth/credentials.js';
import { ConfigError } from '../runtime/env.js';
import type { RetryVerdict } from '../runtime/retry.js';
import { BusAuthorizationError, BusClientCertificateError, BusUnavailableError } from './connect.js';
import { storeRefusal, StoreFullError } from './store-full.js';
import { TopologyError, TopologyMissingError } from './topology-errors.js';

/** JetStream API error codes (err_code) that say "not now" (nats-server errors.json). */
export const JS_API_CODES = Object.freeze({
  /** JSClusterIncompleteErr, 503: "incomplete results". */
  clusterIncomplete: 10004,
  /** JSClusterNotAvailErr, 503: "JetStream system temporarily unavailable" (no meta leader). */
  clusterNotAvailable: 10008,
  /** JSClusterNotLeaderErr, 500: "JetStream cluster can not handle request". */
  clusterNotLeader: 10009,
  /** JSClusterNoPeersErrF, 400: "no suitable peers for placement" (the cluster's servers are not all up yet). */
  clusterNoPeers: 10005,
  /** JSNotEnabledForAccountErr, 503. */
  notEnabledForAccount: 10039,
  /** JSNotEnabledErr, 503: "JetStream not enabled". */
  notEnabled: 10076,
});

/**
 * - `unreachable`: no connection to any server (refused, reset, DNS);
 * - `timeout`: a request or a connect got no answer in time;
 * - `jetstream-off`: JetStream does not answer (not enabled, or not started yet on this server);
 * - `no-leader`: JetStream has no meta or stream leader (a cluster starting, an election);
 * - `store-full`: the server, the account or a stream refused to store for lack of space;
 * - `no-topology`: the streams are not created yet (a controller creates them);
 * - `refused`: credentials missing, unknown or expired (authorization violation);
 * - `tls`: a TLS mismatch (untrusted certificate, client certificate refused, TLS on one side only);
 * - `forbidden`: a subject the credentials may not use;
 * - `incompatible`: a server this code cannot use (too old), or a bad configuration;
 * - `closed`: the connection was closed or is draining (the process is stopping);
 * - `other`: anything else: a bug, not a state of the bus.
 */
export type BusErrorClass =
  | 'unreachable'
  | 'timeout'
  | 'jetstream-off'
  | 'no-leader'
  | 'store-full'
  | 'no-topology'
  | 'refused'
  | 'tls'
  | 'forbidden'
  | 'incompatible'
  | 'closed'
  | 'other';

export interface BusErrorVerdict extends RetryVerdict {
  readonly class: BusErrorClass;
}

const TRANSIENT: ReadonlySet<BusErrorClass> = new Set(['unreachable', 'timeout', 'jetstream-off', 'no-leader', 'store-full', 'no-topology']);

/** Node's (OpenSSL's) codes of a certificate that does not verify. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
]);
/** How deep to follow `cause`. */
const MAX_CAUSES = 8;

function causes(err: unknown): Error[] {
  const out: Error[] = [];
  for (let e: unknown = err; e instanceof Error && out.length < MAX_CAUSES; e = e.cause) out.push(e);
  return out;
}

function isTlsFailure(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (TLS_CODES.has(code) || /^ERR_(SSL|TLS)_/.test(code))) return true;
  // nats.js: the client asked for TLS and the server offers none, or the reverse.
  if (e instanceof ConnectionError && e.message.includes("does not support 'tls'")) return true;
  return e instanceof InvalidArgumentError && /\btls\b/.test(e.message);
}

function verdict(cls: BusErrorClass, reason: string): BusErrorVerdict {
  return { class: cls, transient: TRANSIENT.has(cls), reason };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The class of a bus failure, whether waiting may mend it, and a line that says so. */
export function classifyBusError(err: unknown): BusErrorVerdict {
  const chain = causes(err);
  const top = messageOf(err);
  // Terminal first: a refusal wrapped in something that looks transient is still a refusal.
  for (const e of chain) {
    if (e instanceof CredentialsError || e instanceof BusAuthorizationError || e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError) {
      return verdict('refused', e.message);
    }
    if (e instanceof BusClientCertificateError || isTlsFailure(e)) return verdict('tls', top);
    if (e instanceof PermissionViolationError) return verdict('forbidden', e.message);
    if (e instanceof ConfigError || e instanceof TopologyError) return verdict('incompatible', e.message);
    if (e instanceof ClosedConnectionError || e instanceof DrainingConnectionError) return verdict('closed', e.message);
  }
  for (const e of chain) {
    if (e instanceof StoreFullError) return verdict('store-full', e.message);
    const store = storeRefusal(e);
    if (store) {
      // A stream created in a cluster with too few servers up gets the same "insufficient resources".
      const placement = store.limit === 'server' ? ' (or, in a cluster, too few of its servers are up to place a new stream\'s replicas)' : '';
      return verdict('store-full', `JetStream refused to store (${e.message}, ${store.code})${placement}: ${store.advice}`);
    }
    if (e instanceof TopologyMissingError) return verdict('no-topology', e.message);
    if (e instanceof jserrors.JetStreamNotEnabled) {
      return verdict('jetstream-off', `JetStream does not answer (${e.message}): the server is not running with JetStream (nats-server -js, or a jetstream block in its configuration), or it is still starting`);
    }
    if (e instanceof JetStreamApiError) {
      const code = e.code;
      if (code === JS_API_CODES.notEnabled || code === JS_API_CODES.notEnabledForAccount) {
        return verdict('jetstream-off', `JetStream is not enabled (${e.message}, ${code}): enable it on the server, or for this account`);
      }
      if (code === JS_API_CODES.clusterNotAvailable || code === JS_API_CODES.clusterNotLeader || code === JS_API_CODES.clusterIncomplete || code === JS_API_CODES.clusterNoPeers) {
        return verdict('no-leader', `JetStream is not ready (${e.message}, ${code}): the cluster has no leader yet, or not enough of its servers are up`);
      }
      if (e.status === 503) return verdict('no-leader', `JetStream is temporarily unavailable (${e.message}, ${code})`);
      return verdict('other', e.message);
    }
    if (e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders())) {
      return verdict('jetstream-off', `nobody answers (${e.message}): JetStream is not enabled on the server, or it is still starting`);
    }
    if (e instanceof TimeoutError) return verdict('timeout', `no answer in time (${top})`);
    if (e instanceof BusUnavailableError || e instanceof ConnectionError) return verdict('unreachable', top);
  }
  // Node's socket errors (ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ENOTFOUND…) before nats.js wraps them.
  for (const e of chain) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E(CONN|HOST|NET|NOTFOUND|AI_AGAIN|PIPE|TIMEDOUT)/.test(code)) return verdict('unreachable', top);
  }
  return verdict('other', top);
}

/** Whether waiting may mend `err` (see classifyBusError). */
export function isTransientBusError(err: unknown): boolean {
  return classifyBusError(err).transient;
}

/**
 * For the root logger's throttle (libs/runtime/log-throttle.ts): the bus failures that come in
 * floods while they last (every write refused by a full store, every request while the bus is
 * away) are rate-limited per class; the rest are logged as they come.
 */
export function throttledBusError(err: unknown): { class: BusErrorClass; reason: string } | undefined {
  const v = classifyBusError(err);
  return v.transient ? { class: v.class, reason: v.reason } : undefined;
}
