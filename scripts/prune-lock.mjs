#!/usr/bin/env node
// The registry these machines reach serves only the Linux builds of msgpackr-extract, so
// `npm install` writes a lock whose msgpackr-extract entry names optional packages the lock
// does not contain, and `npm ci` then refuses the lock as out of sync. This drops optional
// dependencies that have no entry of their own in the lock (they are optional: npm skips them
// on platforms they are not for anyway). Run it after any `npm install` that rewrites the lock.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const present = new Set(Object.keys(lock.packages).map((k) => k.split('node_modules/').pop()));
let dropped = 0;
for (const entry of Object.values(lock.packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!present.has(name)) {
      delete entry.optionalDependencies[name];
      dropped++;
    }
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`prune-lock: dropped ${dropped} optional dependencies missing from the lock`);
