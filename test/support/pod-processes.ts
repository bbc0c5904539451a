// Finding the real processes of pods in e2e tests: the pods' env carries `E2E_MARKER=<marker>`,
// and the process driver passes the pod's env to its processes.

import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live (not zombie) processes whose environment carries `E2E_MARKER=marker`. */
export function processesWithMarker(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (environ.split('\0').includes(`E2E_MARKER=${marker}`) && !/\) Z /.test(stat)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
