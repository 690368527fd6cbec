#!/usr/bin/env node
// Benchmark harness: runs every bench/*.bench.js in this process order and prints one JSON
// object per line: { name, value, unit, ...ratios }. Compare figures side by side in one run,
// because the machines are shared and noisy. `npm run bench -- <filter>` runs only matching files.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !filter || f.includes(filter))
  .sort();

/** Each bench module exports `default async function (emit)`; emit prints one result line. */
const emit = (result) => process.stdout.write(JSON.stringify(result) + '\n');
let failed = 0;
for (const f of files) {
  try {
    const mod = await import(pathToFileURL(join(here, f)).href);
    await mod.default(emit);
  } catch (err) {
    failed++;
    process.stderr.write(`bench ${f} failed: ${err?.stack ?? err}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
