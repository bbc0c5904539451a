// What a node command prints: kubectl writes a line per node to stdout and each failure to
// stderr, goes on with the other nodes, and exits 1 if any failed.

export interface NodeCommandOutcome {
  readonly stdout: string[];
  readonly stderr: string[];
  exitCode: number;
}

export function newOutcome(): NodeCommandOutcome {
  return { stdout: [], stderr: [], exitCode: 0 };
}

export function fail(outcome: NodeCommandOutcome, message: string): void {
  outcome.stderr.push(message);
  outcome.exitCode = 1;
}
