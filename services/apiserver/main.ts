// apiserver: a Kubernetes API facade over the event log, for a real kubectl. It folds the log
// into the same read model as every process, serves it as apps/v1 and v1 objects, and turns
// kubectl's writes into events; it decides nothing itself.

import { waitForTopology } from '../../libs/nats/topology.js';
import { throttledBusError } from '../../libs/nats/bus-errors.js';
import { connectBus } from '../../libs/nats/connect.js';
import { guardStartup, handleSignals, Lifecycle, runMain } from '../../libs/runtime/lifecycle.js';
import { createRootLogger, type Logger } from '../../libs/runtime/logger.js';
import { loadApiserverConfig, readTls, readToken } from './config.js';
import { createWriteContext } from './log-writes.js';
import { startReadModel } from './read-model.js';
import { startApiServer } from './server.js';

let log: Logger | undefined;

runMain(() => log, async () => {
  const config = loadApiserverConfig(process.env);
  log = createRootLogger('apiserver', config.logLevel, {}, { throttle: { classify: throttledBusError } });
  const token = config.tokenFile === undefined ? undefined : await readToken(config.tokenFile);
  const tls = config.tls === undefined ? undefined : await readTls(config.tls);
  if (token !== undefined && tls === undefined) log.warn('APISERVER_TOKEN_FILE without TLS: kubectl sends its token only to an https:// server');
  const life = new Lifecycle(log);
  const signal = guardStartup({ log, graceMs: config.shutdownGraceMs });
  const nc = await connectBus({ url: config.natsUrl, security: config.security, name: 'apiserver', log, signal });
  await waitForTopology(nc, { log, signal });
  life.to('replaying');
  const model = await startReadModel(nc, log);
  const writes = await createWriteContext(nc, model, log);
  const server = await startApiServer({ host: config.host, port: config.port, model, writes, log, ...(token !== undefined ? { token } : {}), ...(tls !== undefined ? { tls } : {}) });
  life.to('live', { url: server.url, authentication: token !== undefined ? 'bearer token' : 'none' });
  await handleSignals({
    log,
    graceMs: config.shutdownGraceMs,
    // Stop answering first, then stop following the log, then drain the connection.
    stop: async () => {
      life.to('stopping');
      await server.close();
      await model.stop();
      await nc.drain();
      life.to('stopped');
    },
  });
});
