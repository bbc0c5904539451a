// The README's settings table says what each service reads: every variable in a service's
// ENV_VARS has a row (the bus and log variables every process reads are in the paragraph above the
// table), and every row names only variables the service reads. A setting added without its row,
// or a row left behind by a removed setting, fails here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ENV_VARS as AGENT } from '../../services/agent/config.js';
import { ENV_VARS as APISERVER } from '../../services/apiserver/config.js';
import { ENV_VARS as CONTROLLER } from '../../services/controller/config.js';
import { ENV_VARS as FLEET } from '../../services/fleet/config.js';
import { REPO_ROOT } from '../support/processes.js';

/** Read by every process, and documented once above the table. */
const EVERY_PROCESS = ['NATS_URL', 'LOG_LEVEL', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'];

/** process → the variables (or `PREFIX_*` patterns) its rows name. */
function settingsTable(readme: string): Map<string, string[]> {
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const end = section.indexOf('\n## ', 5);
  const rows = section.slice(0, end > 0 ? end : undefined).split('\n').filter((l) => l.startsWith('| '));
  const out = new Map<string, string[]>();
  let current = '';
  for (const row of rows.slice(2)) {
    const cells = row.split('|').map((c) => c.trim());
    const [, processCell = '', variableCell = ''] = cells;
    if (processCell !== '') current = processCell.replace(/`/g, '');
    const names = [...variableCell.matchAll(/`([A-Z][A-Z0-9_]*\*?)`/g)].map((m) => m[1]!);
    out.set(current, [...(out.get(current) ?? []), ...names]);
  }
  return out;
}

const covers = (documented: readonly string[], name: string): boolean =>
  documented.some((d) => (d.endsWith('*') ? name.startsWith(d.slice(0, -1)) : d === name));

describe("README's settings table matches each service's ENV_VARS", () => {
  const table = settingsTable(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  const services: [string, readonly string[]][] = [
    ['controller', CONTROLLER],
    ['agent', AGENT],
    ['apiserver', APISERVER],
    ['fleet', FLEET],
  ];
  for (const [service, vars] of services) {
    it(`${service}: a row for every variable it reads, and no row for one it does not`, () => {
      const documented = table.get(service) ?? [];
      assert.ok(documented.length > 0, `no rows for ${service}`);
      const missing = vars.filter((v) => !EVERY_PROCESS.includes(v) && !covers(documented, v));
      assert.deepEqual(missing, [], `${service} reads these, and the README has no row for them`);
      const stale = documented.filter((d) => !vars.some((v) => covers([d], v)));
      assert.deepEqual(stale, [], `the README documents these for ${service}, which it does not read`);
    });
  }
});
