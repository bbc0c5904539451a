// controller: folds the log, reconciles DaemonSets of the slots it owns, judges node liveness.

import { whenJetStreamReady } from '../../libs/nats/bus-readiness.js';
import { throttledBusError } from '../../libs/nats/bus-errors.js';
import { connectBus } from '../../libs/nats/connect.js';
import { Members } from '../../libs/nats/members.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { guardStartup, handleSignals, runMain } from '../../libs/runtime/lifecycle.js';
import { loadControllerConfig } from './config.js';
import { startController } from './controller.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadControllerConfig(process.env);
  log = createRootLogger('controller', config.logLevel, { controller: config.controllerId }, { throttle: { classify: throttledBusError } });
  const signal = guardStartup({ log, graceMs: config.shutdownGraceMs });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, name: `controller/${config.controllerId}`, log, signal });
  // What the start creates (streams, buckets, the member list) is created here first, waiting
  // out a JetStream that is not enabled or has no leader yet; startController finds it there.
  await whenJetStreamReady(
    nc,
    async () => {
      await ensureTopology(nc, { slots: config.slots, replicas: config.streamReplicas });
      await Members.open(nc, config.leaseTtlMs, config.streamReplicas);
    },
    { log, signal },
  );
  const controller = await startController(nc, config, log);
  await handleSignals({
    log,
    graceMs: config.shutdownGraceMs,
    stop: async () => {
      await controller.stop();
      await nc.drain();
    },
  });
});
