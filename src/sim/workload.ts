/**
 * The LLM workload model of research/03 §6: decode is memory-bandwidth bound, prefill is
 * compute bound, power follows utilisation and clock, memory is weights + KV + buffers.
 * Pure functions of (device, model, knobs, clock state); the simulator integrates them.
 */
import type { DeviceModel } from './device.js';
import type { SimModel } from './model.js';
import type { Knobs } from '../core/decision.js';

const MiB = 1024 * 1024;

export type { Knobs } from '../core/decision.js';

/** Clock scale factors 0..1 set by the OS's thermal governor (research/03 §6.5 s_core, s_mem). */
export interface ClockScale {
  core: number;
  mem: number;
}

/** Share of the weights not read per token (embedding table only partly touched, research/03 §6.2). */
const EMBED_UNREAD = 0.08;

function threadsOf(device: DeviceModel, knobs: Knobs): number {
  return Math.max(1, Math.min(knobs.threads ?? device.compute.bigCores, device.compute.bigCores));
}

export interface DecodeRate {
  /** Effective tok/s including pacing. */
  tokS: number;
  /** Fraction of the time the compute units are busy (pacing idles them). */
  busy: number;
  /** DRAM traffic, GB/s. */
  bandwidthGBs: number;
}

/** research/03 §6.2: t_tok = max(t_mem, t_comp) + t_fix, plus the pacing pause. */
export function decodeRate(device: DeviceModel, model: SimModel, knobs: Knobs, contextPos: number, clock: ClockScale): DecodeRate {
  const c = device.compute;
  const weights = model.quant(knobs.quant).weightsBytes * (1 - EMBED_UNREAD);
  const kv = model.spec.kvBytesPerToken * Math.min(contextPos, knobs.contextLength);
  const bytes = weights + kv;
  const tMem = bytes / (c.bandwidthEfficiency * c.memBandwidthGBs * 1e9 * clock.mem);
  const sThreads = Math.min(1, threadsOf(device, knobs) / c.saturationThreads);
  const qs = c.quantSpeed[knobs.quant]?.decode ?? 1;
  const tComp = (2 * model.params) / (c.decodeTops * 1e12 * qs * clock.core * sThreads);
  const tTok = Math.max(tMem, tComp) + c.fixedMsPerToken / 1000;
  const period = tTok + Math.max(0, knobs.pacingMs) / 1000;
  return { tokS: 1 / period, busy: tTok / period, bandwidthGBs: bytes / period / 1e9 };
}

/** research/03 §6.3: prefill tok/s ∝ effective ops × clock, η(ub) = ub/(ub + 32) normalised to ub 512. */
export function prefillRate(device: DeviceModel, model: SimModel, knobs: Knobs, clock: ClockScale): number {
  const c = device.compute;
  const ub = Math.max(1, knobs.batchSize);
  const etaUb = (ub / (ub + 32)) / (512 / 544);
  const sThreads = threadsOf(device, knobs) / c.bigCores;
  const qs = c.quantSpeed[knobs.quant]?.prefill ?? 1;
  return (c.prefillTops * 1e12 * qs * clock.core * sThreads * etaUb) / (2 * model.params);
}

export interface Activity {
  /** Model resident (idle SoC power applies). */
  loaded: boolean;
  /** Compute busy fraction over the interval (decode busy, prefill, reload all count). */
  busy: number;
  /** Thread share of the big cores while busy. */
  threadShare: number;
  bandwidthGBs: number;
  /** Fraction of the interval streaming from the cloud. */
  radio: number;
}

export interface PowerSplit {
  socW: number;
  boardW: number;
  skinW: number;
}

/** research/03 §6.4 and research/05 §5: P = base + u·(P_stat + P_dyn·s^α) + k_dram·BW + leakage(T). */
export function powerOf(device: DeviceModel, a: Activity, clock: ClockScale, socTempC: number): PowerSplit {
  const p = device.power;
  const leak = p.leakageW * Math.exp(p.leakageBeta * (socTempC - 25));
  const compute = a.busy * (p.staticW + p.dynamicW * a.threadShare * Math.pow(clock.core, p.alpha));
  return {
    socW: (a.loaded ? p.socIdleW : 0) + compute + leak,
    boardW: p.boardW + p.dramWPerGBs * a.bandwidthGBs,
    skinW: p.baseW + p.radioW * a.radio,
  };
}

export function threadShare(device: DeviceModel, knobs: Knobs): number {
  return threadsOf(device, knobs) / device.compute.bigCores;
}

/** research/03 §6.1: weights + KV(n_ctx) + compute buffer (∝ batch) + runtime overhead, in MiB. */
export function footprintMb(model: SimModel, knobs: Knobs): number {
  const s = model.spec;
  const bytes = model.quant(knobs.quant).weightsBytes + s.kvBytesPerToken * knobs.contextLength
    + s.batchBytesPerToken * knobs.batchSize + s.overheadBytes;
  return bytes / MiB;
}
