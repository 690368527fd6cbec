// Runs under the arm64 Node (scripts/check-arm64.mjs): the cross-built addon, loaded from the
// staged install the way an arm64 install loads it, must read every fixture tree exactly as the
// TypeScript fallback does. Prints one JSON line; exit 1 on any disagreement.
//   argv: <staged package root> <fixtures dir>
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const [stage, fixturesDir] = process.argv.slice(2);
const { createNativeBinding, loadNativeAddon, selectBinding } = await import(join(stage, 'dist/native/native.js'));
const { createFallbackBinding } = await import(join(stage, 'dist/native/fallback.js'));
const { compareBindingReadings } = await import(join(stage, 'dist/sensors/binding-agreement.js'));

// EDGEGOV_NATIVE=required: throws (exit 2) rather than falling back if the prebuild does not load.
const selected = selectBinding().name;
const addon = loadNativeAddon().addon;
const addonFile = relative(stage, createRequire(join(stage, 'package.json'))('node-gyp-build').resolve(stage));
const trees = readdirSync(fixturesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
const failures = [];
for (const tree of trees) {
  const diffs = await compareBindingReadings(join(fixturesDir, tree), createNativeBinding(addon), createFallbackBinding());
  if (diffs.length) failures.push({ tree, first: diffs[0] });
}
console.log(JSON.stringify({ arch: process.arch, selected, addonFile, trees: trees.length, failures }));
process.exitCode = failures.length ? 1 : 0;
