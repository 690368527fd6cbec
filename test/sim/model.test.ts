/**
 * The physics and workload models against the numbers they were built from (research/03, /05):
 * these would fail if the integrator, the bandwidth model or the power model drifted.
 */
import { describe, it, expect } from 'vitest';
import { loadDevice, type DeviceModel } from '../../src/sim/device.js';
import { loadScenario } from '../../src/sim/scenario.js';
import { createThermalNetwork } from '../../src/sim/thermal.js';
import { decodeRate, prefillRate, powerOf, footprintMb, type Knobs } from '../../src/sim/workload.js';
import { simModel, DEFAULT_MODEL } from '../../src/sim/model.js';
import { DeviceSimulator } from '../../src/sim/simulator.js';
import { Battery } from '../../src/sim/battery.js';
import { createRequestStream } from '../../src/sim/requests.js';

const model = simModel(DEFAULT_MODEL);
const knobs = (over: Partial<Knobs> = {}): Knobs => ({ tier: 't', quant: 'q4_k_m', contextLength: 4096, batchSize: 256, threads: 4, pacingMs: 0, offload: 'local', ...over });
const full = { core: 1, mem: 1 };

/** The literature 3-node phone (research/05 §5a defaults) as a device, to check the integrator. */
function literaturePhone(): DeviceModel {
  const d = loadDevice('flagship-phone');
  return { ...d, thermal: { ...d.thermal, nodes: [
    { name: 'soc', capacitanceJPerC: 1.5 }, { name: 'board', capacitanceJPerC: 30 }, { name: 'skin', capacitanceJPerC: 170 },
  ], links: [
    { from: 'soc', to: 'board', resistanceCPerW: 5 }, { from: 'board', to: 'skin', resistanceCPerW: 1.5 }, { from: 'skin', to: 'ambient', resistanceCPerW: 4 },
  ] } };
}

describe('RC thermal network', () => {
  it('reaches research/05 §5a steady state: 3.5 W SoC + 0.5 W board + 0.4 W skin → skin 42.6, board 48.6, hotspot 66 °C', () => {
    const net = createThermalNetwork(literaturePhone(), 25);
    const heat = Float64Array.from([3.5, 0.5, 0.4]);
    for (let i = 0; i < 3 * 3600; i++) net.step(1, heat, 25);
    expect(net.temps[2]).toBeCloseTo(42.6, 0);
    expect(net.temps[1]).toBeCloseTo(48.35, 0);
    expect(net.temps[0]).toBeCloseTo(65.85, 0);
  });
  it('10 W from (38, 36, 33 °C) reaches 80 °C hotspot in about 15 s (research/05 §5a, S25 runs)', () => {
    const net = createThermalNetwork(literaturePhone(), 25);
    net.temps.set([38, 36, 33]);
    const heat = Float64Array.from([10, 0.5, 0.4]);
    let t = 0;
    while (net.temps[0] < 80 && t < 120) { net.step(0.5, heat, 25); t += 0.5; }
    expect(t).toBeGreaterThan(10);
    expect(t).toBeLessThan(22);
  });
  it('is step-size independent (0.1 s vs 1 s steps agree within 0.2 °C)', () => {
    const a = createThermalNetwork(literaturePhone(), 25);
    const b = createThermalNetwork(literaturePhone(), 25);
    const heat = Float64Array.from([6, 0.5, 0.4]);
    for (let i = 0; i < 600; i++) a.step(1, heat, 25);
    for (let i = 0; i < 6000; i++) b.step(0.1, heat, 25);
    for (let i = 0; i < 3; i++) expect(Math.abs(a.temps[i] - b.temps[i])).toBeLessThan(0.2);
  });
});

describe('workload model (research/03 §6)', () => {
  it('Pi 5 decodes Llama-3.2-3B Q4_K_M near the measured 4.9 tok/s', () => {
    const r = decodeRate(loadDevice('rpi5'), model, knobs({ contextLength: 2048 }), 100, full);
    expect(r.tokS).toBeGreaterThan(4.2);
    expect(r.tokS).toBeLessThan(5.8);
  });
  it('decode is bandwidth-bound: a leaner quant is faster, a long context slower, a halved core clock barely matters', () => {
    const d = loadDevice('flagship-phone');
    const q8 = decodeRate(d, model, knobs({ quant: 'q8_0' }), 100, full).tokS;
    const q4 = decodeRate(d, model, knobs(), 100, full).tokS;
    expect(q4 / q8).toBeGreaterThan(1.5);
    expect(decodeRate(d, model, knobs({ contextLength: 8192 }), 8000, full).tokS).toBeLessThan(q4 * 0.9);
    expect(decodeRate(d, model, knobs(), 100, { core: 0.5, mem: 1 }).tokS).toBeGreaterThan(q4 * 0.95);
    expect(decodeRate(d, model, knobs(), 100, { core: 0.5, mem: 0.75 }).tokS).toBeLessThan(q4 * 0.8);
  });
  it('pacing trades speed for power: lower tok/s and lower busy fraction', () => {
    const d = loadDevice('flagship-phone');
    const a = decodeRate(d, model, knobs(), 100, full);
    const b = decodeRate(d, model, knobs({ pacingMs: 50 }), 100, full);
    expect(b.tokS).toBeLessThan(a.tokS);
    expect(b.busy).toBeLessThan(a.busy);
    const pw = (x: typeof a) => { const p = powerOf(d, { loaded: true, busy: x.busy, threadShare: 4 / 6, bandwidthGBs: x.bandwidthGBs, radio: 0 }, full, 40); return p.socW + p.boardW + p.skinW; };
    expect(pw(b)).toBeLessThan(pw(a) - 1);
  });
  it('a flagship decoding draws 5–7 W in all (research/03 §2.2) and dynamic power falls with the clock', () => {
    const d = loadDevice('flagship-phone');
    const r = decodeRate(d, model, knobs(), 500, full);
    const p = powerOf(d, { loaded: true, busy: r.busy, threadShare: 4 / 6, bandwidthGBs: r.bandwidthGBs, radio: 0 }, full, 50);
    const total = p.socW + p.boardW + p.skinW;
    expect(total).toBeGreaterThan(4.5);
    expect(total).toBeLessThan(7.5);
    const slow = powerOf(d, { loaded: true, busy: r.busy, threadShare: 4 / 6, bandwidthGBs: r.bandwidthGBs, radio: 0 }, { core: 0.5, mem: 0.75 }, 50);
    expect(slow.socW).toBeLessThan(p.socW * 0.5);
  });
  it('prefill is compute-bound: scales with clock and micro-batch', () => {
    const d = loadDevice('flagship-phone');
    const base = prefillRate(d, model, knobs({ batchSize: 512 }), full);
    expect(prefillRate(d, model, knobs({ batchSize: 512 }), { core: 0.5, mem: 1 })).toBeCloseTo(base / 2, 5);
    expect(prefillRate(d, model, knobs({ batchSize: 32 }), full)).toBeLessThan(base * 0.6);
  });
  it('memory = weights + KV(context) + batch buffer + overhead (research/03 §6.1)', () => {
    const mb = footprintMb(model, knobs({ quant: 'q8_0', contextLength: 8192, batchSize: 512 }));
    expect(mb).toBeCloseTo(3.4 * 1024 + 896 + 256 + 300, 0);
    expect(footprintMb(model, knobs({ contextLength: 2048 }))).toBeLessThan(footprintMb(model, knobs({ contextLength: 4096 })));
  });
});

describe('battery (research/05 §5c)', () => {
  const spec = loadDevice('flagship-phone').battery!;
  it('drains with load, heats by I²R, and a charger turns the draw negative', () => {
    const b = new Battery(spec, 50, false);
    const s = b.step(60, 6, 30);
    expect(s.batteryW).toBeCloseTo(6, 5);
    expect(b.pct).toBeLessThan(50);
    const amps = 6 / 3.85;
    expect(s.heatW).toBeGreaterThan(amps * amps * spec.internalResistanceOhm * 0.9);
    const c = new Battery(spec, 50, true);
    const cs = c.step(60, 2, 30);
    expect(cs.batteryW).toBeLessThan(0);
    expect(c.pct).toBeGreaterThan(50);
    expect(cs.heatW).toBeGreaterThan(s.heatW);
  });
  it('stops charging above the JEITA limit and dies when empty', () => {
    const hot = new Battery(spec, 50, true);
    expect(hot.step(60, 2, 50).batteryW).toBe(0);
    const empty = new Battery(spec, 0.01, false);
    empty.step(60, 6, 30);
    expect(empty.dead).toBe(true);
  });
});

describe('device simulator', () => {
  const scenario = loadScenario('sustained-chat');
  const sim = (seed = 1, device = 'flagship-phone') => new DeviceSimulator({ device: loadDevice(device), model, scenario, seed, floorTokS: 5 });

  it('throttles like a real phone when nobody governs: the OS caps the clock once the skin passes its trip', () => {
    const hot = { ...loadScenario('hot-car') };
    const s = new DeviceSimulator({ device: loadDevice('flagship-phone'), model, scenario: hot, seed: 2, floorTokS: 5 });
    let minClock = 1;
    for (let t = 0; t < 1200; t += 0.5) { s.advance(0.5, knobs({ quant: 'q8_0', contextLength: 8192, batchSize: 512, threads: 6 })); minClock = Math.min(minClock, s.clock.core); }
    expect(minClock).toBeLessThan(0.9);
    expect(s.truthC().skin!).toBeGreaterThan(42);
  });
  it('leaner knobs run cooler over the same requests', () => {
    const a = sim(), b = sim();
    for (let t = 0; t < 900; t += 0.5) {
      a.advance(0.5, knobs({ quant: 'q8_0', contextLength: 8192, threads: 6 }));
      b.advance(0.5, knobs({ quant: 'q3_k_m', contextLength: 1024, threads: 2, pacingMs: 50 }));
    }
    expect(b.truthC().skin!).toBeLessThan(a.truthC().skin! - 1);
  });
  it('sensors: noise, quantisation and a slow skin cadence (held value between refreshes)', () => {
    const s = sim();
    const readings: number[] = [];
    for (let t = 0; t < 20_000; t += 500) { s.advance(0.5, knobs()); readings.push(s.read(t + 500).skin_c!); }
    for (const v of readings) expect(Math.round(v * 10) / 10).toBeCloseTo(v, 9);
    // 30 s cadence while cool: the first 20 s show one value.
    expect(new Set(readings.slice(0, 39)).size).toBe(1);
    const socs = new Set<number>();
    for (let t = 20_000; t < 30_000; t += 500) { s.advance(0.5, knobs()); socs.add(s.read(t + 500).soc_c!); }
    expect(socs.size).toBeGreaterThan(3);
  });
  it('offload to the cloud moves tokens off the device; pause stops generation', () => {
    // (nothing private here: a private conversation never leaves the device, whatever the knobs)
    const open = { ...scenario, workload: { ...scenario.workload, privateShare: 0 } };
    const c = new DeviceSimulator({ device: loadDevice('flagship-phone'), model, scenario: open, seed: 1, floorTokS: 5 }), p = sim();
    let cloud = 0, local = 0, paused = 0;
    for (let t = 0; t < 300; t += 0.5) {
      const a = c.advance(0.5, knobs({ offload: 'cloud' }));
      cloud += a.cloudTokens; local += a.localTokens;
      const b = p.advance(0.5, knobs({ offload: 'pause' }));
      paused += b.localTokens + b.cloudTokens;
    }
    expect(cloud).toBeGreaterThan(500);
    expect(local).toBe(0);
    expect(paused).toBe(0);
  });
  it('an app taking memory leads to an OOM kill of the model that does not fit', () => {
    const s = sim();
    s.addBackground(6000);
    const st = s.advance(0.5, knobs({ quant: 'q8_0', contextLength: 8192 }));
    expect(st.oom).toBe(true);
    expect(s.footprintMb()).toBe(0);
  });
  it('same seed → same readings; another seed → different noise', () => {
    const run = (seed: number) => { const s = sim(seed); const out: unknown[] = []; for (let t = 0; t < 60_000; t += 500) { s.advance(0.5, knobs()); out.push(s.read(t)); } return JSON.stringify(out); };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });
});

describe('request generator (research/03 §6.6)', () => {
  it('is reproducible, log-normal around the configured median, with sessions and bursts', () => {
    const sc = loadScenario('bursty');
    const a = createRequestStream(sc, 3), b = createRequestStream(sc, 3);
    const xs = Array.from({ length: 2000 }, () => a());
    expect(Array.from({ length: 2000 }, () => b())).toEqual(xs);
    const chats = xs.filter((r) => r.kind === 'chat').map((r) => r.outputTokens).sort((p, q) => p - q);
    const median = chats[Math.floor(chats.length / 2)];
    expect(median).toBeGreaterThan(160);
    expect(median).toBeLessThan(250);
    expect(xs.filter((r) => r.thinkAfterS === 1).length).toBeGreaterThan(200);
    expect(xs.some((r) => r.newSession)).toBe(true);
    const docs = xs.filter((r) => r.kind === 'document');
    expect(docs.every((r) => r.promptTokens >= 800 && r.promptTokens <= 3000 && r.newSession)).toBe(true);
  });
});

describe('engine costs and scenario details', () => {
  const scenario = loadScenario('sustained-chat');
  it("another app's memory arrives over its ramp, not at once", () => {
    const s = new DeviceSimulator({ device: loadDevice('flagship-phone'), model, scenario, seed: 1, floorTokS: 5 });
    s.advance(0.5, knobs());
    const before = s.memAvailMb();
    s.addBackground(1500, 5);
    s.advance(1, knobs());
    const after1 = s.memAvailMb();
    for (let i = 0; i < 10; i++) s.advance(1, knobs());
    const after = s.memAvailMb();
    expect(before - after1).toBeGreaterThan(250);
    expect(before - after1).toBeLessThan(400);
    expect(before - after).toBeCloseTo(1500, 0);
  });
  it('a quant swap reloads the weights; a context change carries the KV over; pacing is free', () => {
    const d = loadDevice('rk3588');
    const reloadS = (k: Knobs) => {
      const s = new DeviceSimulator({ device: d, model, scenario, seed: 1, floorTokS: 5 });
      s.advance(0.1, knobs());
      s.advance(0.01, k);
      return (s as unknown as { reloadLeftS: number }).reloadLeftS;
    };
    // 3.4 GiB of q8_0 from eMMC at 300 MB/s ≈ 12 s.
    expect(reloadS(knobs({ quant: 'q8_0' }))).toBeGreaterThan(10);
    expect(reloadS(knobs({ contextLength: 2048 }))).toBeCloseTo(0.3 - 0.01, 5);
    expect(reloadS(knobs({ pacingMs: 20 }))).toBe(0);
  });
  it('Q4_0 prefills faster than Q4_K_M on a backend with a repack speed factor', () => {
    const d = loadDevice('flagship-phone');
    expect(prefillRate(d, model, knobs({ quant: 'q4_0' }), full)).toBeGreaterThan(1.5 * prefillRate(d, model, knobs({ quant: 'q4_k_m' }), full));
  });
});

