// controller: folds the log, reconciles DaemonSets of the slots it owns, judges node liveness.

import { connectBus } from '../../libs/nats/connect.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { handleSignals, runMain } from '../../libs/runtime/lifecycle.js';
import { loadControllerConfig } from './config.js';
import { startController } from './controller.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadControllerConfig(process.env);
  log = createRootLogger('controller', config.logLevel, { controller: config.controllerId });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, name: `controller/${config.controllerId}`, log });
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
