/** Small synchronous helpers for discovery (start-up and periodic rescans, not the hot path). */
import * as fs from 'node:fs';

export type TextResult = { ok: true; text: string } | { ok: false; code: string; reason: string };

/**
 * Reads a small attribute without ever blocking on a FIFO or device node: anything that is not
 * a regular file is refused before it is opened (a wedged I2C read is modelled by a FIFO).
 */
export function readAttr(path: string): TextResult {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, code, reason: code === 'ENOENT' ? 'absent' : code };
  }
  if (!st.isFile()) return { ok: false, code: 'ESPIPE', reason: 'not a regular file (a read could block)' };
  try {
    return { ok: true, text: fs.readFileSync(path, 'latin1') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, code, reason: code };
  }
}

export function readTrimmed(path: string): string | undefined {
  const r = readAttr(path);
  return r.ok ? r.text.replace(/\0/g, '').trim() : undefined;
}

/** Regular file → 'file'; FIFO/char device etc. → 'special'; missing → 'absent'. */
export function fileKind(path: string): 'file' | 'special' | 'absent' {
  try {
    return fs.statSync(path).isFile() ? 'file' : 'special';
  } catch {
    return 'absent';
  }
}

export function listDir(path: string): string[] {
  try {
    return fs.readdirSync(path);
  } catch {
    return [];
  }
}

export function realpathOr(path: string): string {
  try {
    return fs.realpathSync(path);
  } catch {
    return path;
  }
}

/** Natural order for `thermal_zone10` after `thermal_zone9`. */
export function byTrailingNumber(a: string, b: string): number {
  const na = Number(/(\d+)$/.exec(a)?.[1] ?? NaN);
  const nb = Number(/(\d+)$/.exec(b)?.[1] ?? NaN);
  return Number.isNaN(na) || Number.isNaN(nb) || na === nb ? a.localeCompare(b) : na - nb;
}
