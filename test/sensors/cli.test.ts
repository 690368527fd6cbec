/**
 * `inventory` and `record` through the real CLI (bin/edgegov.js → dist/), on fixture trees:
 * JSON shape and roles, errors without stack traces, and a recorded trace that round-trips
 * through C's reader and `replay`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { readTraceAll } from '../../src/trace/reader.js';
import { fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'edgegov-cli-sensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('edgegov inventory', () => {
  it('--json on the Snapdragon fixture: device, 64 zones with roles and health, canonical values with units', () => {
    const r = runCli(['inventory', '--sysfs-root', fixture('sd8elite-dev'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.device.source).toBe('systeminformation');
    expect(out.device.cpu.cores).toBeGreaterThan(0);
    expect(out.sensors.zones).toHaveLength(64);
    const byType = Object.fromEntries(out.sensors.zones.map((z: { type: string }) => [z.type, z]));
    expect(byType['gpuss-5']).toMatchObject({ role: 'gpu', health: 'ok', tempC: 78.412 });
    expect(byType['vbat']).toMatchObject({ role: 'not-a-temperature', raw: 3870 });
    expect(out.sensors.canonical.soc_c).toEqual({ value: 78.412, unit: 'C' });
    expect(out.sensors.canonical.battery_w).toEqual({ value: 5.7898, unit: 'W' });
    expect(out.sensors.canonical.skin_c.faults[0]).toMatch(/no skin/);
    expect(out.sensors.battery.name).toBe('battery');
    expect(out.sensors.psi.available).toBe(true);
  });

  it('human output on a host without sensors says so', () => {
    const r = runCli(['inventory', '--sysfs-root', fixture('no-sensors')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no thermal zones or hwmon temperatures/);
    expect(r.stdout).toMatch(/Battery\s+none \(no power_supply of type Battery\)/);
  });

  it('a missing --sysfs-root is an environment error (exit 2) without a stack trace', () => {
    const r = runCli(['inventory', '--sysfs-root', join(tmp, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sysfs-root .*nope: no such directory/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('edgegov record', () => {
  it('records zone.<type> columns at --hz for --duration, and the file replays', async () => {
    const out = join(tmp, 'pixel8.csv');
    const r = runCli(['record', '--out', out, '--hz', '20', '--duration', '600ms', '--sysfs-root', fixture('pixel8')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recorded \d+ samples \(\d+ signals\)/);
    const { samples } = await readTraceAll(out, { mode: 'strict' });
    expect(samples.length).toBeGreaterThanOrEqual(8);
    expect(samples.length).toBeLessThanOrEqual(14);
    const s = samples[samples.length - 1]!;
    expect(s.soc_c).toBe(61.345);
    expect(s['zone.TPU']).toBe(61.345);
    expect(s.battery_w).toBe(2.3692);
    expect(s['zone.vdroop1']).toBeUndefined(); // not a temperature: not a column
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.t_ms).toBeGreaterThanOrEqual(samples[i - 1]!.t_ms);
    const rep = runCli(['replay', out, '--json']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout).samples).toBe(samples.length);
  });

  it('JSONL by extension', async () => {
    const out = join(tmp, 'rk.jsonl');
    const r = runCli(['record', '--out', out, '--hz', '10', '--duration', '0.3', '--sysfs-root', fixture('rk3588-bsp')]);
    expect(r.code, r.stderr).toBe(0);
    const { samples } = await readTraceAll(out);
    expect(samples[0]!['zone.npu-thermal']).toBe(47.125);
    expect(samples[0]!.battery_w).toBeUndefined();
  });

  it('bad --hz and --duration are user errors (exit 1) naming the flag', () => {
    for (const [args, re] of [
      [['--hz', '0'], /--hz: 0 is not a rate/],
      [['--duration', 'soon'], /--duration: 'soon' is not a time/],
    ] as const) {
      const r = runCli(['record', '--out', join(tmp, 'x.csv'), '--sysfs-root', fixture('rpi5'), ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });
});
