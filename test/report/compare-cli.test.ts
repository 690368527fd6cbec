/**
 * `edgegov compare --report`: the same results as without it (recording must not change a
 * run), and one report with a section per device × scenario, the controllers overlaid in
 * each chart, and the score table.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { ReportData } from '../../src/report/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'edgegov-compare-report-'));

describe('compare --report', () => {
  it('overlays the controllers per device × scenario and carries the score table', () => {
    const args = ['compare', '--devices', 'flagship-phone', '--scenarios', 'sustained-chat,hot-car', '--controllers', 'edgegov,static,stepwise', '--json'];
    const plain = runCli(args);
    expect(plain.code, plain.stderr).toBe(0);
    const file = join(tmp, 'compare.html');
    const withReport = runCli([...args, '--report', file]);
    expect(withReport.code, withReport.stderr).toBe(0);
    expect(withReport.stdout).toBe(plain.stdout);
    const result = JSON.parse(plain.stdout) as { runs: { device: string; scenario: string; controller: string; score: number }[] };

    const html = readFileSync(file, 'utf8');
    const data = JSON.parse(html.split('<script type="application/json" id="edgegov-data">')[1].split('</script>')[0]) as ReportData;
    expect(data.kind).toBe('compare');
    expect(data.sections.map((s) => s.title)).toEqual(['flagship-phone · sustained-chat', 'flagship-phone · hot-car']);
    for (const section of data.sections) {
      expect(section.runs.map((i) => data.runs[i].label)).toEqual(['edgegov', 'static', 'stepwise']);
      const tier = section.charts.find((c) => c.id.endsWith('-tier'))!;
      expect(tier.series.map((s) => s.label)).toEqual(['tier · edgegov', 'tier · static', 'tier · stepwise']);
      const temps = section.charts.find((c) => c.id.endsWith('-temperatures'))!;
      expect(temps.series.some((s) => s.label.startsWith('true_soc_c'))).toBe(true);
      expect(temps.lines.length).toBeGreaterThan(0);
    }
    expect(data.scoreTable!.rows).toHaveLength(result.runs.length);
    const scoreCol = data.scoreTable!.columns.indexOf('score');
    data.scoreTable!.rows.forEach((row, i) => {
      expect(row.slice(0, 3)).toEqual([result.runs[i].device, result.runs[i].scenario, result.runs[i].controller]);
      expect(row[scoreCol]).toBe(result.runs[i].score);
    });
  });

  it('across devices names every class policy and lists each run\'s own tiers', () => {
    const file = join(tmp, 'two-devices.html');
    const r = runCli(['compare', '--devices', 'flagship-phone,midrange-phone', '--scenarios', 'hot-car', '--controllers', 'edgegov,stepwise', '--report', file]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(file, 'utf8');
    const data = JSON.parse(html.split('<script type="application/json" id="edgegov-data">')[1].split('</script>')[0]) as ReportData;
    // The header used to name only the first device's policy.
    expect(data.policy.name).toBe('flagship-phone, midrange-phone');
    expect(data.policy.file).toMatch(/flagship-phone\.yaml, .*midrange-phone\.yaml$/);
    expect(data.policy.tiers).toEqual(expect.arrayContaining(['high', 'fast', 'tiny']));

    // The page's per-run tier table: the mid-range stepwise run walks its own ladder
    // (balanced → fast → … → tiny), tiers the flagship policy does not have.
    const chromium = '/usr/bin/chromium';
    if (!existsSync(chromium)) return;
    const dom = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 }).stdout;
    const tables = [...dom.matchAll(/<th>tier<\/th><th>time \(s\)<\/th><\/tr>(?:<\/thead>)?(.*?)<\/table>/g)].map((m) => [...m[1].matchAll(/<td>([a-z]+)<\/td>/g)].map((x) => x[1]));
    expect(tables).toHaveLength(4);
    const midStepwise = tables[3];
    expect(midStepwise[0]).toBe('balanced');
    expect(midStepwise).toEqual(expect.arrayContaining(['fast', 'tiny']));
    expect(midStepwise.indexOf('fast')).toBeLessThan(midStepwise.indexOf('lean'));
  }, 120_000);
});
