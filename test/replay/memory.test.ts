/**
 * Streaming: a 24 h trace at 10 Hz (864,000 rows, ~40 MB) replays in bounded memory.
 * The replay runs in a child process (the built dist/, like the CLI) which reports its own
 * peak RSS; a trace 8× shorter is the control, so a reader that kept rows would show up as
 * growth, not only as a number over a bound. (Timings are the benchmark's business.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/cli.js';
import { SYNTHETIC_DAY_ROWS, writeSyntheticDay } from '../../src/trace/synthetic-day.js';

const policy = join(repoRoot, 'policies', 'default.yaml');
const built = existsSync(join(repoRoot, 'dist', 'replay', 'run.js'));
const dir = mkdtempSync(join(tmpdir(), 'edgegov-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replayInChild(trace: string): { samples: number; maxRssMb: number } {
  const runUrl = pathToFileURL(join(repoRoot, 'dist', 'replay', 'run.js')).href;
  const loadUrl = pathToFileURL(join(repoRoot, 'dist', 'policy', 'load.js')).href;
  const script = `
    const { replayTrace } = await import(${JSON.stringify(runUrl)});
    const { loadPolicyFile } = await import(${JSON.stringify(loadUrl)});
    const policy = await loadPolicyFile(${JSON.stringify(policy)});
    const s = await replayTrace(${JSON.stringify(trace)}, { policy });
    process.stdout.write(JSON.stringify({ samples: s.samples, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(!built || !existsSync(policy))('bounded-memory replay', () => {
  const full = join(dir, 'day.csv');
  const short = join(dir, 'three-hours.csv');
  beforeAll(async () => {
    await writeSyntheticDay(full, SYNTHETIC_DAY_ROWS);
    await writeSyntheticDay(short, SYNTHETIC_DAY_ROWS / 8);
  }, 60_000);

  it('24 h at 10 Hz replays under 150 MB peak RSS, about the same as a trace 8× shorter', () => {
    expect(statSync(full).size).toBeGreaterThan(30e6);
    const day = replayInChild(full);
    const control = replayInChild(short);
    expect(day.samples).toBe(864_000);
    expect(control.samples).toBe(108_000);
    expect(day.maxRssMb).toBeLessThan(150);
    // Holding the rows would cost ≳150 MB more for the day than for the control.
    expect(day.maxRssMb - control.maxRssMb).toBeLessThan(40);
  }, 120_000);
});
