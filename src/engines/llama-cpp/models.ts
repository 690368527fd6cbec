/**
 * Which GGUF file is a quant tier: `manifest.json` written by `model synth` (quant → file),
 * or else any `*-<quant>.gguf` / `*.<quant>.gguf` file in the models directory.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { EnvError } from '../../util/errors.js';
import { MANIFEST_FILE, type SynthManifest } from '../../model/synth.js';

export interface ModelFile {
  quant: string;
  path: string;
  bytes: number;
}

export function listModelFiles(modelsDir: string): ModelFile[] {
  let names: string[];
  try {
    names = readdirSync(modelsDir);
  } catch {
    throw new EnvError(`${modelsDir}: models directory not found or not readable`);
  }
  const byQuant = new Map<string, ModelFile>();
  if (names.includes(MANIFEST_FILE)) {
    try {
      const m = JSON.parse(readFileSync(join(modelsDir, MANIFEST_FILE), 'utf8')) as SynthManifest;
      for (const f of m.files ?? []) {
        // Only plain names inside the directory: the manifest must not lead serve elsewhere.
        if (typeof f.file !== 'string' || !insideDir(f.file)) {
          throw new EnvError(`${join(modelsDir, MANIFEST_FILE)}: file ${JSON.stringify(f.file)} is not a file inside the models directory`);
        }
        if (typeof f.quant !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(f.quant)) {
          throw new EnvError(`${join(modelsDir, MANIFEST_FILE)}: quant ${JSON.stringify(f.quant)} is not a plain quant name`);
        }
        const path = join(modelsDir, f.file);
        try {
          byQuant.set(f.quant.toLowerCase(), { quant: f.quant.toLowerCase(), path, bytes: statSync(path).size });
        } catch { /* listed but missing: the suffix scan below may still find one */ }
      }
    } catch (err) {
      if (err instanceof EnvError) throw err;
      throw new EnvError(`${join(modelsDir, MANIFEST_FILE)}: not a valid manifest (JSON with a files list)`);
    }
  }
  for (const name of names.sort()) {
    const m = /[-.]([a-z0-9_]+)\.gguf$/i.exec(name);
    if (!m) continue;
    const quant = m[1]!.toLowerCase();
    if (byQuant.has(quant)) continue;
    const path = join(modelsDir, name);
    byQuant.set(quant, { quant, path, bytes: statSync(path).size });
  }
  return [...byQuant.values()];
}

/** A relative path that stays inside its directory (no absolute path, no `..` out of it). */
function insideDir(rel: string): boolean {
  if (!rel || isAbsolute(rel) || rel.includes('\0')) return false;
  const n = normalize(rel);
  return n !== '..' && !n.startsWith(`..${sep}`) && n !== '.';
}

export function resolveModelFile(modelsDir: string, quant: string): ModelFile {
  const files = listModelFiles(modelsDir);
  const hit = files.find((f) => f.quant === quant.toLowerCase());
  if (!hit) {
    throw new EnvError(
      `${modelsDir}: no model file for quant '${quant}' (found: ${files.map((f) => f.quant).join(', ') || 'none'}); ` +
      `run 'edgegov model synth --out ${modelsDir} --quants ${quant}' or add a *-${quant}.gguf file`,
    );
  }
  return hit;
}
