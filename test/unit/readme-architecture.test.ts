// The README's architecture sketch names every subject family the topology builds, so a reader
// sees the whole bus in one picture: a family added in libs/topology without its line fails here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  clockSubject,
  commandSubject,
  deadLetterSubject,
  dsStatusSubject,
  dsSubject,
  heartbeatSubject,
  lifeSubject,
  namespaceSubject,
  nodeAdminSubject,
  nodeSubject,
  podReportSubject,
  podRequestSubject,
  shardSubject,
} from '../../libs/topology/names.js';
import { REPO_ROOT } from '../support/processes.js';

/** One subject of every family; the family is its literal tokens before the first variable one. */
const SUBJECTS = [
  dsSubject(1, 'x-ns', 'x-name'),
  dsStatusSubject(1, 'x-ns', 'x-name'),
  namespaceSubject('x-ns'),
  nodeSubject('x-node'),
  nodeAdminSubject('x-node'),
  lifeSubject('x-node'),
  podReportSubject(1, 'x-node'),
  podRequestSubject(1, 'x-node'),
  commandSubject(1, 'x-node'),
  clockSubject(1),
  shardSubject(1),
  heartbeatSubject('x-node'),
  deadLetterSubject('x-consumer', 'x-class'),
];

/** The tokens before the first of the x- arguments above, a slot number written `<slot>`: `s.<slot>.pod`, `g.node`. */
function familyOf(subject: string): string {
  const literal: string[] = [];
  for (const token of subject.split('.')) {
    if (token.startsWith('x-')) break;
    literal.push(/^\d+$/.test(token) ? '<slot>' : token);
  }
  return literal.join('.');
}

describe("README's architecture sketch", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const sketch = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('- **One log, one order.**'));
  for (const subject of SUBJECTS) {
    const family = familyOf(subject);
    it(`names the ${family}.… family`, () => {
      assert.ok(new RegExp(`${family.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.<| )`).test(sketch), `the sketch has no ${family}.<…> line`);
    });
  }
});
