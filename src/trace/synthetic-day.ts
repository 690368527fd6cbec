/**
 * A synthetic day of a phone at 10 Hz, for the replay benchmark and the bounded-memory test:
 * load cycles every ~20 min, a slow battery drain, memory swings and short PSI bursts.
 * Deterministic (no randomness), so both always measure the same file.
 */
import { createTraceWriter } from './writer.js';

export const SYNTHETIC_DAY_COLUMNS = [
  't_ms', 'zone.cpu-0', 'zone.gpu-0', 'skin_c', 'battery_c', 'battery_w', 'battery_pct', 'charging',
  'mem_avail_mb', 'mem_total_mb', 'psi_mem_some_avg10', 'tok_s',
];

/** 24 h at 10 Hz. */
export const SYNTHETIC_DAY_ROWS = 864_000;

/**
 * Writes `rows` samples `periodMs` apart (100 ms: 864,000 rows make a day) to `path` (CSV or JSONL
 * by extension). The day's shape is a function of time, so a slower rate samples the same day.
 */
export async function writeSyntheticDay(path: string, rows = SYNTHETIC_DAY_ROWS, periodMs = 100): Promise<void> {
  const w = createTraceWriter(path, SYNTHETIC_DAY_COLUMNS);
  for (let j = 0; j < rows; j++) {
    // Time in 100 ms steps: the day's curves are written in those.
    const i = (j * periodMs) / 100;
    const load = 0.5 + 0.5 * Math.sin(i / 2000);
    const soc = Math.round((45 + 40 * load + ((i * 7919) % 13) / 10) * 10) / 10;
    w.write({
      t_ms: j * periodMs,
      'zone.cpu-0': soc,
      'zone.gpu-0': Math.round((soc - 3) * 10) / 10,
      skin_c: Math.round((33 + 9 * load) * 100) / 100,
      battery_c: Math.round((31 + 6 * load) * 10) / 10,
      battery_w: Math.round((1 + 5 * load) * 100) / 100,
      battery_pct: Math.max(5, 100 - Math.floor(i / 9000)),
      charging: 0,
      mem_avail_mb: 2500 + ((i * 31) % 1500),
      mem_total_mb: 7680,
      psi_mem_some_avg10: i % 600 < 5 ? 12 : 0,
      tok_s: Math.round((14 - 6 * load) * 10) / 10,
    });
  }
  await w.close();
}
