/**
 * The soak's short form (issue 13 item 3): the same script as `npm run soak`, for 75 s with 12
 * clients. The daemon runs at 100 Hz on a driven fixture tree; every kind of event must have
 * happened AND been seen by the daemon (a heat ramp through the severities, dropouts reported
 * as faults, the FIFO zone skipped as not a regular file, the vanished zone gone from the
 * signals and back), reloads alternate accepted / refused, clients churn through sessions with
 * no error, and the verdict (no unbounded growth, no stall past the bound) passes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const DURATION_S = Number(process.env.EDGEGOV_SOAK_TEST_S ?? 75);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-soak-test-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

function runScript(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(repoRoot, 'scripts/soak/run.mjs'), ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

describe('soak, short form', () => {
  it('refuses a bad argument with a message naming the flag, exit 1', async () => {
    const r = await runScript(['--duration', 'soon'], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("soak: --duration: expected a duration like 90s, 60m or 1h, got 'soon'\n");
    const u = await runScript(['--clientz', '5'], 20_000);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/^soak: unknown option '--clientz' \(known: --duration .*--clients/);
  });

  it(`runs ${DURATION_S} s at 100 Hz with every kind of event, passes its verdict, prints its figures and writes the plot`, async () => {
    // A 60 s event cycle: the daemon's rescans (every 30 s from its start, ~1 s after the
    // driver's) then see the vanished zone gone (~31 s) and back with the FIFO zone gone (~61 s),
    // so the second half holds as many sensor files open as it starts with: its fd count is
    // judged flat over the half without a step from the tree itself.
    const r = await runScript(['--duration', `${DURATION_S}s`, '--clients', '12', '--ramp-period', '30s', '--cycle', '60s', '--out', out], (DURATION_S + 60) * 1000);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    const f = JSON.parse(last);
    expect(r.code, `${f.failures?.join('\n')}\n${r.stderr}`).toBe(0);
    expect(f.kind).toBe('soak');
    expect(f.ok).toBe(true);
    expect(f.failures).toEqual([]);
    expect(f.durationS).toBeGreaterThanOrEqual(DURATION_S - 1);
    // The daemon really sampled at (about) the rate asked; the sampler kept up once a second.
    expect(f.hz).toBe(100);
    expect(f.measuredHz).toBeGreaterThan(50);
    expect(f.samples).toBeGreaterThan(DURATION_S * 0.8);
    expect(f.scrapes).toBeGreaterThan(DURATION_S * 0.8);
    expect(f.scrapeErrors).toBe(0);
    // fds and threads are judged even in a short run (integers, flat once started); RSS and the
    // heap need a half of several GC periods (5 and 10 min), so a short run reports them as not
    // judged rather than passing them on a 45 s fit (the long form judges all four).
    for (const name of ['daemonFds', 'threads']) {
      const s = f.series[name];
      expect(s.judged, name).toBe(true);
      expect(s.ok, name).toBe(true);
      expect(Number.isFinite(s.slopePerMin), name).toBe(true);
      expect(s.limitPerMin, name).toBeGreaterThan(0);
      expect(s.windowMin, name).toBeGreaterThan((DURATION_S / 2 - 5) / 60);
    }
    for (const name of ['rssBytes', 'heapUsedBytes']) {
      if (DURATION_S >= 1200) expect(f.series[name].judged, name).toBe(true);
      else expect(f.series[name].note, name).toMatch(/too short to judge/);
    }
    expect(f.series.rssBytes.last).toBeGreaterThan(20 * 1024 * 1024);
    expect(f.series.threads.last).toBeGreaterThan(1);
    expect(f.loop.maxMs).toBeGreaterThanOrEqual(0);
    expect(f.loop.maxMs).toBeLessThanOrEqual(f.loop.stallBoundMs);
    expect(f.loop.p99Ms).toBeLessThanOrEqual(f.loop.maxMs);
    // Reloads every 10 s, alternating: valid ones taken, invalid ones refused, none the wrong way.
    expect(f.reloads.ok).toBeGreaterThanOrEqual(Math.floor(DURATION_S / 20) - 1);
    expect(f.reloads.refused).toBeGreaterThanOrEqual(Math.floor(DURATION_S / 20) - 1);
    expect(f.reloads.wrong).toBe(0);
    // Clients churned through sessions with every request kind and no error.
    expect(f.sessions.sessions).toBeGreaterThan(30);
    expect(f.sessions.advises).toBeGreaterThan(20);
    expect(f.sessions.reports).toBeGreaterThan(20);
    expect(f.sessions.decisions).toBeGreaterThan(30);
    expect(f.sessions.connectFailures).toBe(0);
    expect(f.sessions.requestErrors).toBe(0);
    expect(f.sessions.unexpectedDisconnects).toBe(0);
    expect(f.sessions.leaseExpired).toBe(0);
    // The driver did every kind of change, and the daemon saw each one.
    expect(f.driver.errors).toBe(0);
    expect(f.driver.rampCycles).toBeGreaterThanOrEqual(2);
    expect(f.seen.severities).toEqual(expect.arrayContaining(['none', 'moderate', 'severe', 'critical']));
    expect(f.decisionChanges).toBeGreaterThan(6);
    expect(f.driver.dropouts).toBeGreaterThan(10);
    expect(f.seen.dropoutFaults).toBeGreaterThan(0);
    expect(f.driver.fifoOn).toBeGreaterThanOrEqual(1);
    expect(f.seen.fifoSkippedNotice).toBeGreaterThan(0);
    expect(f.seen.fifoZoneAbsent).toBeGreaterThan(0);
    expect(f.seen.faultReasons).toContain(`zone.${f.driver.fifoZone.replace(/\d+/g, 'N')}: temp is not a regular file (a read could block); skipped`);
    expect(f.driver.vanished).toBeGreaterThanOrEqual(1);
    expect(f.driver.returned).toBeGreaterThanOrEqual(1);
    expect(f.seen.vanishedZoneAbsent).toBeGreaterThan(0);
    expect(f.seen.zonesReturned).toBeGreaterThanOrEqual(1);
    // The plot: an SVG with a polyline per series, and the samples behind it.
    const svg = fs.readFileSync(f.svg, 'utf8');
    expect(f.svg).toBe(path.join(out, 'soak.svg'));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(5);
    for (const t of ['RSS', 'V8 heap used', 'open fds, less connected clients', 'threads', 'event-loop delay']) expect(svg).toContain(t);
    const lines = fs.readFileSync(f.samplesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(f.samples);
    expect(lines.every((s) => s.rssBytes > 0 && s.openFds > s.daemonFds && s.daemonFds > 0 && s.threads > 0 && s.heapUsedBytes > 0)).toBe(true);
    // The sensor reader's files were counted, and none stayed open on a deleted file at the end.
    expect(f.fds.sensorTree.max).toBeGreaterThan(50);
    expect(f.fds.deleted.last).toBe(0);
  }, (DURATION_S + 90) * 1000);
});
