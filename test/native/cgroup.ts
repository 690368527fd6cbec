/**
 * A memory-limited cgroup for real PSI tests, or the precise reason there cannot be one.
 * Works on pure cgroup v2 (memory controller in the v2 tree) and on hybrid hosts where memory
 * is a v1 controller and PSI lives in the v2 `unified` tree (research 02 §1.1).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemCgroup {
  /** The memory.pressure file whose triggers see this group's stalls. */
  readonly pressurePath: string;
  /** Shell prefix that moves `$$` into the group(s). */
  readonly enterScript: string;
  remove(): void;
}

export function makeMemoryCgroup(limitBytes: number): { cg?: MemCgroup; why?: string } {
  if (process.getuid?.() !== 0) return { why: 'not root: cannot create cgroups' };
  const name = `edgegov-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const v2root = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((p) => existsSync(join(p, 'cgroup.procs')) && existsSync(join(p, 'memory.pressure')) || existsSync(join(p, 'cgroup.controllers')));
  if (!v2root) return { why: 'no cgroup v2 hierarchy mounted (PSI per cgroup needs v2)' };
  const controllers = readFileSync(join(v2root, 'cgroup.controllers'), 'utf8');
  const dirs: string[] = [];
  try {
    if (/\bmemory\b/.test(controllers)) {
      // Pure v2: one group carries both the limit and the pressure file.
      const sub = readFileSync(join(v2root, 'cgroup.subtree_control'), 'utf8');
      if (!/\bmemory\b/.test(sub)) writeFileSync(join(v2root, 'cgroup.subtree_control'), '+memory');
      const g = join(v2root, name);
      mkdirSync(g);
      dirs.push(g);
      writeFileSync(join(g, 'memory.max'), String(limitBytes));
      writeFileSync(join(g, 'memory.swap.max'), '0');
      return { cg: make(join(g, 'memory.pressure'), [g], dirs) };
    }
    const v1 = '/sys/fs/cgroup/memory';
    if (!existsSync(join(v1, 'memory.limit_in_bytes'))) return { why: 'memory controller in neither the v2 tree nor a v1 hierarchy' };
    const g1 = join(v1, name);
    const g2 = join(v2root, name);
    mkdirSync(g1);
    dirs.push(g1);
    mkdirSync(g2);
    dirs.push(g2);
    writeFileSync(join(g1, 'memory.limit_in_bytes'), String(limitBytes));
    if (!existsSync(join(g2, 'memory.pressure'))) throw new Error(`${g2}/memory.pressure absent (PSI off?)`);
    return { cg: make(join(g2, 'memory.pressure'), [g1, g2], dirs) };
  } catch (err) {
    for (const d of dirs.reverse()) try { rmdirSync(d); } catch { /* best effort */ }
    return { why: `cannot set up a memory cgroup: ${(err as Error).message}` };
  }
}

function make(pressurePath: string, groups: string[], dirs: string[]): MemCgroup {
  return {
    pressurePath,
    enterScript: groups.map((g) => `echo $$ > ${g}/cgroup.procs`).join('; '),
    remove() {
      // rmdir fails while a task is still inside; the caller kills its children first.
      for (const d of [...dirs].reverse()) {
        for (let i = 0; i < 250; i++) {
          try {
            rmdirSync(d);
            break;
          } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          }
        }
      }
    },
  };
}
