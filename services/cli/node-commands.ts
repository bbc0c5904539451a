// dsctl taint, label, cordon, uncordon.

import type { Command } from 'commander';

export function registerNodeCommands(_program: Command): void {
  // filled in by the node administration work (issue #3)
}
