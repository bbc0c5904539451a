// The agent's runtime drivers: the contract, the real process driver and the simulator.

export type { RuntimeDriver, RuntimeEvent, RuntimeListener, RuntimeNode, RuntimePod } from '../../../libs/agent-runtime/driver.js';
export { DEFAULT_TERMINATION_GRACE_SECONDS } from '../../../libs/agent-runtime/driver.js';
export type { ProcessDriver, ProcessDriverOptions, Recovery } from './process-driver.js';
export { createProcessDriver } from './process-driver.js';
export { PROCESS_REASONS } from './process-reasons.js';
export type { SimDriverOptions, TimerHandle } from '../../../libs/agent-runtime/sim-driver.js';
export { createSimDriver, imageTag, SIM_ANNOTATIONS, SIM_BROKEN_TAG, SIM_FAILURE_EXIT_CODE, SIM_FAILURE_REASON } from '../../../libs/agent-runtime/sim-driver.js';
export type { BackoffDecision, BackoffPolicy } from './crash-backoff.js';
export { decideBackoff, DEFAULT_BACKOFF } from './crash-backoff.js';
export type { PidRecord, StaleCleanup } from './pid-files.js';
export { pidFilePath } from './pid-files.js';
export type { ProbeContext, ProbeResult } from './probe.js';
export { resolvePort, runProbe } from './probe.js';
export type { ProbeTiming } from './readiness-worker.js';
export { probeTiming } from './readiness-worker.js';
export type { OutputRate, OutputStream } from './container-output.js';
export { containerLogPath, DEFAULT_OUTPUT_RATE } from './container-output.js';
