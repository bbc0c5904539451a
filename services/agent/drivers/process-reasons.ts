// The reasons the process driver reports with 'notReady' and 'failed' events, after the
// kubelet's container waiting and terminated reasons.

/** Reasons carried by 'notReady' and 'failed' events. */
export const PROCESS_REASONS = {
  /** First crash of a container (it restarts after the initial back-off). */
  error: 'Error',
  /** A container crashed again within the back-off window. */
  crashLoop: 'CrashLoopBackOff',
  /** A readiness probe failed failureThreshold times in a row. */
  containersNotReady: 'ContainersNotReady',
  /** A container exited 0 under restartPolicy Never/OnFailure. */
  completed: 'Completed',
  /** The spec cannot be run by this driver. */
  invalidSpec: 'InvalidSpec',
  /** An env var's valueFrom cannot be answered (the kubelet's waiting reason for it). */
  createContainerConfigError: 'CreateContainerConfigError',
  /** A container ended unseen (while no agent ran, or adopted and not our child): its exit code is unknown. */
  statusUnknown: 'ContainerStatusUnknown',
} as const;

/**
 * Why a container's process ended: unseen when its exit code is unknown (undefined), else a
 * crash, in a crash loop when it follows an earlier crash within the back-off window.
 */
export function exitReason(exitCode: number | undefined, crashLooping = false): string {
  if (exitCode === undefined) return PROCESS_REASONS.statusUnknown;
  return crashLooping ? PROCESS_REASONS.crashLoop : PROCESS_REASONS.error;
}
