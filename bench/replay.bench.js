// Replay end to end vs merely parsing: a generated 24 h trace at 10 Hz (864,000 rows, 12
// columns, ~45 MB CSV) is (a) parsed by the streaming reader and (b) replayed through the
// core with policies/default.yaml into the SPEC §8 summary. Each runs in a fresh child
// process (so peak RSS is the replay's own), three times alternately; medians are reported.
// Target (issue 3): replay ≤ 2× parse. Also: trace writer speed and the CLI's wall time.
// Before/after: the baseline commit's reader and replay (bench/baseline.js, its own
// policies/default.yaml) on the same trace, alternating with ours; one line with both ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SYNTHETIC_DAY_ROWS, writeSyntheticDay } from '../dist/trace/synthetic-day.js';
import { BASELINE_SKIPS_FORECAST, prepareBaseline, skipLine } from './baseline.js';
import { writePolicyAtPeriod } from './policy-at-period.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ROWS = SYNTHETIC_DAY_ROWS;

async function writeDay(path, rows = ROWS, periodMs = 100) {
  const t0 = performance.now();
  await writeSyntheticDay(path, rows, periodMs);
  return performance.now() - t0;
}

/**
 * Parse or replay `trace` in a fresh process with the build under `root` (this checkout or the
 * baseline), under `policy` (default: that build's policies/default.yaml).
 */
function child(kind, trace, root = repo, policy = join(root, 'policies', 'default.yaml')) {
  const reader = pathToFileURL(join(root, 'dist', 'trace', 'reader.js')).href;
  const run = pathToFileURL(join(root, 'dist', 'replay', 'run.js')).href;
  const load = pathToFileURL(join(root, 'dist', 'policy', 'load.js')).href;
  const script = kind === 'parse'
    ? `const { readTrace } = await import(${JSON.stringify(reader)});
       const t0 = performance.now(); let n = 0;
       for await (const b of readTrace(${JSON.stringify(trace)})) n += b.length;
       const ms = performance.now() - t0;
       process.stdout.write(JSON.stringify({ n, ms, rssMb: process.resourceUsage().maxRSS / 1024 }));`
    : `const { replayTrace } = await import(${JSON.stringify(run)});
       const { loadPolicyFile } = await import(${JSON.stringify(load)});
       const policy = await loadPolicyFile(${JSON.stringify(policy)});
       const t0 = performance.now();
       const s = await replayTrace(${JSON.stringify(trace)}, { policy });
       const ms = performance.now() - t0;
       process.stdout.write(JSON.stringify({ n: s.samples, ms, rssMb: process.resourceUsage().maxRSS / 1024, changes: s.decisionChanges }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${kind} child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One before/after line of replay ÷ parse from both builds' runs on one trace of `rows` samples. */
function ratioLine(name, rows, { parse, replay, baseParse, baseReplay }, extra) {
  const [parseMs, replayMs, baseParseMs, baseReplayMs] = [parse, replay, baseParse, baseReplay].map((xs) => median(xs.map((r) => r.ms)));
  const ratio = replayMs / parseMs;
  const baseRatio = baseReplayMs / baseParseMs;
  const r2 = (x) => Math.round(x * 100) / 100;
  return {
    name,
    value: r2(ratio),
    unit: 'replay÷parse',
    before: r2(baseRatio),
    // > 1 = replay got slower relative to parsing.
    afterOverBefore: r2(ratio / baseRatio),
    replaySamplesPerS: { after: Math.round(rows / (replayMs / 1000)), before: Math.round(rows / (baseReplayMs / 1000)) },
    ms: { replayAfter: Math.round(replayMs), parseAfter: Math.round(parseMs), replayBefore: Math.round(baseReplayMs), parseBefore: Math.round(baseParseMs) },
    decisionChanges: { after: replay[0].changes, before: baseReplay[0].changes },
    ...extra,
  };
}

export default async function (emit) {
  if (!existsSync(join(repo, 'policies', 'default.yaml')) || !existsSync(join(repo, 'dist', 'policy', 'load.js'))) {
    process.stderr.write('replay.bench: policies/default.yaml or the policy loader is missing; skipped\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-bench-replay-'));
  try {
    const trace = join(dir, 'day.csv');
    const writeMs = await writeDay(trace);
    const mb = statSync(trace).size / 1e6;
    emit({ name: 'trace.write_24h_10hz', value: Math.round(ROWS / (writeMs / 1000)), unit: 'samples/s', ms: Math.round(writeMs), fileMB: Math.round(mb * 10) / 10 });

    const base = prepareBaseline();
    const parse = [];
    const replay = [];
    const baseParse = [];
    const baseReplay = [];
    for (let i = 0; i < 3; i++) {
      parse.push(child('parse', trace));
      replay.push(child('replay', trace));
      if (base.skip) continue;
      baseParse.push(child('parse', trace, base.dir));
      baseReplay.push(child('replay', trace, base.dir));
    }
    const parseMs = median(parse.map((r) => r.ms));
    const replayMs = median(replay.map((r) => r.ms));
    emit({ name: 'replay.parse_24h_10hz', value: Math.round(parseMs), unit: 'ms', samplesPerS: Math.round(ROWS / (parseMs / 1000)), mbPerS: Math.round((mb / (parseMs / 1000)) * 10) / 10 });
    emit({
      name: 'replay.replay_24h_10hz',
      value: Math.round(replayMs),
      unit: 'ms',
      samplesPerS: Math.round(ROWS / (replayMs / 1000)),
      ratioToParse: Math.round((replayMs / parseMs) * 100) / 100,
      targetRatio: 2,
      decisionChanges: replay[0].changes,
    });
    if (base.skip) emit(skipLine('replay.ratio_to_parse.before_after', base.skip));
    else emit(ratioLine('replay.ratio_to_parse.before_after', ROWS, { parse, replay, baseParse, baseReplay }, {
      targetRatio: 2, baseline: base.sha.slice(0, 7),
      note: BASELINE_SKIPS_FORECAST,
    }));
    // The same day at the policy's own sample period (policies/default.yaml): the rate the policy
    // is written for, where both builds forecast (before, the 10 Hz slope window was too short to
    // ever give a slope, so at 10 Hz the baseline skipped the forecast altogether).
    if (!base.skip) {
      const { loadPolicyFile } = await import(pathToFileURL(join(repo, 'dist', 'policy', 'load.js')).href);
      const periodMs = (await loadPolicyFile(join(repo, 'policies', 'default.yaml'))).control.samplePeriodMs;
      const rows = Math.round((ROWS * 100) / periodMs);
      const slow = join(dir, 'day-policy-rate.csv');
      await writeDay(slow, rows, periodMs);
      const runs = { parse: [], replay: [], baseParse: [], baseReplay: [] };
      for (let i = 0; i < 5; i++) {
        runs.parse.push(child('parse', slow));
        runs.replay.push(child('replay', slow));
        runs.baseParse.push(child('parse', slow, base.dir));
        runs.baseReplay.push(child('replay', slow, base.dir));
      }
      emit(ratioLine('replay.ratio_to_parse.policy_rate.before_after', rows, runs, { periodMs, samples: rows, baseline: base.sha.slice(0, 7) }));
      // The 10 Hz day under each build's default policy written for 10 Hz: both forecast there.
      const own10 = writePolicyAtPeriod(join(repo, 'policies', 'default.yaml'), 100, join(dir, 'after-10hz.yaml'));
      const base10 = writePolicyAtPeriod(join(base.dir, 'policies', 'default.yaml'), 100, join(dir, 'before-10hz.yaml'));
      const at10 = { parse, replay: [], baseParse, baseReplay: [] };
      for (let i = 0; i < 3; i++) {
        at10.replay.push(child('replay', trace, repo, own10));
        at10.baseReplay.push(child('replay', trace, base.dir, base10));
      }
      emit(ratioLine('replay.ratio_to_parse.policy_at_10hz.before_after', ROWS, at10, { periodMs: 100, baseline: base.sha.slice(0, 7) }));
    }
    emit({
      name: 'replay.peak_rss_24h_10hz',
      value: Math.round(median(replay.map((r) => r.rssMb))),
      unit: 'MB',
      parseOnlyMB: Math.round(median(parse.map((r) => r.rssMb))),
    });

    // The whole CLI (process start, every command module, policy load, replay, JSON out).
    const t0 = performance.now();
    const cli = spawnSync(process.execPath, [join(repo, 'bin', 'edgegov.js'), 'replay', trace, '--json'], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
    const cliMs = performance.now() - t0;
    if (cli.status === 0) emit({ name: 'replay.cli_24h_10hz_wall', value: Math.round(cliMs), unit: 'ms' });
    else process.stderr.write(`replay.bench: CLI replay failed: ${cli.stderr}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
