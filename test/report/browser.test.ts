/**
 * The HTML report in a real browser: Debian's chromium driven by playwright-core. Opens
 * reports from file:// (no network), checks there are no console errors, that every chart
 * canvas has drawn pixels, that hovering shows the reasons of the decision in force, that
 * zoom is synchronised, and that a 24 h / 10 Hz report stays under 15 MB and loads.
 * Screenshots go to test-output/ (gitignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { writeReport } from '../../src/report/index.js';
import type { RunTimeline } from '../../src/report/recorder.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { recordRun, syntheticSamples } from './synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  // In CI the browser test must run: .ci/run installs chromium before the tests.
  throw new Error(`${CHROMIUM} is missing in CI; .ci/run must apt-get install chromium`);
}
const outDir = join(repoRoot, 'test-output');
const tmp = mkdtempSync(join(tmpdir(), 'edgegov-report-'));

async function openReport(browser: Browser, file: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // Anything but file:// would be a network access the report must never make.
  page.on('request', (r) => { if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`); });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 });
  return page;
}

/** Per chart canvas: how many pixels were painted, and in how many distinct colours. */
async function canvasInk(page: Page): Promise<{ chart: string; painted: number; colours: number }[]> {
  // Evaluated in the page (a string: the test project has no DOM types).
  return page.evaluate(`Array.from(document.querySelectorAll('.chart')).map((c) => {
      const canvas = c.querySelector('canvas');
      const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      const colours = new Set();
      for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] === 0) continue;
        painted++;
        if (colours.size < 64) colours.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
      }
      return { chart: c.getAttribute('data-chart'), painted, colours: colours.size };
    })`);
}

describe.skipIf(!haveChromium)('HTML report in chromium', () => {
  let browser: Browser;
  let policy: Policy;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    policy = await loadPolicyFile(join(repoRoot, 'policies', 'default.yaml'));
    mkdirSync(outDir, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart, shows the reasons of the decision under the cursor, syncs zoom', async () => {
    const { run, changes } = recordRun(policy, syntheticSamples(1800, 2, 900));
    expect(changes).toBeGreaterThan(4); // the synthetic run really drives the governor around
    const file = join(tmp, 'replay.html');
    writeReport(file, { title: 'edgegov replay: synthetic heat cycle', kind: 'replay', policy, runs: [run] });
    const errors: string[] = [];
    const page = await openReport(browser, file, errors);

    const ink = await canvasInk(page);
    expect(ink.map((c) => c.chart)).toEqual(expect.arrayContaining(['temperatures', 'severity', 'tier', 'offload', 'context', 'batch', 'memory', 'battery']));
    for (const c of ink) {
      expect(c.painted, `${c.chart} has drawn pixels`).toBeGreaterThan(500);
      expect(c.colours, `${c.chart} has more than a background`).toBeGreaterThan(1);
    }

    // Hover just after a decision change, in the middle of the run: the panel lists that decision's reasons.
    const target = pickDecision(run);
    const point = (await page.evaluate(`(() => {
      const u = window.__edgegovPlots.find((p) => p.root.parentElement.getAttribute('data-chart') === 'tier');
      const r = u.over.getBoundingClientRect();
      return { x: r.left + u.valToPos(${target.midS}, 'x'), y: r.top + r.height / 2 };
    })()`)) as { x: number; y: number };
    await page.mouse.move(point.x, point.y);
    const panel = await page.locator('#reasons').innerText();
    for (const r of target.reasons) expect(panel).toContain(r.message);
    expect(panel).toContain(target.tier);

    // Click pins the panel: moving elsewhere no longer changes it; a second click releases it.
    await page.mouse.click(point.x, point.y);
    const tierBox0 = (await page.locator('#chart-tier .u-over').boundingBox())!;
    await page.mouse.move(tierBox0.x + 3, tierBox0.y + 10);
    expect(await page.locator('#reasons').innerText()).toContain(target.reasons[0].message);
    expect(await page.locator('#reasons').innerText()).toMatch(/pinned/);
    await page.mouse.click(tierBox0.x + 3, tierBox0.y + 10);
    await page.mouse.move(tierBox0.x + 4, tierBox0.y + 10);
    expect(await page.locator('#reasons').innerText()).not.toMatch(/pinned/);

    // Drag to zoom on one chart: every chart follows.
    const tierBox = (await page.locator('#chart-tier .u-over').boundingBox())!;
    await page.mouse.move(tierBox.x + tierBox.width * 0.2, tierBox.y + 20);
    await page.mouse.down();
    await page.mouse.move(tierBox.x + tierBox.width * 0.5, tierBox.y + 20, { steps: 5 });
    await page.mouse.up();
    const ranges = (await page.evaluate('window.__edgegovPlots.map((p) => [p.scales.x.min, p.scales.x.max])')) as [number, number][];
    const full = run.durationS;
    for (const [min, max] of ranges) {
      expect(min).toBeCloseTo(ranges[0][0], 6);
      expect(max).toBeCloseTo(ranges[0][1], 6);
      expect(max - min).toBeLessThan(full * 0.5);
    }
    await page.mouse.dblclick(tierBox.x + tierBox.width * 0.5, tierBox.y + 20);
    await page.mouse.move(point.x, point.y);
    await page.screenshot({ path: join(outDir, 'report-replay.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a 24 h / 10 Hz report is under 15 MB and loads with every chart drawn', async () => {
    const { run } = recordRun(policy, syntheticSamples(24 * 3600, 10, 3 * 3600));
    expect(run.samples).toBe(864_000);
    const file = join(tmp, 'day.html');
    const bytes = writeReport(file, { title: 'edgegov replay: 24 h at 10 Hz', kind: 'replay', policy, runs: [run] });
    expect(statSync(file).size).toBe(bytes);
    expect(bytes).toBeLessThan(15 * 1024 * 1024);
    const errors: string[] = [];
    const page = await openReport(browser, file, errors);
    const ink = await canvasInk(page);
    expect(ink.length).toBeGreaterThanOrEqual(8);
    for (const c of ink) expect(c.painted, `${c.chart} has drawn pixels`).toBeGreaterThan(500);
    // The exact maxima in the table come from every sample, not the plot buckets.
    const tableText = await page.locator('#tables').innerText();
    const socMax = run.stats.soc_c.max;
    expect(tableText).toContain(String(Math.round(socMax * 10) / 10));
    await page.screenshot({ path: join(outDir, 'report-24h.png'), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe.skipIf(!haveChromium)('compare report in chromium', () => {
  it('draws the overlaid controllers of every section and the score table', async () => {
    const file = join(tmp, 'compare.html');
    const r = runCli(['compare', '--devices', 'flagship-phone', '--scenarios', 'sustained-chat', '--controllers', 'edgegov,stepwise', '--report', file]);
    expect(r.code, r.stderr).toBe(0);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const errors: string[] = [];
      const page = await openReport(browser, file, errors);
      const ink = await canvasInk(page);
      expect(ink.length).toBeGreaterThanOrEqual(8);
      for (const c of ink) expect(c.painted, `${c.chart} has drawn pixels`).toBeGreaterThan(500);
      const tables = await page.locator('#tables').innerText();
      expect(tables).toContain('Scores');
      expect(tables).toMatch(/edgegov/);
      expect(tables).toMatch(/stepwise/);
      // Hovering a chart lists the decision of each overlaid controller.
      const box = (await page.locator('.chart .u-over').nth(2).boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);
      const panel = await page.locator('#reasons').innerText();
      expect(panel).toContain('edgegov');
      expect(panel).toContain('stepwise');
      await page.screenshot({ path: join(outDir, 'report-compare.png'), fullPage: false });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe.skipIf(!haveChromium)('demo report in chromium', () => {
  it("edgegov demo's report draws the run with the engine's measured tok/s and request latencies", async () => {
    const dir = join(tmp, 'demo');
    // A short real demo: daemon, gateway, llama.cpp engine and load (test/demo/ covers the 60 s run).
    const r = runCli(['demo', '--speed', '20', '--duration', '12s', '--data-dir', join(tmp, 'demo-data'), '--out', dir], { timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const file = join(dir, 'report.html');
    expect(r.stdout).toContain(`report   ${file}`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const errors: string[] = [];
      const page = await openReport(browser, file, errors);
      const ink = await canvasInk(page);
      expect(ink.map((c) => c.chart)).toEqual(expect.arrayContaining([
        'temperatures', 'severity', 'tier', 'offload', 'tok', 'signal-engine_measured_tok_s', 'signal-request_first_token_ms', 'signal-request_total_ms',
      ]));
      for (const c of ink) expect(c.painted, `${c.chart} has drawn pixels`).toBeGreaterThan(300);
      const tables = await page.locator('#tables').innerText();
      expect(tables).toMatch(/escalations/);
      expect(tables).toMatch(/engine\.measured_tok_s/);
      // Hovering the tier chart late in the run shows the decision then in force, with a reason.
      const box = (await page.locator('#chart-tier .u-over').boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
      const panel = await page.locator('#reasons').innerText();
      expect(panel).toMatch(/rich|mid|lean/);
      await page.screenshot({ path: join(outDir, 'report-demo.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

/**
 * A decision from the middle of the run that carries reasons and holds long enough to be
 * hit by the mouse (one pixel is over a second of trace here); returns it with the middle
 * of its interval.
 */
function pickDecision(run: RunTimeline) {
  const ds = run.decisions;
  const endMs = run.t_ms[run.t_ms.length - 1];
  const held = ds
    .map((d, i) => ({ ...d, midS: (d.t_ms + (ds[i + 1]?.t_ms ?? endMs)) / 2000, spanMs: (ds[i + 1]?.t_ms ?? endMs) - d.t_ms }))
    .filter((d) => d.reasons.length > 0 && d.spanMs >= 30_000);
  expect(held.length).toBeGreaterThan(0);
  return held[Math.floor(held.length / 2)];
}
