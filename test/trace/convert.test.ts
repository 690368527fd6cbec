import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileMappings, type Cell } from '../../src/trace/expr.js';
import { convertTrace, splitCsvLine } from '../../src/trace/convert.js';
import { readTraceAll } from '../../src/trace/reader.js';
import { UserError } from '../../src/util/errors.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (name: string, text: string) => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
};

const COLS = ['t_s', 'T_gpuss-0_c', 'T_gpuss-1_c', 'T_cpu-0-0_c', 'MemAvailable_kB', 'Timestamp', 'a', 'b'];

function evalMap(map: string, row: Cell[], extra: string[] = []): (number | undefined)[] {
  const ms = compileMappings(['t_ms=t_s*1000', ...extra, map], COLS);
  return ms.filter((m) => m.target !== 't_ms').map((m) => m.evaluate(row));
}

function mapError(maps: string[], cols = COLS): string[] {
  try {
    compileMappings(maps, cols);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).details as string[];
  }
  throw new Error('expected a UserError');
}

describe('--map expressions', () => {
  const row: Cell[] = ['0.1', '70.5', '81', '66', '2097152', '22:01:04', '3', '4'];

  it('globs inside aggregates, arithmetic, precedence and parentheses', () => {
    expect(evalMap('soc_c=max(T_gpuss-*_c,T_cpu-*_c)', row)).toEqual([81]);
    expect(evalMap('x=min(T_*_c)', row)).toEqual([66]);
    expect(evalMap('x=avg(T_gpuss-*_c)', row)).toEqual([75.75]);
    expect(evalMap('x=sum(a,b,10)', row)).toEqual([17]);
    expect(evalMap('x=first(T_cpu-*_c, a)', row)).toEqual([66]);
    expect(evalMap('mem_avail_mb=MemAvailable_kB/1024', row)).toEqual([2048]);
    expect(evalMap('x=a + b * 2', row)).toEqual([11]);
    expect(evalMap('x=(a + b) * 2', row)).toEqual([14]);
    expect(evalMap('x=a - b - 1', row)).toEqual([-2]);
    expect(evalMap('x=-a * -b', row)).toEqual([12]);
    expect(evalMap('x=a * b', row)).toEqual([12]);
    expect(evalMap('x=2*a', row)).toEqual([6]);
    expect(evalMap('x=abs(a - b) + round(T_gpuss-0_c) + round(1.23456, 2)', row)).toEqual([1 + 71 + 1.23]);
  });

  it('t_ms=t_s*1000 has no float noise', () => {
    const [t] = compileMappings(['t_ms=t_s*1000'], COLS);
    expect(t.evaluate(['0.1'])).toBe(100);
    expect(t.evaluate(['2.292'])).toBe(2292);
  });

  it('missing cells are no reading: arithmetic gives missing, aggregates skip them', () => {
    const gap: Cell[] = ['1', '', '80', '', '', '', '', '4'];
    expect(evalMap('x=max(T_gpuss-*_c)', gap)).toEqual([80]);
    expect(evalMap('x=max(T_cpu-*_c)', gap)).toEqual([undefined]);
    expect(evalMap('x=a + b', gap)).toEqual([undefined]);
    expect(evalMap('x=a / 0', row)).toEqual([undefined]);
  });

  it('time_s: clock times, ISO date-times and numbers, relative to the first row, across midnight', () => {
    const [t] = compileMappings(['t_ms=time_s(Timestamp)*1000'], ['Timestamp']);
    expect(['23:59:58', '23:59:59.5', '00:00:01'].map((c) => t.evaluate([c]))).toEqual([0, 1500, 3000]);
    const [iso] = compileMappings(['t_ms=time_s(Timestamp)*1000'], ['Timestamp']);
    expect(['2026-03-04T10:57:12.495948', '2026-03-04T10:57:14.787660', '2026-03-05T10:57:12.495948'].map((c) => iso.evaluate([c])))
      .toEqual([0, 2291.712, 86_400_000]);
  });

  it('zone.*=glob maps every matching column with what * matched', () => {
    const ms = compileMappings(['t_ms=t_s*1000', 'zone.*=T_*_c'], COLS);
    expect(ms.map((m) => m.target)).toEqual(['t_ms', 'zone.gpuss-0', 'zone.gpuss-1', 'zone.cpu-0-0']);
  });

  it('syntax errors name the mapping and the column position with a caret', () => {
    const d = mapError(['t_ms=t_s*1000', 'soc_c=max(T_gpuss-*_c,']);
    expect(d[0]).toBe("--map 'soc_c=max(T_gpuss-*_c,': column 23: expected a number, column or '(', found the end");
    expect(d[1]).toBe('    soc_c=max(T_gpuss-*_c,');
    expect(d[2]).toBe(`    ${' '.repeat(22)}^`);
    expect(mapError(['t_ms=t_s*1000', 'x=a + ) ']) [0]).toBe("--map 'x=a + ) ': column 7: expected a number, column or '(', found ')'");
    expect(mapError(['t_ms=t_s*1000', 'x=(a']) [0]).toBe("--map 'x=(a': column 5: expected ')', found the end");
    expect(mapError(['t_ms=t_s*1000', 'x=a b'])[0]).toBe("--map 'x=a b': column 5: expected an operator or the end, found 'b'");
    expect(mapError(['t_ms=t_s*1000', 'x=a $ b'])[0]).toBe("--map 'x=a $ b': column 5: unexpected '$'");
    expect(mapError(['t_ms=t_s*1000', 'no equals'])[0]).toMatch(/^--map 'no equals': column 1: expected target=expression/);
    expect(mapError(['t_ms=t_s*1000', 'x=median(a)'])[0]).toBe("--map 'x=median(a)': column 3: unknown function 'median' (functions: max, min, avg, sum, first, abs, round, time_s, elapsed)");
  });

  it('unknown columns are named, with a hint for a - b written without spaces', () => {
    expect(mapError(['t_ms=t_s*1000', 'skin_c=T_skin'])[0]).toMatch(/^--map 'skin_c=T_skin': column 8: unknown column 'T_skin' \(columns: t_s, T_gpuss-0_c/);
    expect(mapError(['t_ms=t_s*1000', 'x=a-b'])[0]).toMatch(/column 3: unknown column 'a-b'; to subtract write 'a - b' with spaces/);
    expect(mapError(['t_ms=t_s*1000', 'x=a*b'])[0]).toMatch(/column 3: no column matches 'a\*b'; to multiply write 'a \* b' with spaces/);
    expect(mapError(['t_ms=t_s*1000', 'x=T_*_c'])[0]).toMatch(/column 3: 'T_\*_c' matches 3 columns .*wrap it in max\(\)/);
  });

  it('t_ms is required and targets are unique', () => {
    expect(() => compileMappings(['soc_c=a'], COLS)).toThrow(/--map must define t_ms/);
    expect(mapError(['t_ms=t_s', 'soc_c=a', 'soc_c=b'])[0]).toMatch(/target 'soc_c' is already defined by --map 'soc_c=a'/);
  });

  it('a non-numeric referenced cell is reported at evaluation', () => {
    const [, x] = compileMappings(['t_ms=t_s', 'x=a'], COLS);
    expect(() => x.evaluate(['1', '', '', '', '', '', 'n/a'])).toThrow(/not a number: "n\/a"/);
  });
});

describe('trace convert', () => {
  it('CSV with quotes, comments and a late header; strict stops at a bad row with file:line', async () => {
    expect(splitCsvLine('1,"a, b","say ""hi""",')).toEqual(['1', 'a, b', 'say "hi"', '']);
    const input = file('in.csv', 'started Sun\n# c\nsec,"tmp C",clk\n0,49,600\n1,x,700\n2,51,2000\nended Mon\n');
    const out = join(dir, 'out.csv');
    const maps = ['t_ms=sec*1000', 'soc_c="tmp C"', 'zone.cpu=`tmp C`'];
    await expect(convertTrace({ input, output: out, maps, headerLine: 3 })).rejects.toMatchObject({
      details: [`${input}:5: column 'tmp C': not a number: "x" (in --map 'soc_c="tmp C"')`],
    });
    const r = await convertTrace({ input, output: out, maps, headerLine: 3, mode: 'lenient' });
    expect(r.samples).toBe(2);
    expect(r.skippedByKind).toEqual({ 'non-numeric': 1, 'cell-count': 1 });
    expect(readFileSync(out, 'utf8')).toBe('t_ms,soc_c,zone.cpu\n0,49,49\n2000,51,51\n');
  });

  it('JSON document: finds the largest array of row objects and flattens nested keys', async () => {
    const doc = {
      metadata: { model: 'x' },
      events: [],
      timeseries: [
        { timestamp: '2026-03-04T10:00:00.000000', temps: { 'gpuss-0': 40, 'cpu-0-0-0': 41 }, cpu_freqs_khz: [1000, 2000] },
        { timestamp: '2026-03-04T10:00:02.500000', temps: { 'gpuss-0': 75.5, 'cpu-0-0-0': 60 }, cpu_freqs_khz: [1000, 900] },
      ],
    };
    const input = file('run.json', JSON.stringify(doc));
    const out = join(dir, 'run.jsonl');
    const r = await convertTrace({ input, output: out, maps: ['t_ms=time_s(timestamp)*1000', 'soc_c=max(temps.*)', 'cpu7=cpu_freqs_khz.1/1000'] });
    expect(r.inputFormat).toBe('json');
    const { samples } = await readTraceAll(out);
    expect(samples).toEqual([{ t_ms: 0, soc_c: 41, cpu7: 2 }, { t_ms: 2500, soc_c: 75.5, cpu7: 0.9 }]);
  });

  it('YAML column arrays (stressberry layout) become rows; names with spaces are quoted', async () => {
    const input = file('sb.yaml', '# made by a tool\nname: no case\ntime: [0, 2.05, 4.1]\ntemperature: [46, 47, 47]\ncpu frequency: [600, 1500, 1500]\n');
    const out = join(dir, 'sb.csv');
    await convertTrace({ input, output: out, maps: ['t_ms=time*1000', 'soc_c=temperature', 'cpu_mhz="cpu frequency"'] });
    expect(readFileSync(out, 'utf8')).toBe('t_ms,soc_c,cpu_mhz\n0,46,600\n2050,47,1500\n4100,47,1500\n');
  });

  it('refuses to overwrite its own input', async () => {
    const input = file('same.csv', 't,v\n0,1\n');
    await expect(convertTrace({ input, output: input, maps: ['t_ms=t'] })).rejects.toThrow(/is the input file/);
    expect(readFileSync(input, 'utf8')).toBe('t,v\n0,1\n');
  });

  it('output time going backwards is an error in strict mode', async () => {
    const input = file('back.csv', 't,v\n0,1\n5,2\n3,3\n');
    await expect(convertTrace({ input, output: join(dir, 'b.csv'), maps: ['t_ms=t', 'soc_c=v'] })).rejects.toMatchObject({
      details: [`${input}:4: t_ms goes backwards: 3 after 5`],
    });
  });
});

describe('edgegov trace convert (CLI)', () => {
  it('bad --map is exit 1 with the position, no stack; a missing input is exit 2; --json reports counts', async () => {
    const { hasStackTrace } = await import('../helpers/cli.js');
    const input = file('cli.csv', 't_s,T_cpu-0_c,T_gpu-0_c\n0,40,41\n0.5,45,47\n');
    const out = join(dir, 'cli-out.jsonl');
    const bad = runCli(['trace', 'convert', input, '--out', out, '--map', 't_ms=t_s*1000', '--map', 'soc_c=max(T_cpu-*_c,T_gpu-*_c']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--map 'soc_c=max(T_cpu-*_c,T_gpu-*_c': column 30: expected ',' or ')' in max(…), found the end");
    expect(hasStackTrace(bad.stderr)).toBe(false);
    const missing = runCli(['trace', 'convert', join(dir, 'absent.csv'), '--out', out, '--map', 't_ms=t_s']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/absent\.csv: no such file/);
    const ok = runCli(['trace', 'convert', input, '--out', out, '--map', 't_ms=t_s*1000', '--map', 'soc_c=max(T_cpu-*_c,T_gpu-*_c)', '--map', 'zone.*=T_*_c', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ samples: 2, columns: ['t_ms', 'soc_c', 'zone.cpu-0', 'zone.gpu-0'], skippedRows: 0 });
    expect(readFileSync(out, 'utf8')).toBe('{"t_ms":0,"soc_c":41,"zone.cpu-0":40,"zone.gpu-0":41}\n{"t_ms":500,"soc_c":47,"zone.cpu-0":45,"zone.gpu-0":47}\n');
    const noPolicy = runCli(['replay', out, '--policy', join(dir, 'absent.yaml')]);
    expect(noPolicy.code).toBe(2);
  });
});

describe('trace convert and replay say "1 row", "1 column", "1 zone"', () => {
  it('counts in the singular when there is one', () => {
    const src = join(dir, 'one.csv');
    writeFileSync(src, 'sec,tmp\n0,40\n1\n');
    const out = join(dir, 'one-out.csv');
    const r = runCli(['trace', 'convert', src, '--out', out, '--lenient', '--map', 't_ms=sec*1000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote 1 sample × 1 column \(t_ms\) to .*; skipped 1 row \(cell-count 1\)$/m);
    const z = join(dir, 'one-zone.csv');
    writeFileSync(z, 't_ms,zone.cpu-thermal\n0,40\n500,41\n');
    const rep = runCli(['replay', z]);
    expect(rep.stdout).toMatch(/1 zone, hottest zone\.cpu-thermal 41/);
  });
});
