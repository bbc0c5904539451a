// fleet: FLEET_NODES simulated nodes in one process, over one connection (see fleet.ts).
// SIGTERM deregisters every node, as SIGTERM does for an agent.

import { waitForTopology } from '../../libs/nats/topology.js';
import { throttledBusError } from '../../libs/nats/bus-errors.js';
import { connectBus } from '../../libs/nats/connect.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { guardStartup, handleSignals, runMain } from '../../libs/runtime/lifecycle.js';
import { fleetNodeNames, loadFleetConfig } from './config.js';
import { startFleet } from './fleet.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadFleetConfig(process.env);
  log = createRootLogger('fleet', config.logLevel, { prefix: config.prefix, startIndex: config.startIndex }, { throttle: { classify: throttledBusError } });
  const signal = guardStartup({ log, graceMs: config.shutdownGraceMs });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, name: `fleet/${config.prefix}${config.startIndex}+${config.nodes}`, log, signal });
  await waitForTopology(nc, { log, signal });
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
