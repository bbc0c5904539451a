// API server facade configuration: parsed once from the environment, frozen, units in the names.
//
// It serves plain HTTP (no TLS, no authentication) on 127.0.0.1:8001 by default, the address
// `kubectl proxy` uses, so a kubeconfig needs only `server: http://127.0.0.1:8001`.

import { EnvReader, type Env } from '../../libs/runtime/env.js';

/** Every variable the API server reads. */
export const ENV_VARS = ['NATS_URL', 'LOG_LEVEL', 'APISERVER_HOST', 'APISERVER_PORT', 'SHUTDOWN_GRACE_MS'] as const;

export const DEFAULT_APISERVER_PORT = 8001;
export const DEFAULT_APISERVER_HOST = '127.0.0.1';

export interface ApiserverConfig {
  readonly natsUrl: string;
  readonly logLevel: string;
  /** Interface to listen on; 127.0.0.1 keeps the unauthenticated API local. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly shutdownGraceMs: number;
}

export function loadApiserverConfig(env: Env): ApiserverConfig {
  const r = new EnvReader(env);
  const cfg: ApiserverConfig = {
    natsUrl: r.string('NATS_URL', 'nats://127.0.0.1:4222'),
    logLevel: r.string('LOG_LEVEL', 'info'),
    host: r.string('APISERVER_HOST', DEFAULT_APISERVER_HOST),
    port: r.int('APISERVER_PORT', DEFAULT_APISERVER_PORT, { min: 0, max: 65_535 }),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, { min: 100 }),
  };
  r.done();
  return Object.freeze(cfg);
}
