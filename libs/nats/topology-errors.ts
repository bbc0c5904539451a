// The topology's own failures, apart from topology.ts so that the bus-error classifier can name
// them without importing what creates the topology.

/** The topology cannot be used: a server too old, a setting that is not valid. Waiting does not mend it. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

/** No topology yet: only a controller creates it (see waitForTopology). Waiting mends it. */
export class TopologyMissingError extends Error {
  override readonly name = 'TopologyMissingError';
  constructor() {
    super('no topology yet: waiting for a controller to create the streams and buckets');
  }
}
