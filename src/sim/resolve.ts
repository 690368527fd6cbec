/** Which policy a device runs by default, and loading the named devices/scenarios for the CLI. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceModel } from './device.js';
import { repoRoot } from './device.js';

export const policiesDir = join(repoRoot, 'policies');

/** The device's class policy (`policies/<device.policy ?? device.name>.yaml`), else the default policy. */
export function defaultPolicyPath(device: DeviceModel): string {
  const p = join(policiesDir, `${device.policy ?? device.name}.yaml`);
  return existsSync(p) ? p : join(policiesDir, 'default.yaml');
}

/** Split comma-separated and repeated option values: `--devices a,b --devices c`. */
export function listArg(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  return all.flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x.length > 0);
}
