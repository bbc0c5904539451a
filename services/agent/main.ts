// agent: one per node. Registers, heartbeats, runs the pods its commands ask for, reports them.

import { waitForTopology } from '../../libs/nats/topology.js';
import { throttledBusError } from '../../libs/nats/bus-errors.js';
import { connectBus } from '../../libs/nats/connect.js';
import { agentInboxPrefix } from '../../libs/topology/roles.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { guardStartup, handleSignals, runMain } from '../../libs/runtime/lifecycle.js';
import { startAgent } from './agent.js';
import { loadAgentConfig } from './config.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadAgentConfig(process.env);
  log = createRootLogger('agent', config.logLevel, { node: config.nodeName }, { throttle: { classify: throttledBusError } });
  const signal = guardStartup({ log, graceMs: config.shutdownGraceMs });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, inboxPrefix: agentInboxPrefix(config.nodeName), name: `agent/${config.nodeName}`, log, signal });
  await waitForTopology(nc, { log, signal });
  const agent = await startAgent(nc, config, log);
  await handleSignals({
    log,
    graceMs: config.shutdownGraceMs,
    stop: async () => {
      await agent.stop({ deregister: true });
      await nc.drain();
    },
  });
});
