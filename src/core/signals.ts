/** Canonical signal names (SPEC §3) and the unit each one carries. */
export const CANONICAL_SIGNALS = {
  t_ms: 'ms',
  soc_c: 'C',
  skin_c: 'C',
  battery_c: 'C',
  battery_w: 'W',
  battery_pct: '%',
  charging: 'bool',
  mem_avail_mb: 'MiB',
  mem_total_mb: 'MiB',
  psi_mem_some_avg10: '%',
  psi_mem_full_avg10: '%',
  tok_s: 'tok/s',
  /**
   * The footprint of the knobs the engine has APPLIED (not merely been told), MiB, by the policy's
   * memory model; fed by the daemon from the engine's `report` (docs/protocol.md). The core counts
   * it as held while a decided shrink waits for the engine (docs/core.md §4).
   */
  engine_mb: 'MiB',
  /** Prompt-processing speed of the engine's last prompt, tok/s (from its reports; calibrates the speed model, docs/core.md §6). */
  prefill_tok_s: 'tok/s',
  /**
   * Tokens of context the request in flight (or the last one) needed: its prompt and the
   * conversation so far (from `advise`, the gateway, the engine). The value model sizes the
   * context for it (docs/core.md §6).
   */
  req_ctx_tokens: 'tokens',
  ambient_c: 'C',
} as const;

export type CanonicalSignal = keyof typeof CANONICAL_SIGNALS;
export type SignalUnit = (typeof CANONICAL_SIGNALS)[CanonicalSignal];

/** Raw thermal-zone readings travel as `zone.<type>` in °C. */
export const ZONE_PREFIX = 'zone.';

/**
 * One sample: time plus any subset of signals. A signal that is absent, `undefined`
 * or NaN means "no reading" — never zero.
 */
export interface Sample {
  readonly t_ms: number;
  readonly [signal: string]: number | undefined;
}

export function isCanonicalSignal(name: string): name is CanonicalSignal {
  return Object.prototype.hasOwnProperty.call(CANONICAL_SIGNALS, name);
}

/** The unit a signal is measured in, or undefined for names we do not know. */
export function unitOfSignal(name: string): string | undefined {
  if (isCanonicalSignal(name)) return CANONICAL_SIGNALS[name];
  if (name.startsWith(ZONE_PREFIX)) return 'C';
  return undefined;
}

/** A reading is present when it is a finite number. */
export function hasReading(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}
