import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTraceWriter, formatNumber } from '../../src/trace/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-writer-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

describe('trace writer', () => {
  it('writes CSV with t_ms first, empty cells for missing/NaN and exact numbers', async () => {
    const p = join(dir, 'a.csv');
    const w = createTraceWriter(p, ['soc_c', 't_ms', 'zone.gpu'], { comments: ['recorded by test'] });
    expect(w.columns).toEqual(['t_ms', 'soc_c', 'zone.gpu']);
    w.write({ t_ms: 0, soc_c: 41.25, 'zone.gpu': undefined });
    w.write({ t_ms: 100, soc_c: Number.NaN, 'zone.gpu': 0.1 + 0.2, extra: 5 });
    w.write({ t_ms: 200, soc_c: -0 });
    await w.close();
    await w.close();
    expect(readFileSync(p, 'utf8')).toBe(
      '# recorded by test\nt_ms,soc_c,zone.gpu\n0,41.25,\n100,,0.30000000000000004\n200,-0,\n',
    );
  });

  it('writes JSONL by extension, omitting missing signals', async () => {
    const p = join(dir, 'a.jsonl');
    const w = createTraceWriter(p, ['t_ms', 'soc_c', 'battery_w']);
    w.write({ t_ms: 5, soc_c: 40, battery_w: undefined });
    w.write({ t_ms: 6, battery_w: -1.5 });
    await w.close();
    expect(readFileSync(p, 'utf8')).toBe('{"t_ms":5,"soc_c":40}\n{"t_ms":6,"battery_w":-1.5}\n');
  });

  it('flushes in chunks so long traces do not accumulate in memory', async () => {
    const p = join(dir, 'big.csv');
    const w = createTraceWriter(p, ['t_ms', 'soc_c'], { flushBytes: 1024 });
    for (let i = 0; i < 5000; i++) w.write({ t_ms: i * 100, soc_c: 40 + (i % 7) / 4 });
    // Before close, everything but the last partial chunk is already on disk.
    expect(readFileSync(p, 'utf8').length).toBeGreaterThan(40_000);
    await w.close();
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(5001);
    expect(lines[5000]).toBe(`499900,${formatNumber(40 + (4999 % 7) / 4)}`);
  });

  it('rejects duplicate columns and a sample without t_ms', async () => {
    expect(() => createTraceWriter(join(dir, 'd.csv'), ['soc_c', 'soc_c'])).toThrow(/duplicate column 'soc_c'/);
    const w = createTraceWriter(join(dir, 'e.csv'), ['soc_c']);
    expect(() => w.write({ soc_c: 1 } as never)).toThrow(/t_ms/);
    await w.close();
  });

  it('reports an unwritable path as an environment error', () => {
    expect(() => createTraceWriter(join(dir, 'no', 'such', 'dir.csv'), ['soc_c'])).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
  });
});

describe('trace writer output names', () => {
  it('refuses a .json name instead of writing CSV into it', () => {
    const p = join(dir, 'run.json');
    expect(() => createTraceWriter(p, ['t_ms'])).toThrow(/run\.json: a trace is CSV or JSONL, not one JSON document; name it \.jsonl/);
    expect(() => readFileSync(p)).toThrow(); // nothing was created
    expect(() => createTraceWriter(p, ['t_ms'], { format: 'jsonl' })).not.toThrow();
  });
});
