/**
 * `edgegov compare --report`: the same results as without it (recording must not change a
 * run), and one report with a section per device × scenario, the controllers overlaid in
 * each chart, and the score table.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
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
});
