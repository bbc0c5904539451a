// The faults the suite injects, each once about one node of a rolling update is updated.

// `none` is the control: the same rollout with nothing injected, so that a fault's recovery time
// can be read against the time the rest of an undisturbed rollout takes from the same point.

export type FaultName = 'none' | 'nats-kill' | 'nats-stop' | 'controller-kill' | 'controller-stop' | 'agent-kill';

/** Every fault, in the order a run goes through them. */
export const FAULTS: readonly FaultName[] = ['none', 'nats-kill', 'nats-stop', 'controller-kill', 'controller-stop', 'agent-kill'];

/** What each fault does, for the JSON and `--help`. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = {
  none: 'nothing: the undisturbed rollout, timed from the same point, to read the others against',
  'nats-kill': 'kill -9 of nats-server; the launcher restarts it (after 1 s, its first restart)',
  'nats-stop': 'SIGSTOP of nats-server for --stop-seconds, then SIGCONT',
  'controller-kill': 'kill -9 of the controller owning the DaemonSet\'s slot; the launcher restarts it',
  'controller-stop': 'SIGSTOP of the controller owning the DaemonSet\'s slot for --controller-stop-seconds (longer than the lease TTL), then SIGCONT',
  'agent-kill': 'kill -9 of the agent of the node being updated; the launcher restarts it',
};

export function isFaultName(name: string): name is FaultName {
  return (FAULTS as readonly string[]).includes(name);
}

/** The faults that kill a process (which the launcher then restarts), as opposed to stopping one. */
export function isKillFault(fault: FaultName): boolean {
  return fault === 'nats-kill' || fault === 'controller-kill' || fault === 'agent-kill';
}
