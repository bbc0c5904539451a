// Every process of one repetition's cluster carries `CHAOS_RUN=<marker>` in its environment
// (the launcher passes its own environment to its children; the pods get it from the manifest),
// so whatever outlives the launcher is found by pid and ended, never by name.

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export const MARKER_VAR = 'CHAOS_RUN';

/** Pids of live (not zombie) processes other than this one whose environment holds `CHAOS_RUN=marker`. */
export function markedProcesses(marker: string): number[] {
  const wanted = `${MARKER_VAR}=${marker}`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(wanted)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!/\) Z /.test(stat)) out.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** Sends `signal` to `pid`; false when the process is gone. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGCONT then SIGKILL to every marked process, until none is left or `timeoutMs` passed; returns how many were found. */
export async function killMarked(marker: string, timeoutMs = 5_000): Promise<number> {
  const found = markedProcesses(marker);
  const deadline = Date.now() + timeoutMs;
  let left = found;
  while (left.length > 0 && Date.now() < deadline) {
    for (const pid of left) {
      signal(pid, 'SIGCONT');
      signal(pid, 'SIGKILL');
    }
    await delay(100);
    left = markedProcesses(marker);
  }
  return found.length;
}
