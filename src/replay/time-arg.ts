/**
 * `--from` / `--to` values: a bare number is seconds (what a tester reads off a plot);
 * otherwise a number with `ms`, `s`, `min` or `h`. Anything else is a user error naming
 * the flag, never a silent NaN window.
 */
import { UserError } from '../util/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

export function parseTimeArg(flag: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value).trim();
  const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*([a-z]*)$/i.exec(text);
  if (m) {
    const num = Number(m[1] + (m[2] !== undefined ? `e${m[2]}` : ''));
    const unit = m[3].toLowerCase();
    const scale = unit === '' ? 1000 : UNIT_MS[unit];
    if (scale !== undefined && Number.isFinite(num)) return num * scale;
  }
  throw new UserError(`--${flag}: '${text}' is not a time; use seconds (90) or a number with ms, s, min or h (10min)`);
}
