/**
 * Tolerant parser for the PSI text format (`some avg10=… avg60=… avg300=… total=…`):
 * first token is the line kind, then k=v pairs; unknown keys are ignored, a missing `full`
 * line is fine (cpu before 5.13), and `irq` may have only `full` (research 02 §1.1, §8 case 5).
 */
export interface PsiLine {
  readonly avg10: number | undefined;
  readonly avg60: number | undefined;
  readonly avg300: number | undefined;
  readonly totalUs: number | undefined;
}

export interface PsiText {
  readonly some?: PsiLine;
  readonly full?: PsiLine;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]+(\.[0-9]+)?$/.test(v)) return undefined;
  return Number(v);
}

export function parsePsi(text: string): PsiText {
  const out: { some?: PsiLine; full?: PsiLine } = {};
  for (const raw of text.split('\n')) {
    const parts = raw.trim().split(/\s+/);
    const kind = parts[0];
    if (kind !== 'some' && kind !== 'full') continue;
    const kv: Record<string, string> = {};
    for (const p of parts.slice(1)) {
      const eq = p.indexOf('=');
      if (eq > 0) kv[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const avg = (k: string) => {
      const n = num(kv[k]);
      return n !== undefined && n <= 100 ? n : undefined;
    };
    out[kind] = { avg10: avg('avg10'), avg60: avg('avg60'), avg300: avg('avg300'), totalUs: num(kv.total) };
  }
  return out;
}
