// Signals a child spawned with `detached: true`: it leads its own process group, so the
// signal reaches everything it forked. A group that is already gone is not an error.

import type { Logger } from 'pino';

export function signalGroup(pid: number, signal: NodeJS.Signals, log?: Logger): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH') log?.warn({ err, pid, signal }, 'signalling process group failed');
    return false;
  }
}
