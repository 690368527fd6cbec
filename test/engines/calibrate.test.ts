/** `edgegov calibrate` on synthetic models: a table the governor can read back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModels } from '../../src/model/synth.js';
import { parseCalibrationTable, readCalibrationTable, measuredTier } from '../../src/engines/calibration-table.js';
import { UserError } from '../../src/util/errors.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgegov-cal-'));
  await synthesizeModels({ outDir: join(dir, 'm'), params: 2e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 9, label: '2M' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('calibrate', () => {
  it('measures every tier and each knob switch, and writes a table that reads back', async () => {
    const out = join(dir, 'table.json');
    const r = runCli(['calibrate', '--models', join(dir, 'm'), '--out', out, '--prompt-tokens', '64', '--gen-tokens', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/decode tok\/s/);
    const table = await readCalibrationTable(out);
    expect(table.tiers.map((t) => t.quant)).toEqual(['f16', 'q8_0', 'q4_0']);
    for (const t of table.tiers) {
      expect(t.decodeTokS).toBeGreaterThan(0);
      expect(t.prefillTokS).toBeGreaterThan(0);
      expect(t.firstTokenMs).toBeGreaterThan(0);
      expect(t.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(t.modelFile).toBe(`synthetic-2M-${t.quant}.gguf`);
    }
    expect(Object.keys(table.switchCostMs).sort()).toEqual(['batchSize', 'contextLength', 'pacingMs', 'quant', 'threads']);
    const ctxSwitch = table.switches.find((s) => s.knob === 'contextLength')!;
    expect(ctxSwitch.carriedOver).toBe('state-restored');
    expect(measuredTier(table, 'q4_0')?.quant).toBe('q4_0');

    const broken = JSON.parse(readFileSync(out, 'utf8'));
    broken.tiers[1].decodeTokS = 'fast';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(broken));
    await expect(readCalibrationTable(join(dir, 'bad.json'))).rejects.toThrow(UserError);
    let err: unknown;
    try { parseCalibrationTable(broken, 'bad.json'); } catch (e) { err = e; }
    expect((err as UserError).details.join('\n')).toMatch(/tiers\[1\]\.decodeTokS/);
  });
});
