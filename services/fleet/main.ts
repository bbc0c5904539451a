// fleet: FLEET_NODES simulated nodes in one process, over one connection (see fleet.ts).
// SIGTERM deregisters every node, as SIGTERM does for an agent.

import { connectBus } from '../../libs/nats/connect.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { handleSignals, runMain } from '../../libs/runtime/lifecycle.js';
import { fleetNodeNames, loadFleetConfig } from './config.js';
import { startFleet } from './fleet.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadFleetConfig(process.env);
  log = createRootLogger('fleet', config.logLevel, { prefix: config.prefix, startIndex: config.startIndex });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, name: `fleet/${config.prefix}${config.startIndex}+${config.nodes}`, log });
  const fleet = await startFleet(
    nc,
    {
      names: fleetNodeNames(config.prefix, config.startIndex, config.nodes),
      nodeLabels: config.nodeLabels,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      simStartDelayMs: config.simStartDelayMs,
      simReadyDelayMs: config.simReadyDelayMs,
      simFailRate: config.simFailRate,
    },
    log,
  );
  await handleSignals({
    log,
    graceMs: config.shutdownGraceMs,
    stop: async () => {
      await fleet.stop();
      await nc.drain();
    },
  });
});
