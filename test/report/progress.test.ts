import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createProgress, progressEnabled, renderLine, type ProgressStream } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (c: string) => chunks.push(c) };
}

/** A clock the test moves by hand. */
function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createProgress', () => {
  it('draws a bar in place on a TTY and erases it when done', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ total: 200, label: 'replay', stream: s, now: clock.now });
    p.update(0);
    clock.advance(500);
    p.update(100);
    expect(s.chunks.length).toBe(2);
    // Every redraw starts at column 0 and erases the old tail: one line, redrawn in place.
    for (const c of s.chunks) expect(c.startsWith('\r\x1b[K')).toBe(true);
    expect(s.chunks.join('')).not.toContain('\n');
    expect(s.chunks[1]).toContain('replay [');
    expect(s.chunks[1]).toContain(' 50% 100/200');
    expect(s.chunks[1]).toMatch(/eta 1s/);
    p.done();
    expect(s.chunks.at(-1)).toBe('\r\x1b[K');
    p.done();
    p.update(150);
    expect(s.chunks.length).toBe(3);
  });

  it('redraws at most every 100 ms however often it is updated', () => {
    const s = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ total: 1e6, label: 'x', stream: s, now: clock.now });
    for (let i = 0; i < 100_000; i++) {
      p.update(i);
      clock.advance(0.01); // 100k updates over 1 s
    }
    // 1 s / 100 ms → about 10 draws (first one immediate).
    expect(s.chunks.length).toBeGreaterThanOrEqual(9);
    expect(s.chunks.length).toBeLessThanOrEqual(11);
  });

  it('writes nothing when the stream is not a TTY, even if enabled', () => {
    const s = fakeStream(false);
    const p = createProgress({ total: 10, label: 'replay', stream: s, enabled: true });
    p.update(5);
    p.done();
    expect(s.chunks).toEqual([]);
  });

  it('writes nothing when disabled (the --json case)', () => {
    const s = fakeStream(true);
    const p = createProgress({ total: 10, label: 'replay', stream: s, enabled: progressEnabled({ json: true }, s) });
    p.update(5);
    p.done();
    expect(s.chunks).toEqual([]);
    expect(progressEnabled({}, s)).toBe(true);
    expect(progressEnabled({}, fakeStream(false))).toBe(false);
  });

  it('draws on a terminal that reports 0 columns (a pty with no size)', () => {
    const s = fakeStream(true, 0);
    const p = createProgress({ total: 10, label: 'replay', stream: s });
    p.update(5);
    expect(s.chunks[0]).toMatch(/replay \[#+-+\]  50%/);
  });

  it('leaves the terminal untouched when done() comes before any draw', () => {
    const s = fakeStream(true);
    createProgress({ total: 10, label: 'x', stream: s }).done();
    expect(s.chunks).toEqual([]);
  });

  it('shows a count and a rate when the total is unknown', () => {
    const line = renderLine('replay', 25_000, 0, 2000, 80);
    expect(line).toBe('replay 25k (13k/s, 2s)');
    expect(line).not.toContain('[');
  });

  it('fits narrow terminals without wrapping', () => {
    for (const cols of [10, 20, 30, 50, 80, 200]) {
      const line = renderLine('simulate', 12_345, 100_000, 61_000, cols);
      expect(line.length).toBeLessThan(cols);
    }
    expect(renderLine('simulate', 100_000, 100_000, 61_000, 120)).toContain('100%');
    // Overshoot (a caller counting past total) caps at 100 %, never a longer bar.
    const over = renderLine('s', 150, 100, 1000, 80);
    expect(over).toContain('100%');
    expect(over.length).toBe(renderLine('s', 100, 100, 1000, 80).length);
  });

  it('prints no progress characters when stderr is a pipe (real child process)', () => {
    // The built module (npm test builds first), in a child whose stderr is a pipe, with no `enabled` given.
    const dist = fileURLToPath(new URL('../../dist/cli/progress.js', import.meta.url));
    const script = `import('${dist}').then(({ createProgress }) => {
      const p = createProgress({ total: 100, label: 'replay' });
      for (let i = 0; i <= 100; i++) p.update(i);
      p.done();
      process.stdout.write('ok');
    })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.stdout).toBe('ok');
    expect(r.stderr).toBe('');
  });
});
