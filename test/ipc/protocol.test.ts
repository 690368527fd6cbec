/** Framing, request validation, rate limiting and offload advice: the pure parts of the protocol. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineSplitter } from '../../src/ipc/line-splitter.js';
import { parseRequest, ERROR_CODES, OPS } from '../../src/ipc/protocol.js';
import { TokenBucket } from '../../src/ipc/token-bucket.js';
import { advise } from '../../src/daemon/advisor.js';
import { testPolicy } from '../helpers/policy-fixture.js';
import { SEVERITIES } from '../../src/core/severity.js';
import type { Decision } from '../../src/core/decision.js';

describe('LineSplitter', () => {
  it('reassembles lines across arbitrary chunk boundaries', () => {
    fc.assert(fc.property(
      fc.array(fc.string({ maxLength: 40 }).filter((s) => !s.includes('\n') && !s.includes('\r')), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
      (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
        const sp = new LineSplitter(1024);
        const got: string[] = [];
        let off = 0;
        let i = 0;
        while (off < bytes.length) {
          const n = cuts[i++ % cuts.length];
          const r = sp.push(bytes.subarray(off, off + n));
          expect(r.overflow).toBe(false);
          got.push(...r.lines);
          off += n;
        }
        expect(got).toEqual(lines.filter((l) => l.length > 0));
      },
    ));
  });

  it('reports overflow as soon as a line passes the cap, without buffering it', () => {
    const sp = new LineSplitter(64 * 1024);
    expect(sp.push(Buffer.alloc(60 * 1024, 0x61)).overflow).toBe(false);
    expect(sp.push(Buffer.alloc(8 * 1024, 0x61)).overflow).toBe(true);
    const sp2 = new LineSplitter(10);
    expect(sp2.push(Buffer.from('0123456789\n')).overflow).toBe(false);
    expect(sp2.push(Buffer.from('0123456789a\n')).overflow).toBe(true);
  });

  it('accepts CRLF', () => {
    expect(new LineSplitter(100).push(Buffer.from('{"op":"status"}\r\n')).lines).toEqual(['{"op":"status"}']);
  });
});

describe('parseRequest', () => {
  it('never throws, and every failure names a documented error code', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (line) => {
      const r = parseRequest(line);
      if (!r.ok) expect(Object.keys(ERROR_CODES)).toContain(r.code);
      else expect(OPS).toContain(r.req.op);
    }));
  });

  it('classifies bad input', () => {
    expect(parseRequest('nope')).toMatchObject({ ok: false, code: 'bad_json' });
    expect(parseRequest('42')).toMatchObject({ ok: false, code: 'bad_request' });
    expect(parseRequest('{"id":3}')).toMatchObject({ ok: false, code: 'bad_request', id: 3 });
    expect(parseRequest('{"op":"x","id":"a"}')).toMatchObject({ ok: false, code: 'unknown_op', id: 'a' });
    expect(parseRequest('{"op":"advise","promptTokens":-1,"expectedOutputTokens":1}')).toMatchObject({ ok: false, code: 'bad_request' });
    expect(parseRequest('{"op":"advise","promptTokens":1,"expectedOutputTokens":1,"private":"yes"}')).toMatchObject({ ok: false, code: 'bad_request' });
    expect(parseRequest('{"op":"report","tokS":"fast"}')).toMatchObject({ ok: false, code: 'bad_request' });
    expect(parseRequest('{"op":"report","busyMs":-5}')).toMatchObject({ ok: false, code: 'bad_request', message: expect.stringContaining('busyMs') });
    expect(parseRequest('{"op":"report","radioMs":"long"}')).toMatchObject({ ok: false, code: 'bad_request', message: expect.stringContaining('radioMs') });
    expect(parseRequest('{"op":"report","busyMs":120.5,"radioMs":0}').ok).toBe(true);
    expect(parseRequest('{"op":"hello"}')).toMatchObject({ ok: false, code: 'bad_request' });
    expect(parseRequest('{"op":"advise","promptTokens":1,"expectedOutputTokens":1,"private":true,"deadlineMs":500}').ok).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the sustained rate', () => {
    const b = new TokenBucket(10, 100, 0);
    let ok = 0;
    for (let i = 0; i < 50; i++) if (b.take(0)) ok++;
    expect(ok).toBe(10);
    ok = 0;
    // one second later at most 100 more (capped at the burst size of 10 per instant)
    for (let t = 1; t <= 1000; t++) if (b.take(t)) ok++;
    expect(ok).toBeGreaterThanOrEqual(99);
    expect(ok).toBeLessThanOrEqual(101);
  });
});

describe('advise', () => {
  const policy = testPolicy();
  const decisionAt = (tierIndex: number, severity: Decision['severity'], offload: Decision['offload']): Decision => {
    const t = policy.tiers[tierIndex];
    return {
      t_ms: 0, severity, tier: t.name, tierIndex, quant: t.quant, contextLength: t.contextLength, batchSize: t.batchSize,
      threads: t.threads, pacingMs: t.pacingMs, offload, ttlMs: 3000, safe: false, reasons: [],
    };
  };

  it('never sends a private request to the cloud, whatever the device state or request', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: policy.tiers.length - 1 }),
      fc.constantFrom(...SEVERITIES),
      fc.constantFrom('local', 'cloud', 'pause' as const),
      fc.nat(200_000), fc.nat(10_000), fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: undefined }),
      fc.option(fc.double({ min: 0.1, max: 200, noNaN: true }), { nil: undefined }),
      (ti, sev, off, prompt, out, deadlineMs, reported) => {
        const a = advise({ promptTokens: prompt, expectedOutputTokens: out, private: true, deadlineMs }, decisionAt(ti, sev, off), policy,
          reported === undefined ? undefined : { atMs: 0, tokS: reported }, 0, 10_000);
        expect('route' in a && a.route).not.toBe('cloud');
        if ('route' in a) expect(a.reasons.length).toBeGreaterThan(0);
      },
    ));
  });

  it('routes by the decision: local with headroom, cloud when offloading, defer when private and paused', () => {
    const req = { promptTokens: 20, expectedOutputTokens: 200 };
    const local = advise(req, decisionAt(0, 'none', 'local'), policy, undefined, 0, 10_000);
    expect(local).toMatchObject({ route: 'local', tier: 'full', model: 'bandwidth' });
    if (!('route' in local)) throw new Error('expected advice');
    expect(local.predictedLocalTokS).toBeGreaterThan(5);
    expect(local.predictedFirstTokenMs).toBeGreaterThan(0);
    expect(local.predictedTotalMs).toBeGreaterThan(local.predictedFirstTokenMs);
    expect(advise(req, decisionAt(3, 'critical', 'cloud'), policy, undefined, 0, 10_000)).toMatchObject({ route: 'cloud' });
    expect(advise({ ...req, private: true }, decisionAt(3, 'emergency', 'pause'), policy, undefined, 0, 10_000)).toMatchObject({ route: 'defer' });
    // A deadline local generation cannot meet goes to the cloud (when allowed).
    expect(advise({ ...req, deadlineMs: 100 }, decisionAt(0, 'none', 'local'), policy, undefined, 0, 10_000)).toMatchObject({ route: 'cloud' });
    // By expected QoE: a prompt whose prefill would miss the 1 s first-token target goes to the
    // cloud, with its reason in words; the same request private stays on the device.
    const long = advise({ promptTokens: 3000, expectedOutputTokens: 200 }, decisionAt(0, 'none', 'local'), policy, undefined, 0, 10_000);
    if (!('route' in long)) throw new Error('expected advice');
    expect(long.route).toBe('cloud');
    expect(long.predictedFirstTokenMs).toBeGreaterThan(1000);
    expect(long.reasons[0].message).toMatch(/first token .* misses the 1\.0 s target .*: cloud/);
    expect(long.expectedValue!.cloud!).toBeGreaterThan(long.expectedValue!.local);
    expect(advise({ promptTokens: 3000, expectedOutputTokens: 200, private: true }, decisionAt(0, 'none', 'local'), policy, undefined, 0, 10_000))
      .toMatchObject({ route: 'local' });
    // A document's own, longer target keeps the same prompt local when the device meets it.
    const doc = advise({ promptTokens: 150, expectedOutputTokens: 200, kind: 'document' }, decisionAt(0, 'none', 'local'), policy, undefined, 0, 10_000);
    expect(doc).toMatchObject({ route: 'local', target: { firstTokenMs: 5000 } });
    // No decision yet: an error, not a guess.
    expect(advise(req, undefined, policy, undefined, 0, 10_000)).toMatchObject({ code: 'not_ready' });
  });

  it('calibrates predictions to the speed the engine reports', () => {
    const d = decisionAt(1, 'none', 'local');
    const base = advise({ promptTokens: 10, expectedOutputTokens: 10 }, d, policy, undefined, 0, 10_000);
    const slow = advise({ promptTokens: 10, expectedOutputTokens: 10 }, d, policy, { atMs: 0, tier: 'balanced', tokS: 3 }, 1000, 10_000);
    if (!('route' in base) || !('route' in slow)) throw new Error('expected advice');
    expect(slow.predictedLocalTokS).toBeCloseTo(3, 1);
    expect(slow.model).toBe('bandwidth+reports');
    // Below the policy floor (5 tok/s): offload.
    expect(slow.route).toBe('cloud');
    // A stale report is ignored.
    const stale = advise({ promptTokens: 10, expectedOutputTokens: 10 }, d, policy, { atMs: 0, tier: 'balanced', tokS: 3 }, 60_000, 10_000);
    if (!('route' in stale)) throw new Error('expected advice');
    expect(stale.predictedLocalTokS).toBe(base.predictedLocalTokS);
  });
});
