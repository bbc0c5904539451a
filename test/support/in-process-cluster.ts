// A real nats-server with the controller and sim agents running in this process: the setup
// most integration tests share. Services are the real ones (startController, startAgent);
// only the process boundary is left out, so tests can look at the controller's state directly.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino, type Logger } from 'pino';
import { startAgent, type AgentHandle } from '../../services/agent/agent.js';
import { loadAgentConfig } from '../../services/agent/config.js';
import { loadControllerConfig } from '../../services/controller/config.js';
import { startController, type ControllerHandle } from '../../services/controller/controller.js';
import { startNats, type TestNats } from './nats-server.js';
import { tempDir } from './temp-dir.js';

export interface InProcessCluster {
  readonly nats: TestNats;
  readonly nc: NatsConnection;
  /** Temporary folder of the agents' state (removed by stop()). */
  readonly dir: string;
  /** Environment for the CLI (`runCli(args, cluster.env)`). */
  readonly env: Readonly<Record<string, string>>;
  readonly controller: ControllerHandle;
  readonly agents: Map<string, AgentHandle>;
  addAgent(node: string, env?: Readonly<Record<string, string>>): Promise<AgentHandle>;
  /** Stops agents (keeping their registration), the controller, the connection and the server. */
  stop(): Promise<void>;
}

export interface InProcessClusterOptions {
  readonly nodes: readonly string[];
  /** Variables for loadControllerConfig (CONTROLLER_ID defaults to `it`, SLOTS to 8). */
  readonly controllerEnv?: Readonly<Record<string, string>>;
  /** Variables for every agent's loadAgentConfig (DRIVER sim with 1 ms delays by default). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  readonly dirPrefix?: string;
  readonly log?: Logger;
}

export async function startInProcessCluster(opts: InProcessClusterOptions): Promise<InProcessCluster> {
  const log = opts.log ?? pino({ level: 'silent' });
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const dir = await tempDir(opts.dirPrefix ?? 'cluster-');
  const controller = await startController(nc, loadControllerConfig({ CONTROLLER_ID: 'it', SLOTS: '8', ...opts.controllerEnv }), log);
  const agents = new Map<string, AgentHandle>();
  const addAgent = async (node: string, env: Readonly<Record<string, string>> = {}): Promise<AgentHandle> => {
    const config = loadAgentConfig({
      NODE_NAME: node,
      DATA_DIR: join(dir, node),
      DRIVER: 'sim',
      SIM_START_DELAY_MS: '1',
      SIM_READY_DELAY_MS: '1',
      ...opts.agentEnv,
      ...env,
    });
    const agent = await startAgent(nc, config, log.child({ node }));
    agents.set(node, agent);
    return agent;
  };
  for (const node of opts.nodes) await addAgent(node);
  return {
    nats,
    nc,
    dir,
    env: { NATS_URL: nats.url },
    controller,
    agents,
    addAgent,
    async stop(): Promise<void> {
      for (const agent of agents.values()) await agent.stop({ deregister: false });
      await controller.stop();
      await nc.close();
      await nats.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
