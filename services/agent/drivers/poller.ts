// One interval for everything the process driver learns by polling: the container output files
// it follows, and the adopted processes it watches (not its children, so no 'exit' event tells
// of their end). It runs only while there is something to poll. Each tick reads every file
// first, then runs every check.

import type { OutputFollower } from './container-output.js';

export interface Poller {
  /** Reads `follower` at each tick until removeFollower(). */
  addFollower(follower: OutputFollower): void;
  removeFollower(follower: OutputFollower): void;
  /** Runs `check` at each tick until unwatch(key); a second watch() of a key replaces its check. */
  watch(key: object, check: () => void): void;
  unwatch(key: object): void;
}

export function createPoller(pollMs: number): Poller {
  const followers = new Set<OutputFollower>();
  const checks = new Map<object, () => void>();
  let ticker: NodeJS.Timeout | undefined;

  function tick(): void {
    for (const f of followers) f.poll();
    for (const check of checks.values()) check();
    if (followers.size === 0 && checks.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  function ensureTicker(): void {
    ticker ??= setInterval(tick, pollMs);
  }

  return {
    addFollower: (follower) => {
      followers.add(follower);
      ensureTicker();
    },
    removeFollower: (follower) => {
      followers.delete(follower);
    },
    watch: (key, check) => {
      checks.set(key, check);
      ensureTicker();
    },
    unwatch: (key) => {
      checks.delete(key);
    },
  };
}
