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
import { createTraceWriter } from '../../src/trace/writer.js';

const policy = join(repoRoot, 'policies', 'default.yaml');
const built = existsSync(join(repoRoot, 'dist', 'replay', 'run.js'));
const dir = mkdtempSync(join(tmpdir(), 'edgegov-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = ['t_ms', 'zone.cpu-0', 'zone.gpu-0', 'skin_c', 'battery_c', 'battery_w', 'battery_pct', 'charging', 'mem_avail_mb', 'mem_total_mb', 'psi_mem_some_avg10', 'tok_s'];

/** A day of a phone at 10 Hz: load cycles every ~20 min, a slow drain, memory swings. */
async function writeDay(path: string, rows: number): Promise<void> {
  const w = createTraceWriter(path, COLUMNS);
  for (let i = 0; i < rows; i++) {
    const load = 0.5 + 0.5 * Math.sin(i / 2000);
    const soc = Math.round((45 + 40 * load + ((i * 7919) % 13) / 10) * 10) / 10;
    w.write({
      t_ms: i * 100,
      'zone.cpu-0': soc,
      'zone.gpu-0': Math.round((soc - 3) * 10) / 10,
      skin_c: Math.round((33 + 9 * load) * 100) / 100,
      battery_c: Math.round((31 + 6 * load) * 10) / 10,
      battery_w: Math.round((1 + 5 * load) * 100) / 100,
      battery_pct: Math.max(5, 100 - Math.floor(i / 9000)),
      charging: 0,
      mem_avail_mb: 2500 + ((i * 31) % 1500),
      mem_total_mb: 7680,
      psi_mem_some_avg10: i % 600 < 5 ? 12 : 0,
      tok_s: Math.round((14 - 6 * load) * 10) / 10,
    });
  }
  await w.close();
}

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
    await writeDay(full, 864_000);
    await writeDay(short, 108_000);
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
