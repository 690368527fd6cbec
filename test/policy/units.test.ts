/** Values with units: exact conversions, bare-number defaults, and errors that name the accepted units. */
import { describe, expect, it } from 'vitest';
import { parseQuantity, unitPattern, type UnitKind } from '../../src/policy/units.js';
import { closest, levenshtein } from '../../src/policy/did-you-mean.js';

const ok = (raw: unknown, kind: UnitKind, rate = false) => {
  const r = parseQuantity(raw, kind, rate);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const err = (raw: unknown, kind: UnitKind, rate = false) => {
  const r = parseQuantity(raw, kind, rate);
  if (r.ok) throw new Error(`accepted ${String(raw)} as ${r.value}`);
  return r.message;
};

describe('parseQuantity', () => {
  it.each([
    ['45C', 'temperature', 45], ['45°C', 'temperature', 45], ['-20C', 'temperature', -20], [45, 'temperature', 45], ['45 C', 'temperature', 45],
    ['4.5W', 'power', 4.5], ['4500mW', 'power', 4.5], ['1mW', 'power', 0.001], [4.5, 'power', 4.5],
    ['20%', 'percent', 20], [20, 'percent', 20],
    ['300MiB', 'memMiB', 300], ['2GiB', 'memMiB', 2048], ['512MB', 'memMiB', 488.28125], ['1TiB', 'memMiB', 1048576], [300, 'memMiB', 300],
    ['1048576B', 'memMiB', 1],
    ['3.4GiB', 'bytes', 3.4 * 2 ** 30], ['1.3GB', 'bytes', 1_300_000_000], ['32KiB', 'bytes', 32768], ['1kB', 'bytes', 1000], [4096, 'bytes', 4096],
    ['500ms', 'duration', 500], ['2s', 'duration', 2000], ['1.1s', 'duration', 1100], ['0.7s', 'duration', 700], ['1min', 'duration', 60_000],
    ['1h', 'duration', 3_600_000], ['1e3ms', 'duration', 1000], ['1.5e1s', 'duration', 15_000], [250, 'duration', 250],
    ['8tok/s', 'tokRate', 8], [8, 'tokRate', 8],
  ] as [unknown, UnitKind, number][])('%s as %s = %d', (raw, kind, want) => {
    expect(ok(raw, kind)).toBe(want);
  });

  it('parses rates per second', () => {
    expect(ok('20C/s', 'temperature', true)).toBe(20);
    expect(ok('6C/min', 'temperature', true)).toBeCloseTo(0.1, 12);
    expect(ok('5%/s', 'percent', true)).toBe(5);
    expect(ok(3, 'temperature', true)).toBe(3);
  });

  it('rejects unit typos naming the accepted units', () => {
    expect(err('45CC', 'temperature')).toBe('"45CC" has unknown unit "CC" (did you mean "C"?); accepted units: C, °C (a bare number means °C)');
    expect(err('113F', 'temperature')).toContain('Fahrenheit and kelvin are not accepted');
    expect(err('2sec', 'duration')).toBe('"2sec" has unknown unit "sec" (did you mean "s"?); accepted units: ms, s, min, h (a bare number means ms)');
    expect(err('300mb', 'memMiB')).toContain('(did you mean "MB" or "MiB"?)');
    expect(err('45W', 'temperature')).toContain('(W measures power, not temperature)');
    expect(err('2s', 'memMiB')).toContain('(s measures duration, not memory size)');
    expect(err('hot', 'temperature')).toContain('"hot" is not a temperature; write a number with one of: C, °C');
    expect(err('20C', 'temperature', true)).toContain('is not a temperature rate');
    expect(err('20C/h', 'temperature', true)).toContain('is not a temperature rate');
    expect(err(true, 'duration')).toBe('expected a duration such as 2s, got boolean');
    expect(err(Number.NaN, 'duration')).toBe('NaN is not a finite number');
  });

  it('the JSON-Schema pattern agrees with the parser', () => {
    const re = new RegExp(unitPattern('duration'));
    for (const s of ['500ms', '2s', ' 1min ', '1h', '250', '1.5e1s']) expect(re.test(s)).toBe(true);
    for (const s of ['2sec', '10 seconds', 's', '']) expect(re.test(s)).toBe(false);
    const rate = new RegExp(unitPattern('temperature', true));
    expect(rate.test('20C/s')).toBe(true);
    expect(rate.test('20C')).toBe(false);
  });
});

describe('did you mean', () => {
  it('counts a transposition as one edit', () => {
    expect(levenshtein('clera', 'clear')).toBe(1);
    expect(levenshtein('dwel', 'dwell')).toBe(1);
    expect(levenshtein('', 'abc')).toBe(3);
  });
  it('suggests only near misses', () => {
    expect(closest('safeteir', ['safeTier', 'samplePeriod'])).toBe('safeTier');
    expect(closest('banana', ['safeTier', 'dwell'])).toBeUndefined();
  });
});
