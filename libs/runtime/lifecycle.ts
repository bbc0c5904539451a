// An explicit service lifecycle (starting → replaying → live → stopping → stopped), logged at
// each transition, and one owner of process signals: the first SIGTERM/SIGINT runs the
// service's ordered shutdown; a second signal, or the grace time, forces exit 1.

import type { Logger } from 'pino';

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

/** Installs SIGTERM/SIGINT handling. Returns a promise that resolves after a clean stop. */
export function handleSignals(opts: ShutdownOptions): Promise<void> {
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
  });
}

/** Runs a service main: logs a fatal error and exits 1 instead of an unhandled rejection. */
export function runMain(log: () => Logger | undefined, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const l = log();
      if (l) l.fatal({ err }, 'fatal');
      else console.error(err);
      process.exit(1);
    },
  );
}
