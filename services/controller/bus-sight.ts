// Whether the controller can see the bus right now, and since when without a gap. Liveness uses
// it so that the controller's own blindness (a disconnect, a stopped or restarting server, its own
// start) is never taken for a fleet that stopped beating: heartbeats queued behind our outage
// arrive in a burst after it, and every node would otherwise look silent for the outage's length.
//
// Sight is lost on a disconnect or a round-trip probe that does not come back in time, and
// restored on a reconnect or the next probe that does. The tracker is pure (times are arguments);
// watchSight() wires it to a connection.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

export class SightTracker {
  private sinceMs: number;
  private blindSinceMs: number | undefined;

  constructor(startMs: number) {
    // Nothing was seen before we started: a full grace from now for every node.
    this.sinceMs = startMs;
  }

  lost(atMs: number): void {
    this.blindSinceMs ??= atMs;
  }

  /** Returns the length of the gap it ends (0 when there was none). */
  restored(atMs: number): number {
    if (this.blindSinceMs === undefined) return 0;
    const gap = Math.max(0, atMs - this.blindSinceMs);
    this.blindSinceMs = undefined;
    this.sinceMs = atMs;
    return gap;
  }

  /** Since when sight has been continuous, or undefined while blind. */
  sightSinceMs(): number | undefined {
    return this.blindSinceMs === undefined ? this.sinceMs : undefined;
  }
}

export interface SightWatch {
  readonly tracker: SightTracker;
  stop(): void;
}

/**
 * Probes the server with a round trip every `probeEveryMs` (lost when it takes longer than that)
 * and follows the connection's status. Keep `probeEveryMs` well below the node grace period.
 */
export function watchSight(nc: NatsConnection, probeEveryMs: number, log: Logger): SightWatch {
  const tracker = new SightTracker(Date.now());
  let stopped = false;
  let probing = false;
  const restored = (why: string): void => {
    const gapMs = tracker.restored(Date.now());
    if (gapMs > 0) log.warn({ gapMs, why }, 'bus sight restored: every node gets a full grace period from now');
  };
  const probe = (): void => {
    if (probing || stopped) return;
    probing = true;
    const sentMs = Date.now();
    const late = setTimeout(() => {
      if (tracker.sightSinceMs() !== undefined) log.warn({ afterMs: probeEveryMs }, 'bus sight lost: no round trip; node liveness verdicts are held');
      tracker.lost(sentMs);
    }, probeEveryMs);
    nc.rtt().then(
      () => {
        clearTimeout(late);
        restored('round trip');
      },
      () => {
        clearTimeout(late);
        tracker.lost(sentMs);
      },
    ).finally(() => (probing = false));
  };
  const timer = setInterval(probe, probeEveryMs);
  timer.unref();

  const status = nc.status();
  void (async () => {
    for await (const s of status) {
      if (stopped) break;
      if (s.type === 'disconnect') {
        tracker.lost(Date.now());
        log.warn({ server: s.server }, 'bus sight lost: disconnected; node liveness verdicts are held');
      } else if (s.type === 'reconnect') restored('reconnect');
    }
  })().catch((err: unknown) => log.error({ err }, 'bus sight: status watch failed'));

  return {
    tracker,
    stop(): void {
      stopped = true;
      clearInterval(timer);
      // The client's status iterator has stop() (which also unregisters it); the type does not say so.
      (status as { stop?: () => void }).stop?.();
    },
  };
}
