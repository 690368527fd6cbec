/**
 * The demo's models: the synthetic GGUFs of `model synth`, written once per (size, seed) under
 * the data directory and reused afterwards. A half-written set never counts: models are
 * written into a scratch directory and renamed into place, and a set is reused only when its
 * manifest lists every file with the size on disk.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_FILE, synthesizeModels, type SynthManifest } from '../model/synth.js';

/** `$EDGEGOV_DATA_DIR`, else `$XDG_CACHE_HOME/edgegov`, else `~/.cache/edgegov`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EDGEGOV_DATA_DIR) return env.EDGEGOV_DATA_DIR;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'edgegov');
}

export const DEMO_QUANTS = ['f16', 'q8_0', 'q4_0'] as const;

function usableSet(dir: string): SynthManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as SynthManifest;
    const quants = new Set(m.files.map((f) => f.quant));
    if (!DEMO_QUANTS.every((q) => quants.has(q))) return undefined;
    for (const f of m.files) if (statSync(join(dir, f.file)).size !== f.bytes) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

export interface DemoModels {
  dir: string;
  reused: boolean;
  manifest: SynthManifest;
}

export async function ensureModels(dataDir: string, params: number, label: string, seed: number): Promise<DemoModels> {
  const dir = join(dataDir, 'models', `synthetic-${label}-seed${seed}`);
  const have = usableSet(dir);
  if (have) return { dir, reused: true, manifest: have };
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  const scratch = `${dir}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  const { manifest } = await synthesizeModels({ outDir: scratch, params, quants: [...DEMO_QUANTS], seed, label });
  // Another demo may have finished the same set meanwhile: theirs is as good as ours.
  if (usableSet(dir)) rmSync(scratch, { recursive: true, force: true });
  else {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(scratch, dir);
  }
  return { dir, reused: false, manifest };
}
