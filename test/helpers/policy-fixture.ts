/**
 * A compiled policy built in memory (no YAML), for unit and property tests of the core,
 * simulator and daemon. Values follow a generic phone (see policies/default.yaml for
 * the sourced numbers). `overrides` replaces top-level sections.
 */
import type { Policy } from '../../src/policy/types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export function testPolicy(overrides: Partial<Policy> = {}): Policy {
  const base: Policy = {
    file: '<test-fixture>',
    name: 'test-phone',
    sensors: [
      { name: 'soc_c', min: -20, max: 130, critical: true, maxSlewPerS: 30,
        source: { kind: 'max', zones: ['cpu*', 'gpu*', 'soc*'] } },
      { name: 'skin_c', min: -20, max: 80, critical: true, maxSlewPerS: 5 },
      { name: 'battery_c', min: -20, max: 80, critical: false, maxSlewPerS: 5 },
      { name: 'battery_w', min: -40, max: 40, critical: false, maxSlewPerS: Infinity },
      { name: 'battery_pct', min: 0, max: 100, critical: false, maxSlewPerS: 5 },
      { name: 'mem_avail_mb', min: 0, max: 1_048_576, critical: false, maxSlewPerS: Infinity },
      { name: 'psi_mem_some_avg10', min: 0, max: 100, critical: false, maxSlewPerS: Infinity },
    ],
    limits: [
      { signal: 'soc_c', direction: 'rising', levels: [
        { severity: 'light', setAt: 65, clearAt: 62 },
        { severity: 'moderate', setAt: 75, clearAt: 72 },
        { severity: 'severe', setAt: 85, clearAt: 82 },
        { severity: 'critical', setAt: 95, clearAt: 92 },
        { severity: 'emergency', setAt: 105, clearAt: 102 },
        { severity: 'shutdown', setAt: 115, clearAt: 112 },
      ] },
      { signal: 'skin_c', direction: 'rising', levels: [
        { severity: 'light', setAt: 39, clearAt: 38 },
        { severity: 'moderate', setAt: 41, clearAt: 40 },
        { severity: 'severe', setAt: 43, clearAt: 42 },
        { severity: 'critical', setAt: 45, clearAt: 44 },
        { severity: 'emergency', setAt: 48, clearAt: 47 },
        { severity: 'shutdown', setAt: 55, clearAt: 54 },
      ] },
      { signal: 'battery_pct', direction: 'falling', levels: [
        { severity: 'light', setAt: 20, clearAt: 22 },
        { severity: 'moderate', setAt: 10, clearAt: 12 },
        { severity: 'severe', setAt: 5, clearAt: 7 },
      ] },
      { signal: 'mem_avail_mb', direction: 'falling', levels: [
        { severity: 'moderate', setAt: 800, clearAt: 1000 },
        { severity: 'severe', setAt: 400, clearAt: 500 },
        { severity: 'critical', setAt: 200, clearAt: 300 },
      ] },
      { signal: 'psi_mem_some_avg10', direction: 'rising', levels: [
        { severity: 'moderate', setAt: 10, clearAt: 5 },
        { severity: 'severe', setAt: 30, clearAt: 20 },
      ] },
    ],
    model: {
      name: 'llama-3.2-3b-instruct',
      kvBytesPerToken: 112 * 1024,
      overheadBytes: 300 * MiB,
      batchBytesPerToken: 0.5 * MiB,
      quants: [
        { name: 'q8_0', weightsBytes: 3.4 * GiB, qualityCost: 0.0004 },
        { name: 'q4_k_m', weightsBytes: 2.0 * GiB, qualityCost: 0.028 },
        { name: 'q3_k_m', weightsBytes: 1.6 * GiB, qualityCost: 0.105 },
      ],
    },
    tiers: [
      { name: 'full', index: 0, quant: 'q8_0', contextLength: 8192, batchSize: 512, threads: 6, pacingMs: 0 },
      { name: 'balanced', index: 1, quant: 'q4_k_m', contextLength: 4096, batchSize: 256, threads: 4, pacingMs: 0 },
      { name: 'lean', index: 2, quant: 'q4_k_m', contextLength: 2048, batchSize: 128, threads: 4, pacingMs: 20 },
      { name: 'minimal', index: 3, quant: 'q3_k_m', contextLength: 1024, batchSize: 64, threads: 2, pacingMs: 50 },
    ],
    rules: {
      severityCaps: { none: 'full', light: 'balanced', moderate: 'lean', severe: 'minimal' },
      offload: { cloudAllowed: true, cloudAtSeverity: 'critical', pauseAtSeverity: 'emergency', minLocalTokS: 5 },
      memory: { reserveMb: 300, onShortage: 'clamp-context', minContextLength: 512 },
      battery: { lowChargeCaps: [{ belowPct: 15, tier: 'lean' }] },
      qoe: { chatFirstTokenMs: 1000, documentFirstTokenMs: 5000, readTokS: 5.3 },
    },
    control: {
      samplePeriodMs: 500,
      dwellMs: 10_000,
      relaxStep: 1,
      maxEscalateStep: Infinity,
      forecastHorizonMs: 20_000,
      slopeWindowMs: 10_000,
      smoothingMs: 1_000,
      safeTier: 'minimal',
      leaseTtlMs: 3_000,
      holdMs: 5_000,
      stuckAfterMs: 120_000,
    },
  };
  return { ...base, ...overrides };
}
