#!/usr/bin/env node
// dsctl entry point: runs the compiled CLI (npm ci builds it through the `prepare` script).
import { main } from '../dist/services/cli/main.js';

await main(process.argv.slice(2));
