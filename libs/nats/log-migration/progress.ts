// Progress lines for a person watching a long migration, at a bounded rate.

import type { MigrationOptions } from './types.js';

export function progressLine(opts: MigrationOptions): (line: string, force?: boolean) => void {
  const every = opts.progressEveryMs ?? 2_000;
  let last = 0;
  return (line, force = false) => {
    if (!opts.progress) return;
    const now = Date.now();
    if (!force && now - last < every) return;
    last = now;
    opts.progress(`migrate-log: ${line}`);
  };
}
