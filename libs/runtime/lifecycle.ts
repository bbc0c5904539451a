// An explicit service lifecycle (starting → replaying → live → stopping → stopped), logged at
// each transition, and one owner of process signals: the first SIGTERM/SIGINT runs the
// service's ordered shutdown; a second signal, or the grace time, forces exit 1. A signal that
// comes while the service is still starting (waiting for the bus) ends the wait at once
// (guardStartup), or, when it comes later in the start, runs the shutdown as soon as
// handleSignals is installed.

import type { Logger } from 'pino';
import { supervisorPidFrom, watchSupervisor } from './parent-watch.js';

export type Phase = 'starting' | 'replaying' | 'live' | 'stopping' | 'stopped';

export class Lifecycle {
  private current: Phase = 'starting';
  private readonly listeners = new Set<(p: Phase) => void>();

  constructor(private readonly log: Logger) {
    log.info({ phase: this.current }, 'lifecycle');
  }

  get phase(): Phase {
    return this.current;
  }

  to(next: Phase, fields: Record<string, unknown> = {}): void {
    if (next === this.current) return;
    this.current = next;
    this.log.info({ phase: next, ...fields }, 'lifecycle');
    for (const l of this.listeners) l(next);
  }

  onChange(l: (p: Phase) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export interface ShutdownOptions {
  readonly log: Logger;
  readonly graceMs: number;
  /** The ordered shutdown of the service; resolves when everything is released. */
  readonly stop: (signal: string) => Promise<void>;
}

/** Thrown (as the abort reason of guardStartup's signal) when a signal stops a service that is still starting. */
export class StoppedWhileStarting extends Error {
  override readonly name = 'StoppedWhileStarting';
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal} while starting`);
  }
}

interface StartupGuard {
  readonly controller: AbortController;
  readonly listener: (signal: NodeJS.Signals) => void;
  received?: NodeJS.Signals;
  timer?: NodeJS.Timeout;
}

/** The guard of the start in progress (one per process), until handleSignals takes over. */
let startup: StartupGuard | undefined;

/**
 * Owns SIGTERM/SIGINT while a service starts, before handleSignals is installed. The first signal
 * aborts the returned signal (its reason a StoppedWhileStarting: waits for the bus end at once and
 * runMain exits 0); a start that cannot be aborted gets the grace time to finish, after which the
 * process exits 1, as it does on a second signal. Calling it again returns the same signal.
 */
export function guardStartup(opts: { readonly log: Logger; readonly graceMs: number }): AbortSignal {
  if (startup) return startup.controller.signal;
  const controller = new AbortController();
  const guard: StartupGuard = {
    controller,
    listener: (signal) => {
      if (guard.received) {
        opts.log.warn({ signal }, 'second signal: forcing exit');
        process.exit(1);
      }
      guard.received = signal;
      opts.log.info({ signal, graceMs: opts.graceMs }, 'shutting down while starting');
      controller.abort(new StoppedWhileStarting(signal));
      guard.timer = setTimeout(() => {
        opts.log.error({ graceMs: opts.graceMs }, 'shutdown grace time exceeded while starting: forcing exit');
        process.exit(1);
      }, opts.graceMs);
      guard.timer.unref();
    },
  };
  startup = guard;
  process.on('SIGTERM', guard.listener);
  process.on('SIGINT', guard.listener);
  return controller.signal;
}

/** Ends the start-up guard; returns the signal it received, if any. */
function endStartup(): NodeJS.Signals | undefined {
  const guard = startup;
  if (!guard) return undefined;
  startup = undefined;
  process.off('SIGTERM', guard.listener);
  process.off('SIGINT', guard.listener);
  if (guard.timer) clearTimeout(guard.timer);
  return guard.received;
}

/**
 * Installs SIGTERM/SIGINT handling. Returns a promise that resolves after a clean stop. A signal
 * received while starting (guardStartup) starts the shutdown at once.
 */
export function handleSignals(opts: ShutdownOptions): Promise<void> {
  const early = endStartup();
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        opts.log.warn({ signal }, 'second signal: forcing exit');
        process.exit(1);
      }
      stopping = true;
      opts.log.info({ signal, graceMs: opts.graceMs }, 'shutting down');
      const timer = setTimeout(() => {
        opts.log.error({ graceMs: opts.graceMs }, 'shutdown grace time exceeded: forcing exit');
        process.exit(1);
      }, opts.graceMs);
      timer.unref();
      opts.stop(signal).then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: unknown) => {
          opts.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (early) onSignal(early);
    const supervisor = supervisorPidFrom(process.env);
    if (supervisor !== undefined) {
      watchSupervisor(supervisor, () => {
        opts.log.warn({ supervisor }, 'the supervisor is gone: shutting down');
        if (!stopping) onSignal('SIGTERM');
      });
    }
  });
}

/**
 * Runs a service main: logs a fatal error and exits 1 instead of an unhandled rejection. A stop
 * by a signal while starting (StoppedWhileStarting) is a clean exit 0.
 */
export function runMain(log: () => Logger | undefined, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const l = log();
      if (err instanceof StoppedWhileStarting) {
        l?.info({ signal: err.signal }, 'stopped while starting');
        process.exit(0);
      }
      if (l) l.fatal({ err }, 'fatal');
      else console.error(err);
      process.exit(1);
    },
  );
}
