/**
 * From a raw thermal reading to °C, with the plausibility rules of research 02 §4.2 / §8 case 7:
 *  - sentinels (-127000 MediaTek PA off, -273000, 0, INT_MAX) are "no reading", never a value;
 *  - the unit is per zone: m°C almost everywhere, but old Qualcomm kernels mix °C and d°C in
 *    one device, so a zone's scale is inferred from its first plausible reading and kept;
 *  - a reading outside −30…150 °C is implausible;
 *  - a jump larger than the slew limit is held back once and accepted only if it persists.
 */
export const PLAUSIBLE_MIN_C = -30;
export const PLAUSIBLE_MAX_C = 150;
/** Larger than any real die step between two reads (throttled dies move < 10 °C/100 ms). */
export const MAX_SLEW_C = 25;

const SENTINELS = new Set([-127000, -273000, -274000, 2147483647, -2147483648, 0]);

export type Scale = 1000 | 100 | 10 | 1;

export interface ZoneTempState {
  scale?: Scale;
  lastC?: number;
  /** A jump held back for confirmation. */
  pendingC?: number;
}

export type TempVerdict =
  | { ok: true; tempC: number }
  | { ok: false; reason: string };

/** Picks the scale that makes `raw` a plausible temperature, preferring m°C. */
export function inferScale(raw: number): Scale | undefined {
  const abs = Math.abs(raw);
  // m°C covers every modern kernel; |raw| ≥ 1000 can only be m°C (1000 °C in °C/d°C is absurd).
  if (abs >= 1000) return raw / 1000 >= PLAUSIBLE_MIN_C && raw / 1000 <= PLAUSIBLE_MAX_C ? 1000 : undefined;
  // 200…999: deci-°C (msm8953's "309" = 30.9 °C); 200 m°C = 0.2 °C is not a running device.
  if (abs >= 200) return 10;
  // Small magnitudes are whole °C (msm8953's "-40"?, "30").
  return raw >= PLAUSIBLE_MIN_C && raw <= PLAUSIBLE_MAX_C ? 1 : undefined;
}

export function toCelsius(raw: number, state: ZoneTempState): TempVerdict {
  if (!Number.isFinite(raw)) return { ok: false, reason: 'not a number' };
  if (SENTINELS.has(raw)) return { ok: false, reason: `sentinel value ${raw} (sensor off or absent)` };
  const scale = state.scale ?? inferScale(raw);
  if (scale === undefined) return { ok: false, reason: `implausible raw value ${raw}` };
  const c = Math.round((raw / scale) * 1000) / 1000;
  if (c < PLAUSIBLE_MIN_C || c > PLAUSIBLE_MAX_C) {
    return { ok: false, reason: `implausible ${c} °C (outside ${PLAUSIBLE_MIN_C}…${PLAUSIBLE_MAX_C})` };
  }
  state.scale = scale;
  if (state.lastC !== undefined && Math.abs(c - state.lastC) > MAX_SLEW_C) {
    // Accept the new level only when the next reading confirms it (within the slew limit).
    if (state.pendingC !== undefined && Math.abs(c - state.pendingC) <= MAX_SLEW_C) {
      state.pendingC = undefined;
      state.lastC = c;
      return { ok: true, tempC: c };
    }
    state.pendingC = c;
    return { ok: false, reason: `implausible jump ${state.lastC} → ${c} °C (held for confirmation)` };
  }
  state.pendingC = undefined;
  state.lastC = c;
  return { ok: true, tempC: c };
}
