// `npm start`'s entry (dist/scripts/local-cluster.js): the launcher of a local cluster, in
// scripts/local-cluster/ (main.ts; its settings in config.ts).
import { runLauncher } from './local-cluster/main.js';

await runLauncher();
