/**
 * /proc/meminfo and /proc/vmstat by key, tolerant of schema drift (research 02 §2, §8 case 15):
 * keys are looked up by name, `kB` is KiB, HugePages_* have no unit, vendor keys are ignored,
 * MemAvailable may be absent (< 3.14), and vmstat renamed workingset_refault → _file in 5.9.
 */
export function parseMeminfoKiB(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export interface MemReading {
  availMiB?: number;
  totalMiB?: number;
  /** Set when MemAvailable was estimated rather than read. */
  estimated?: string;
}

export function memFromMeminfo(text: string): MemReading {
  const kv = parseMeminfoKiB(text);
  const total = kv.get('MemTotal');
  let avail = kv.get('MemAvailable');
  let estimated: string | undefined;
  if (avail === undefined) {
    const free = kv.get('MemFree');
    if (free !== undefined) {
      // Pre-3.14 kernels: the classic free+buffers+cached approximation (an upper bound).
      avail = free + (kv.get('Buffers') ?? 0) + (kv.get('Cached') ?? 0);
      estimated = 'MemAvailable absent (kernel < 3.14); estimated as MemFree+Buffers+Cached';
    }
  }
  const r: MemReading = {};
  if (total !== undefined && total > 0) r.totalMiB = Math.round((total / 1024) * 10) / 10;
  if (avail !== undefined) r.availMiB = Math.round((avail / 1024) * 10) / 10;
  if (estimated) r.estimated = estimated;
  return r;
}

export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v);
  }
  return out;
}

/**
 * The lmkd-style thrashing estimate used when PSI is absent: file refaults per second as a
 * percentage of the file LRU (research 02 §1.3, §2.4). Counter decreases (wrap on 32-bit,
 * reboot-in-container) reset the baseline instead of producing a negative rate.
 */
export class VmstatPressure {
  private last?: { tMs: number; refault: number; pgscanDirect: number };

  update(tMs: number, vm: Map<string, number>): { thrashPct?: number; directReclaim?: boolean } {
    const refault = vm.get('workingset_refault_file') ?? vm.get('workingset_refault');
    const lru = (vm.get('nr_inactive_file') ?? 0) + (vm.get('nr_active_file') ?? 0);
    const pgscanDirect = vm.get('pgscan_direct') ?? 0;
    if (refault === undefined) return {};
    const prev = this.last;
    this.last = { tMs, refault, pgscanDirect };
    if (!prev || tMs <= prev.tMs || refault < prev.refault || pgscanDirect < prev.pgscanDirect) return {};
    const perSec = ((refault - prev.refault) * 1000) / (tMs - prev.tMs);
    return {
      thrashPct: Math.round(((perSec * 100) / (lru + 1)) * 100) / 100,
      directReclaim: pgscanDirect > prev.pgscanDirect,
    };
  }
}
