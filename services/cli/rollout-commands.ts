// dsctl set image, rollout status|history|undo|restart, delete pod.

import type { Command } from 'commander';

export function registerRolloutCommands(_program: Command): void {
  // filled in by the rollout work (issue #4)
}
