import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTraceWriter } from '../../src/trace/writer.js';
import { readTraceAll, TraceParser, type BadRowKind } from '../../src/trace/reader.js';
import type { Sample } from '../../src/core/signals.js';
import { UserError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(name: string, text: string | Buffer): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
}

const SIGNALS = ['soc_c', 'skin_c', 'battery_w', 'battery_pct', 'mem_avail_mb', 'zone.gpuss-0', 'zone.cpu-1-0-0'];

/** Values of `columns` per sample; undefined = no reading. Compared with Object.is semantics (so -0 ≠ 0). */
function table(samples: readonly Sample[], columns: readonly string[]): (number | undefined)[][] {
  return samples.map((s) => columns.map((c) => s[c]));
}

const valueArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 100_000 }) },
);

const traceArb = fc
  .tuple(
    fc.subarray(SIGNALS, { minLength: 0 }),
    fc.array(fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.array(valueArb, { minLength: SIGNALS.length, maxLength: SIGNALS.length })), { maxLength: 40 }),
  )
  .map(([cols, rows]) => {
    let t = 0;
    const samples: Sample[] = rows.map(([dt, vals]) => {
      t += dt;
      const s: Record<string, number | undefined> = { t_ms: t };
      cols.forEach((c, i) => (s[c] = vals[i]));
      return s as Sample;
    });
    return { columns: ['t_ms', ...cols], samples };
  })
  .filter(({ samples }) => samples.length > 0);

describe('writer → reader round trip (property)', () => {
  for (const ext of ['csv', 'jsonl']) {
    it(`${ext}: any samples, including missing cells and -0, read back exactly`, async () => {
      await fc.assert(
        fc.asyncProperty(traceArb, fc.integer({ min: 1, max: 64 }), async ({ columns, samples }, chunkBytes) => {
          const p = join(dir, `rt-${n++}.${ext}`);
          const w = createTraceWriter(p, columns);
          for (const s of samples) w.write(s);
          await w.close();
          // Tiny chunks put line and number boundaries everywhere inside the reads.
          const { samples: back, stats } = await readTraceAll(p, { chunkBytes });
          expect(stats.skippedRows).toBe(0);
          expect(table(back, columns)).toEqual(table(samples, columns));
        }),
        { numRuns: 60 },
      );
    });
  }
});

async function strictError(path: string): Promise<UserError> {
  try {
    await readTraceAll(path, { mode: 'strict' });
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

/** Each bad-input case: the strict message (file:line: column …) and the lenient skip kind. */
const BAD: { name: string; ext: string; text: string | Buffer; detail: RegExp; kind: BadRowKind; goodRows: number }[] = [
  {
    name: 'non-numeric cell',
    ext: 'csv',
    text: 't_ms,soc_c,skin_c\n0,40,30\n100,abc,30\n200,41,30\n',
    detail: /:3: column 'soc_c': not a number: "abc"$/,
    kind: 'non-numeric',
    goodRows: 2,
  },
  {
    name: 'time going backwards',
    ext: 'csv',
    text: '# recorded\nt_ms,soc_c\n0,40\n500,41\n300,42\n600,43\n',
    detail: /:5: column 't_ms': time goes backwards: 300 after 500$/,
    kind: 'time-backwards',
    goodRows: 3,
  },
  {
    name: 'truncated last line (fewer cells, no newline)',
    ext: 'csv',
    text: 't_ms,soc_c,skin_c\n0,40,30\n100,41',
    detail: /:3: column 'skin_c': truncated last line: 2 of 3 cells and no final newline$/,
    kind: 'truncated',
    goodRows: 1,
  },
  {
    name: 'wrong cell count',
    ext: 'csv',
    text: 't_ms,soc_c\n0,40\n100,41,99\n200,42\n',
    detail: /:3: column 'soc_c': row has more than 2 cells, the header has 2/,
    kind: 'cell-count',
    goodRows: 2,
  },
  {
    name: 'empty time cell',
    ext: 'csv',
    text: 't_ms,soc_c\n0,40\n,41\n200,42\n',
    detail: /:3: column 't_ms': empty: every row needs a time$/,
    kind: 'missing-time',
    goodRows: 2,
  },
  {
    name: 'JSONL truncated last line (broken JSON)',
    ext: 'jsonl',
    text: '{"t_ms":0,"soc_c":40}\n{"t_ms":100,"soc_c":4',
    detail: /:2: truncated last line: broken JSON and no final newline/,
    kind: 'truncated',
    goodRows: 1,
  },
  {
    name: 'JSONL non-numeric value',
    ext: 'jsonl',
    text: '{"t_ms":0,"soc_c":40}\n{"t_ms":100,"soc_c":"hot"}\n{"t_ms":200,"soc_c":41}\n',
    detail: /:2: column 'soc_c': not a number: "hot"$/,
    kind: 'non-numeric',
    goodRows: 2,
  },
  {
    name: 'JSONL broken line in the middle',
    ext: 'jsonl',
    text: '{"t_ms":0}\n{"t_ms":1,\n{"t_ms":2}\n',
    detail: /:2: not valid JSON/,
    kind: 'bad-json',
    goodRows: 2,
  },
  {
    name: 'binary garbage in a row',
    ext: 'csv',
    text: Buffer.concat([Buffer.from('t_ms,soc_c\n0,40\n'), Buffer.from([0x00, 0xff, 0xfe, 0x2c, 0x01, 0x0a]), Buffer.from('200,41\n')]),
    detail: /:3: binary data, not a text trace row$/,
    kind: 'binary',
    goodRows: 2,
  },
];

describe('bad input', () => {
  for (const c of BAD) {
    it(`${c.name}: strict names file:line and column`, async () => {
      const p = file(`bad.${c.ext}`, c.text);
      const err = await strictError(p);
      expect(err.details).toHaveLength(1);
      expect(err.details[0].startsWith(`${p}:`)).toBe(true);
      expect(err.details[0]).toMatch(c.detail);
    });
    it(`${c.name}: lenient skips and counts it as ${c.kind}`, async () => {
      const p = file(`bad.${c.ext}`, c.text);
      const { samples, stats } = await readTraceAll(p, { mode: 'lenient' });
      expect(samples).toHaveLength(c.goodRows);
      expect(stats.skippedRows).toBe(1);
      expect(stats.skippedByKind).toEqual({ [c.kind]: 1 });
      expect(stats.warnings.some((w) => w.startsWith(`skipped ${p}:`))).toBe(true);
    });
  }

  it('missing t_ms column is fatal in both modes', async () => {
    const p = file('nots.csv', 'time,soc_c\n0,40\n');
    expect((await strictError(p)).details[0]).toBe(`${p}:1: column 't_ms': missing: the header must name a t_ms column`);
    await expect(readTraceAll(p, { mode: 'lenient' })).rejects.toThrow(UserError);
  });

  it('a headerless CSV is told apart from a bad header', async () => {
    const p = file('noheader.csv', '0,40\n100,41\n');
    expect((await strictError(p)).details[0]).toMatch(/:1: column 't_ms': missing: the first row is data/);
  });

  it('duplicate column is fatal', async () => {
    const p = file('dup.csv', 't_ms,soc_c,soc_c\n0,1,2\n');
    expect((await strictError(p)).details[0]).toBe(`${p}:1: column 'soc_c': duplicate column in the header`);
  });

  it('empty file: strict error, lenient counted', async () => {
    const p = file('empty.csv', '');
    expect((await strictError(p)).details[0]).toBe(`${p}:1: empty trace: no header row`);
    const { samples, stats } = await readTraceAll(p, { mode: 'lenient' });
    expect(samples).toEqual([]);
    expect(stats.skippedByKind).toEqual({ 'empty-trace': 1 });
  });

  it('header only: strict error naming the last line', async () => {
    const p = file('hdr.csv', '# c\nt_ms,soc_c\n');
    expect((await strictError(p)).details[0]).toBe(`${p}:2: empty trace: no samples`);
  });

  it('binary garbage instead of a trace is a header error', async () => {
    const p = file('garbage.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0x0a, 0x00]));
    const err = await strictError(p);
    expect(err.details[0]).toBe(`${p}:1: binary data, not a text trace`);
  });

  it('a JSON document (array or pretty-printed object) is told to go through trace convert', async () => {
    for (const text of ['[{"t_ms":0}]\n', '{\n  "timeseries": []\n}\n']) {
      const p = file('doc.json', text);
      expect((await strictError(p)).details[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: this looks like a JSON document.*edgegov trace convert`));
    }
  });

  it('a line longer than 1 MiB (no newline in sight) is an error, not unbounded memory; lenient skips it and goes on', async () => {
    const p = file('long.csv', 't_ms,soc_c\n0,40\n' + '9'.repeat(2_500_000) + '\n200,41\n');
    expect((await strictError(p)).details[0]).toBe(`${p}:3: line longer than 1048576 characters: binary data, or not a trace`);
    const { samples, stats } = await readTraceAll(p, { mode: 'lenient' });
    expect(samples.map((s) => s.t_ms)).toEqual([0, 200]);
    expect(stats.skippedByKind).toEqual({ 'too-long': 1 });
    expect(stats.lines).toBe(4);
  });

  it('unreadable file is an environment error (exit 2)', async () => {
    await expect(readTraceAll(join(dir, 'nope.csv'))).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/no such file/) });
    await expect(readTraceAll(dir)).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('format details', () => {
  it('keeps unknown columns in the sample with ONE warning, and treats empty cells as no reading', async () => {
    const p = file('unknown.csv', 't_ms,soc_c,gpu_freq_mhz,note\n0,40,1200,\n100,,600,\n');
    const { samples, stats } = await readTraceAll(p);
    expect(stats.warnings).toEqual([`${p}:1: unknown columns kept but ignored: gpu_freq_mhz, note`]);
    expect(samples[0].gpu_freq_mhz).toBe(1200);
    expect(samples[1].soc_c).toBeUndefined();
    expect('soc_c' in samples[1]).toBe(true);
  });

  it('sniffs JSONL without an extension, skips # comments and CRLF line ends', async () => {
    const p = file('trace', '# from a recorder\r\n{"t_ms":0,"soc_c":40,"charging":true}\r\n{"t_ms":10,"soc_c":null}\r\n');
    const { samples, stats } = await readTraceAll(p);
    expect(stats.format).toBe('jsonl');
    expect(samples).toEqual([{ t_ms: 0, soc_c: 40, charging: 1 }, { t_ms: 10, soc_c: undefined }]);
  });

  it('a byte-order mark and quoted header names (spreadsheet exports) are read as plain names', async () => {
    const p = file('excel.csv', '\ufeff"t_ms","soc_c"\r\n0,40\r\n');
    const { samples, stats } = await readTraceAll(p);
    expect(stats.columns).toEqual(['t_ms', 'soc_c']);
    expect(samples).toEqual([{ t_ms: 0, soc_c: 40 }]);
  });

  it('accepts equal timestamps (non-decreasing) and a last line with all cells but no newline', async () => {
    const p = file('eq.csv', 't_ms,soc_c\n0,40\n0,41\n5,42');
    const { samples } = await readTraceAll(p);
    expect(samples.map((s) => s.soc_c)).toEqual([40, 41, 42]);
  });

  it('the parser gives the same samples whatever the chunking, multi-byte comments included', () => {
    const text = '# température °C — 温度\nt_ms,soc_c,zone.cpu-0\n0,40.5,41\n100,,42\n# fin ✓\n200,43,1e2\n';
    const whole: Sample[] = [];
    const p1 = new TraceParser('x.csv');
    p1.push(text, whole);
    p1.end(whole);
    for (let size = 1; size < 12; size++) {
      const parts: Sample[] = [];
      const p2 = new TraceParser('x.csv');
      for (let i = 0; i < text.length; i += size) p2.push(text.slice(i, i + size), parts);
      p2.end(parts);
      expect(parts).toEqual(whole);
    }
    expect(whole.map((s) => s['zone.cpu-0'])).toEqual([41, 42, 100]);
  });
});
