/**
 * Whatever a Pixel config holds, import-pixel either refuses it with a UserError naming the
 * place, or produces a policy the loader accepts without a single problem.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { importPixelConfig } from '../../src/policy/import-pixel.js';
import { formatProblem, parsePolicy } from '../../src/policy/load.js';
import { UserError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/cli.js';

const templateText = readFileSync(join(repoRoot, 'policies', 'default.yaml'), 'utf8');
const opts = { templateText, templateFile: 'policies/default.yaml' };

const names = fc.constantFrom('cpu-0', 'gpu-1', 'battery', 'skin', 'north_therm', 'VIRTUAL-SKIN', 'virtual_skin', 'soc_c', 'ambient-c', 'USB', 'x', 'SOC', 'quiet_therm', '9lives');
const threshold = fc.oneof(fc.constant('NAN'), fc.constant('NaN'), fc.double({ min: -60, max: 220, noNaN: true }), fc.constantFrom('70.0', 45, 95, 125));
const combination = fc.array(names, { minLength: 1, maxLength: 4 }).chain((combo) =>
  fc.record({
    Combination: fc.constant(combo),
    // Mostly as many coefficients as inputs (the valid case); sometimes not, which must be refused.
    Coefficient: fc.oneof(
      { weight: 9, arbitrary: fc.array(fc.constantFrom(0, 1, 0.3, -1, 2), { minLength: combo.length, maxLength: combo.length }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 5 }) },
    ),
  }),
);
const sensor = fc
  .tuple(
    fc.record(
      {
        Name: names,
        Type: fc.constantFrom('CPU', 'GPU', 'SKIN', 'BATTERY', 'UNKNOWN', 'USB_PORT', 'BCL_VOLTAGE', 'NPU', 'POWER_AMPLIFIER'),
        HotThreshold: fc.array(threshold, { minLength: 7, maxLength: 7 }),
        HotHysteresis: fc.array(fc.constantFrom(0, 0.5, 1.9, 5, 30), { minLength: 7, maxLength: 7 }),
        Multiplier: fc.constantFrom(0.001, 0.001, 1),
        VirtualSensor: fc.boolean(),
        Formula: fc.constantFrom('WEIGHTED_AVG', 'MAXIMUM', 'MINIMUM', 'COUNT_THRESHOLD', 'USE_ML_MODEL'),
        Offset: fc.constantFrom(0, 1500, -2000),
        Hidden: fc.boolean(),
        SendCallback: fc.boolean(),
      },
      { requiredKeys: ['Name'] },
    ),
    fc.option(combination, { nil: undefined }),
  )
  .map(([s, c]) => ({ ...s, ...(c ?? {}) }));

describe('import-pixel never produces an invalid policy', () => {
  it('refuses cleanly or validates (property)', () => {
    let produced = 0;
    fc.assert(
      fc.property(fc.uniqueArray(sensor, { minLength: 1, maxLength: 8, selector: (x) => x.Name }), (sensors) => {
        const text = JSON.stringify({ Sensors: sensors }, null, 2);
        let yaml: string;
        try {
          yaml = importPixelConfig(text, 'fuzz.json', opts).yaml;
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).details.length).toBeGreaterThan(0);
          for (const d of (err as UserError).details) expect(d).toMatch(/^fuzz\.json:\d+:\d+: /);
          return;
        }
        produced++;
        const problems = parsePolicy(yaml, 'out.yaml').problems;
        expect(problems.map(formatProblem), yaml).toEqual([]);
      }),
      { numRuns: 300 },
    );
    // Most generated configs must get through, or the property says little.
    expect(produced).toBeGreaterThan(150);
  });
});

describe('policy names', () => {
  it('come from the file name without the boilerplate', async () => {
    const { policyNameFor } = await import('../../src/policy/import-pixel.js');
    expect(policyNameFor('/x/thermal_info_config_shiba.json')).toBe('pixel-shiba');
    expect(policyNameFor('pixel4a-sunfish_thermal_info_config.json')).toBe('pixel4a-sunfish');
    expect(policyNameFor('thermal_info_config.json')).toBe('pixel-import');
  });
});
