/** The journal's rotation and tail repair, and metrics that never turn a missing reading into 0. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Journal } from '../../src/telemetry/journal.js';
import { Metrics, parseHostPort } from '../../src/telemetry/metrics.js';
import type { Decision } from '../../src/core/decision.js';
import { tmpDir } from './helpers.js';

describe('Journal', () => {
  it('rotates by size between lines and keeps the newest files', () => {
    const file = path.join(tmpDir('jr'), 'j.jsonl');
    const j = new Journal({ file, maxBytes: 4096, keep: 2, fsyncEveryLines: 10 });
    for (let i = 1; i <= 500; i++) j.append({ i, pad: 'x'.repeat(50) });
    j.close();
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.existsSync(`${file}.2`)).toBe(true);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    const all = [`${file}.2`, `${file}.1`, file].flatMap((f) => {
      const text = fs.readFileSync(f, 'utf8');
      expect(fs.statSync(f).size).toBeLessThanOrEqual(4096);
      expect(text.endsWith('\n')).toBe(true);
      return text.trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
    });
    for (let k = 1; k < all.length; k++) expect(all[k]).toBe(all[k - 1] + 1);
    expect(all.at(-1)).toBe(500);
    expect(j.syncedLines).toBe(500);
  });

  it('fsyncs every N lines and reports the sync point', () => {
    const file = path.join(tmpDir('js'), 'j.jsonl');
    const j = new Journal({ file, fsyncEveryLines: 7, fsyncEveryMs: 60_000 });
    for (let i = 0; i < 20; i++) j.append({ i });
    expect(j.lines).toBe(20);
    expect(j.syncedLines).toBe(14);
    j.close();
    expect(j.syncedLines).toBe(20);
  });

  it('starts on a fresh line after a torn tail left by a power cut', () => {
    const file = path.join(tmpDir('jt'), 'j.jsonl');
    fs.writeFileSync(file, '{"ok":1}\n{"torn":');
    const j = new Journal({ file });
    j.append({ ok: 2 });
    j.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines).toEqual(['{"ok":1}', '{"torn":', '{"ok":2}', '']);
  });
});

describe('Metrics', () => {
  const decision: Decision = {
    t_ms: 0, severity: 'moderate', tier: 'lean', tierIndex: 2, quant: 'q4_k_m', contextLength: 2048, batchSize: 128,
    threads: 4, pacingMs: 20, offload: 'local', ttlMs: 3000, safe: false, reasons: [],
  };

  it('exports signals in base units with the device label, and no series for a missing reading', async () => {
    let signals: Record<string, number | undefined> = { t_ms: 1, soc_c: 71.5, 'zone.cpu-1-0-0': 70, mem_avail_mb: 1024, battery_pct: 50, battery_w: undefined };
    const m = new Metrics('board-7', { signals: () => signals, simulated: () => ['battery_pct'], decision: () => decision, clients: () => 3 }, { processMetrics: false });
    m.observeFaults([{ signal: 'skin_c', reason: 'gone' }]);
    m.observeFaults([{ signal: 'skin_c', reason: 'gone' }]);
    m.policyLoaded('default-phone', true);
    m.latency.observe(0.0004);
    let text = await m.registry.metrics();
    expect(text).toMatch(/^edgegov_temperature_celsius\{signal="soc_c",device="board-7"\} 71\.5$/m);
    expect(text).toMatch(/^edgegov_temperature_celsius\{signal="zone\.cpu-1-0-0",device="board-7"\} 70$/m);
    expect(text).toMatch(/^edgegov_memory_available_bytes\{signal="mem_avail_mb",device="board-7"\} 1073741824$/m);
    expect(text).toMatch(/^edgegov_battery_charge_ratio\{signal="battery_pct",device="board-7"\} 0\.5$/m);
    expect(text).not.toMatch(/^edgegov_battery_power_watts\{/m);
    expect(text).toMatch(/^edgegov_signal_simulated\{signal="battery_pct",device="board-7"\} 1$/m);
    expect(text).toMatch(/^edgegov_severity_level\{tier="lean",device="board-7"\} 2$/m);
    expect(text).toMatch(/^edgegov_decode_pacing_seconds\{tier="lean",device="board-7"\} 0\.02$/m);
    expect(text).toMatch(/^edgegov_sensor_faults_total\{signal="skin_c",reason="gone",device="board-7"\} 1$/m);
    expect(text).toMatch(/^edgegov_ipc_clients\{device="board-7"\} 3$/m);
    expect(text).toMatch(/^edgegov_policy_last_reload_successful\{device="board-7"\} 1$/m);
    // The reading goes away: so does the series (never a stale value or a 0).
    signals = { t_ms: 2 };
    text = await m.registry.metrics();
    expect(text).not.toMatch(/^edgegov_temperature_celsius\{/m);
    m.policyLoaded('x', false);
    expect(await m.registry.metrics()).toMatch(/^edgegov_policy_last_reload_successful\{device="board-7"\} 0$/m);
  });

  it('parses host:port', () => {
    expect(parseHostPort('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseHostPort('localhost')).toBeUndefined();
    expect(parseHostPort('a:70000')).toBeUndefined();
  });
});
