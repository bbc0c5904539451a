// A process driver in a process of its own, for tests that kill -9 it as they would an agent:
// recovers the pods of PODS (a JSON list of RuntimePod) from STATE_DIR, then logs what happens.
// Output: pino JSON lines on stdout; each runtime event as { msg: 'runtime event', uid, event },
// the recovery as { msg: 'recovery', adopted, restarted, killed }. SIGTERM stops every pod, then exits 0.

import { pino } from 'pino';
import type { RuntimePod } from '../../libs/agent-runtime/driver.js';
import { createSimDriver } from '../../libs/agent-runtime/sim-driver.js';
import { createProcessDriver } from '../../services/agent/drivers/process-driver.js';

const stateDir = process.env['STATE_DIR'];
if (stateDir === undefined) throw new Error('STATE_DIR is required');
const pods = JSON.parse(process.env['PODS'] ?? '[]') as RuntimePod[];
const log = pino({ level: 'debug' });
const sim = createSimDriver({ listener: () => undefined, startDelayMs: 0, readyDelayMs: 0 });
const driver = createProcessDriver({
  stateDir,
  node: { name: process.env['NODE_NAME'] ?? 'node-host', hostIPs: ['127.0.0.1'], allocatable: { cpu: '2', memory: '1Gi' } },
  listener: (uid, event) => log.info({ uid, event }, 'runtime event'),
  log,
  simFallback: sim,
  restartBackoff: { initialMs: 20, maxMs: 40 },
  maxGraceMs: 2_000,
  pollMs: 25,
});

const recovery = await driver.recover(pods);
log.info({ adopted: recovery.adopted, restarted: recovery.restarted, killed: recovery.cleaned.killed }, 'recovery');

process.on('SIGTERM', () => {
  void driver.stopAll().then(() => process.exit(0));
});
// Kept alive by the driver's poll while it holds pods; this holds it when it holds none.
setInterval(() => undefined, 60_000);
