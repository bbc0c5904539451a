// The README's code layout names every folder of libs/ and services/ and every top-level folder
// of code: a folder added without a word about it fails here.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '../support/processes.js';

const folders = (dir: string): string[] =>
  readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${dir}/${e.name}`);

describe("README's code layout", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('Code layout:');
  const layout = readme.slice(start, readme.indexOf('\n\n', start));
  const expected = [...folders('libs'), ...folders('services'), 'scripts/', 'bench/', 'chaos/', 'test/'];
  for (const folder of expected) {
    it(`names ${folder}`, () => {
      const name = folder.endsWith('/') ? folder.slice(0, -1) : folder;
      assert.ok(layout.includes(`\`${name}`), `the code layout says nothing of ${folder}`);
    });
  }
});
