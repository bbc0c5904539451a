// The dependency rules of STYLE.md, read from the import lines of the sources: the pure libs
// import no I/O, no clock-bearing libraries and no services; services never import each other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/processes.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!).concat(
    [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
  );
}

const PURE = ['libs/model', 'libs/events', 'libs/core', 'libs/topology'];
const FORBIDDEN_IN_PURE = [/^node:/, /^@nats-io\//, /^msgpackr/, /^pino/, /^yaml/, /^commander/];

describe('architecture: dependency direction', () => {
  for (const dir of PURE) {
    it(`${dir} is pure: no node:*, nats, msgpackr, pino, yaml, commander, and no import of services or I/O libs`, () => {
      const offenders: string[] = [];
      for (const file of sources(join(REPO_ROOT, dir))) {
        for (const spec of importsOf(file)) {
          const rel = relative(REPO_ROOT, file);
          if (FORBIDDEN_IN_PURE.some((re) => re.test(spec))) offenders.push(`${rel} imports ${spec}`);
          if (/\/(services|nats|codec|runtime|agent-runtime)\//.test(spec) || spec.includes('../nats/') || spec.includes('../codec/') || spec.includes('../runtime/')) {
            offenders.push(`${rel} imports ${spec}`);
          }
        }
      }
      assert.deepEqual(offenders, []);
    });
  }

  it('pure libs read no clock and draw no randomness', () => {
    const offenders: string[] = [];
    for (const dir of PURE) {
      for (const file of sources(join(REPO_ROOT, dir))) {
        const code = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
        if (/\bDate\.now\(|\bnew Date\(\)|\bMath\.random\(|\bperformance\.now\(/.test(code)) offenders.push(relative(REPO_ROOT, file));
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('services import libs, never another service', () => {
    const offenders: string[] = [];
    const servicesDir = join(REPO_ROOT, 'services');
    for (const service of readdirSync(servicesDir)) {
      for (const file of sources(join(servicesDir, service))) {
        for (const spec of importsOf(file)) {
          const m = /^\.\.\/(?:\.\.\/)*([a-z-]+)\//.exec(spec);
          // `../<other service>/…` from the service root, or `../../services/<other>/…` deeper.
          const other = /services\/([a-z-]+)\//.exec(spec)?.[1] ?? (m && readdirSync(servicesDir).includes(m[1]!) && relative(join(servicesDir, service), file).split('/').length === 1 ? m[1] : undefined);
          if (other && other !== service) offenders.push(`${relative(REPO_ROOT, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('libs never import services', () => {
    const offenders = sources(join(REPO_ROOT, 'libs')).flatMap((file) =>
      importsOf(file).filter((spec) => spec.includes('/services/')).map((spec) => `${relative(REPO_ROOT, file)} imports ${spec}`),
    );
    assert.deepEqual(offenders, []);
  });
});
