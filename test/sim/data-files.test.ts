/**
 * Device and scenario files are data: every shipped one loads, and a malformed one gets
 * `file:line:col: message` errors (like policies), never a stack trace.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { listDevices, loadDevice, devicesDir } from '../../src/sim/device.js';
import { listScenarios, loadScenario, scenariosDir } from '../../src/sim/scenario.js';
import { UserError } from '../../src/util/errors.js';
import { repoRoot, runCli, hasStackTrace } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-sim-data-'));
const put = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

function userErrorOf(fn: () => unknown): UserError {
  try { fn(); } catch (e) { if (e instanceof UserError) return e; throw e; }
  throw new Error('expected a UserError');
}

describe('shipped device models', () => {
  it('ships the five issue-5 devices and every one loads', () => {
    expect(listDevices()).toEqual(expect.arrayContaining(['flagship-phone', 'midrange-phone', 'rk3588', 'rk3588-boxed', 'rpi5']));
    for (const d of listDevices()) {
      const m = loadDevice(d);
      expect(m.name).toBe(d);
      expect(m.osGovernor.trips.length).toBeGreaterThan(0);
    }
  });
  it('phones have a 3-node RC network, a battery and a skin signal; boards have none', () => {
    for (const d of ['flagship-phone', 'midrange-phone']) {
      const m = loadDevice(d);
      expect(m.thermal.nodes.map((n) => n.name)).toEqual(['soc', 'board', 'skin']);
      expect(m.battery).toBeDefined();
      expect(m.thermal.signals.skin).toBeDefined();
    }
    expect(loadDevice('rk3588').battery).toBeUndefined();
    expect(loadDevice('rk3588-boxed').thermal.nodes).toHaveLength(3);
  });
  it('every parameter line cites a source or says it is derived/fitted/assumed', () => {
    // Comments are the citations; keep them from silently disappearing.
    for (const d of listDevices()) {
      const text = readFileSync(join(devicesDir, `${d}.yaml`), 'utf8');
      expect(text).toMatch(/research\/0[35]/);
    }
  });
});

describe('shipped scenarios', () => {
  it('ships the eight issue-5 scenarios, each minutes to an hour long', () => {
    expect(listScenarios()).toEqual(expect.arrayContaining([
      'sustained-chat', 'hot-car', 'long-document', 'background-app', 'low-battery', 'charging-chat', 'cloud-unreachable', 'bursty',
    ]));
    for (const s of listScenarios()) {
      const sc = loadScenario(s);
      expect(sc.durationS).toBeGreaterThanOrEqual(60);
      expect(sc.durationS).toBeLessThanOrEqual(3600);
    }
  });
  it('the hot car is hot, the background app takes 1.5 GB, the cloud goes away', () => {
    expect(loadScenario('hot-car').ambientC).toBe(35);
    expect(loadScenario('background-app').events.some((e) => e.addBackgroundMb === 1536)).toBe(true);
    expect(loadScenario('cloud-unreachable').events.some((e) => e.cloudReachable === false)).toBe(true);
    expect(loadScenario('charging-chat').battery.charging).toBe(true);
  });
});

describe('malformed files get file:line:col errors', () => {
  const good = readFileSync(join(devicesDir, 'rpi5.yaml'), 'utf8');

  it('a wrong type points at the value', () => {
    const text = good.replace('memBandwidthGBs: 17', 'memBandwidthGBs: fast');
    const line = text.split('\n').findIndex((l) => l.includes('memBandwidthGBs: fast')) + 1;
    const p = put('bad-type.yaml', text);
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details.join('\n')).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:\\d+: compute\\.memBandwidthGBs: .*number`, 'm'));
  });
  it('a missing field points at its parent and names the field', () => {
    const p = put('missing.yaml', good.replace(/^  bigCores: 4\n/m, ''));
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details.some((d) => /:\d+:\d+: compute\.bigCores: /.test(d))).toBe(true);
  });
  it('a YAML syntax error points at the line', () => {
    const p = put('syntax.yaml', 'name: x\nclass: [phone\n');
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details[0]).toMatch(/syntax\.yaml:\d+:\d+: /);
  });
  it('an unknown node reference is named', () => {
    const p = put('node.yaml', good.replace('heat: { soc: soc, board: heatsink', 'heat: { soc: die, board: heatsink'));
    const e = userErrorOf(() => loadDevice(p));
    expect(e.details.join('\n')).toMatch(/thermal\.heat\.soc: unknown node 'die'/);
  });
  it('a bad scenario event points at the event', () => {
    const base = readFileSync(join(scenariosDir, 'background-app.yaml'), 'utf8');
    const text = base.replace('- { atS: 480, addBackgroundMb: 1536 }', '- { atS: -5, addBackgroundMb: 1536 }');
    const line = text.split('\n').findIndex((l) => l.includes('atS: -5')) + 1;
    const p = put('bad-event.yaml', text);
    const e = userErrorOf(() => loadScenario(p));
    expect(e.details.join('\n')).toMatch(new RegExp(`bad-event\\.yaml:${line}:\\d+: events\\[0\\]\\.atS: `));
  });
  it('an unknown key is reported with its place', () => {
    const p = put('extra.yaml', readFileSync(join(scenariosDir, 'hot-car.yaml'), 'utf8').replace('ambientC: 35', 'ambientC: 35\nambiant: 36'));
    const e = userErrorOf(() => loadScenario(p));
    expect(e.details.join('\n')).toMatch(/extra\.yaml:\d+:\d+: .*ambiant/);
  });

  describe('through the CLI', () => {
    beforeAll(() => { execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'ignore' }); }, 120_000);
    it('simulate with a malformed device exits 1 with file:line:col and no stack', () => {
      const p = put('cli-bad.yaml', good.replace('totalMb: 8000', 'totalMb: -8000'));
      const r = runCli(['simulate', '--device', p, '--scenario', 'sustained-chat', '--json']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cli-bad\.yaml:\d+:\d+: memory\.totalMb: /);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.stdout).toBe('');
    });
    it('simulate with a malformed scenario exits 1 with file:line:col', () => {
      const p = put('cli-bad-scn.yaml', 'name: x\ndurationS: ten\nworkload: { requests: [] }\n');
      const r = runCli(['simulate', '--scenario', p]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cli-bad-scn\.yaml:2:\d+: durationS: /);
      expect(r.stderr).toMatch(/cli-bad-scn\.yaml:3:\d+: workload\.requests: /);
      expect(hasStackTrace(r.stderr)).toBe(false);
    });
    it('an unknown device name lists the shipped ones; a missing file is exit 2', () => {
      const r = runCli(['simulate', '--device', 'nokia-3310']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unknown device 'nokia-3310'.*flagship-phone/);
      const m = runCli(['simulate', '--device', join(dir, 'nope.yaml')]);
      expect(m.code).toBe(2);
      expect(m.stderr).toMatch(/nope\.yaml: no such file/);
    });
  });
});
