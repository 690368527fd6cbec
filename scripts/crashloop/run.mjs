#!/usr/bin/env node
// Crash loops (npm run crashloop): kill -9 the daemon at random moments while it journals every
// sample and clients hold leases, restart it, and check each round: no torn and no lost
// acknowledged journal line (journal-check.mjs says what "acknowledged" means), every client on
// the safe tier within its lease after the kill and back on live decisions after the restart.
// Then the gateway rounds: the daemon killed while `serve` streams a request.
// One JSON line per round, then one figures line. Exit 1 on any violation, 2 when not built.
//
//   node scripts/crashloop/run.mjs [--rounds 100] [--gateway-rounds 4] [--clients 3] [--hz 100]
//                                  [--slack-ms 1000] [--seed N] [--quiet]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashRounds } from './crash-rounds.mjs';
import { gatewayRounds } from './gateway.mjs';
import { checkWholeFile } from './journal-check.mjs';
import { killAll, repoRoot } from './procs.mjs';

const FLAGS = { rounds: 100, 'gateway-rounds': 4, clients: 3, hz: 100, 'slack-ms': 1000, seed: undefined };

function parseFlags(argv) {
  const o = { ...FLAGS, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (name === 'quiet') { o.quiet = true; continue; }
    if (!(name in FLAGS)) throw new Error(`unknown flag '${argv[i]}' (flags: ${Object.keys(FLAGS).map((k) => `--${k}`).join(' ')} --quiet)`);
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name}: expected a whole number ≥ 0, got '${argv[i] ?? ''}'`);
    o[name] = v;
  }
  if (o.clients < 1) throw new Error('--clients: expected at least 1');
  if (o.hz < 1 || o.hz > 1000) throw new Error(`--hz: expected 1–1000, got ${o.hz}`);
  return o;
}

async function main(argv) {
  let o;
  try {
    o = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`crashloop: ${err.message}\n`);
    return 1;
  }
  if (!fs.existsSync(path.join(repoRoot, 'dist/ipc/client.js'))) {
    process.stderr.write('crashloop: dist/ is missing; run `npm run build` first\n');
    return 2;
  }
  const sdk = await import(path.join(repoRoot, 'dist/ipc/client.js'));
  const synth = await import(path.join(repoRoot, 'dist/model/synth.js'));
  const { createRng } = await import(path.join(repoRoot, 'dist/sim/rng.js'));
  // Seeded, so a failing run can be replayed with --seed; the heater has its own stream, so the
  // rounds' draws do not depend on how often its timer ran.
  const seed = o.seed ?? Date.now() % 1e9;
  const random = createRng(seed, 0).next;
  const heat = createRng(seed, 1).next;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-crashloop-'));
  const emit = (l) => { if (!o.quiet) process.stdout.write(JSON.stringify(l) + '\n'); };
  const onSignal = () => { killAll(); process.exit(130); };
  // A reader that goes away (`| head`) ends the run, not with a stack trace.
  process.stdout.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    killAll();
    process.exit(0);
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = Date.now();
  try {
    const crash = await crashRounds({ rounds: o.rounds, random, heat, dir, clients: o.clients, hz: o.hz, slackMs: o['slack-ms'], emit, sdk });
    const whole = fs.existsSync(crash.journal) ? checkWholeFile(fs.readFileSync(crash.journal, 'utf8'), crash.injected) : undefined;
    if (whole) {
      if (whole.unexpected.length) crash.figures.violations.push(`journal: ${whole.unexpected.length} unparsable lines besides the injected torn tails`);
      if (whole.missingInjected) crash.figures.violations.push(`journal: ${whole.missingInjected} injected torn tails were glued to a daemon line`);
      if (!whole.endsWithNewline) crash.figures.violations.push('journal: the file does not end with a newline');
    }
    const gw = await gatewayRounds({ rounds: o['gateway-rounds'], random, dir, slackMs: o['slack-ms'], emit, synth, sdk });
    const { violations: cv, ...c } = crash.figures;
    const { violations: gv, ...g } = gw;
    const violations = [...cv, ...gv];
    process.stdout.write(JSON.stringify({
      figures: 'crashloop', seed, durationS: Math.round((Date.now() - t0) / 100) / 10, ...c,
      journalFileLines: whole?.lines, unparsableLinesBesidesInjected: whole?.unexpected.length,
      gateway: g, violations: violations.length, firstViolations: violations.slice(0, 10),
    }) + '\n');
    if (!violations.length) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`crashloop: ${violations.length} violations; the journal and fixtures stay in ${dir}\n`);
    return violations.length ? 1 : 0;
  } finally {
    killAll();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
