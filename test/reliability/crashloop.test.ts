/**
 * Crash loops, short form (issue 13 item 4; the long form is `npm run crashloop`, 100 rounds):
 * the same script kills the daemon with SIGKILL at random moments while it journals every
 * sample and SDK clients hold leases, restarts it, and checks the journal and the clients;
 * then kills the daemon while `serve` streams a request. Plus: the journal checker itself
 * catches a torn and a lost line (journal-order.test.ts has the defect the loop's definition
 * of "acknowledged" exposed).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
// @ts-expect-error plain JS module without types (shared with the npm run crashloop script)
import { checkSegment, checkWholeFile } from '../../scripts/crashloop/journal-check.mjs';
import { repoRoot } from '../helpers/cli.js';

const line = (n: number, seq: number, changed: boolean, tier = 'full') => JSON.stringify({ n, seq, changed, decision: { tier } }) + '\n';

describe('crash loop journal checks', () => {
  const good = line(1, 1, true) + line(2, 1, false) + line(3, 2, true, 'lean');
  it('passes a whole segment and counts its lines', () => {
    const r = checkSegment(good, { ackedLines: 3, ackedDecisions: new Map([[1, 'full'], [2, 'lean']]) });
    expect(r).toEqual({ lines: 3, torn: [], lost: [] });
  });
  it('finds a torn last line, a gap, an acknowledged line or decision missing, a line glued to a torn tail', () => {
    expect(checkSegment(good + '{"n":4,"se', {}).torn).toHaveLength(2); // no newline, and does not parse
    expect(checkSegment(line(1, 1, true) + line(3, 2, true), {}).lost[0]).toMatch(/n=3, expected 2/);
    expect(checkSegment(good, { ackedLines: 5 }).lost[0]).toMatch(/2 of the 5 lines/);
    expect(checkSegment(good, { ackedDecisions: new Map([[3, 'minimal']]) }).lost[0]).toMatch(/seq 3 .* not in the journal/);
    expect(checkSegment(good, { ackedDecisions: new Map([[2, 'full']]) }).lost).toHaveLength(1); // seq right, tier wrong
    expect(checkSegment(good, { tornBefore: true }).torn[0]).toMatch(/glued/);
    expect(checkSegment('\n' + good, { tornBefore: true })).toEqual({ lines: 3, torn: [], lost: [] });
  });
  it('whole file: only the injected fragments may be unparsable, each alone on its line', () => {
    const frag = '{"n":3,"seq"';
    expect(checkWholeFile(good + frag + '\n' + good, [frag])).toMatchObject({ unexpected: [], missingInjected: 0, endsWithNewline: true });
    expect(checkWholeFile(good + frag + good, [frag])).toMatchObject({ missingInjected: 1 });
    expect(checkWholeFile(good + '{"x\n', []).unexpected).toEqual(['{"x']);
  });
});

describe('crash loop, short form: kill -9 while journalling and while clients hold leases', () => {
  it('5 rounds and one gateway round: no torn or lost acknowledged line, every client safe within its lease and live again after the restart, the streamed request ends cleanly', async () => {
    const p = spawn(process.execPath, ['scripts/crashloop/run.mjs', '--rounds', '5', '--gateway-rounds', '1', '--seed', '7'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>((r) => p.on('close', r));
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    const f = lines.at(-1);
    expect(f.firstViolations, err).toEqual([]);
    expect(code).toBe(0);
    expect(f).toMatchObject({ figures: 'crashloop', rounds: 5, kills: 5, tornLines: 0, lostAckedLines: 0, violations: 0 });
    // Round 2 always starts on a torn tail, round 3 is always killed while starting (more at random).
    expect(f.injectedTornTails).toBeGreaterThanOrEqual(1);
    expect(f.killsDuringStart).toBeGreaterThanOrEqual(1);
    expect(f.unparsableLinesBesidesInjected).toBe(0);
    // Something was acknowledged and checked in every answering round.
    const answering = lines.filter((l) => l.round !== undefined && !l.duringStart);
    expect(answering).toHaveLength(5 - f.killsDuringStart);
    for (const r of answering) {
      expect(r.journalLines).toBeGreaterThanOrEqual(r.ackedLines);
      expect(r.ackedLines).toBeGreaterThan(0);
      expect(r.ackedDecisions).toBeGreaterThan(0);
    }
    // Every client fell back in every answering round, within the lease plus slack; and came back.
    expect(f.fallbacks).toBe(f.clients * answering.length);
    expect(f.fallbackAfterKillMsMax).toBeLessThanOrEqual(f.leaseMs + 1000);
    expect(f.recoveries).toBe(f.clients * (answering.length - 1)); // every answering round but the first is a restart
    expect(f.gateway.gatewayRounds).toBe(1);
    expect(f.gateway.outcomes.finished + f.gateway.outcomes.paused).toBe(1);
  }, 120_000);
});
