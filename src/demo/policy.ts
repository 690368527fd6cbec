/**
 * The demo's policy: the shipped `policies/synthetic.yaml`, with one change a fast-forwarded
 * device needs. A sensor's `maxSlew` is the fastest believable change per second of DEVICE
 * time; with the device's physics `speed` times faster than wall time (the daemon's clock),
 * real readings move `speed` times faster per wall second, so the limits are scaled by the
 * speed. Nothing else changes: thresholds, tiers, dwell and lease are the shipped ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument, isMap, isScalar } from 'yaml';

export function speedAdaptedPolicy(sourcePath: string, speed: number): { text: string; scaled: string[] } {
  const src = readFileSync(sourcePath, 'utf8');
  const doc = parseDocument(src);
  const scaled: string[] = [];
  const sensors = doc.get('sensors');
  if (speed !== 1 && isMap(sensors)) {
    for (const item of sensors.items) {
      const cfg = item.value;
      if (!isMap(cfg)) continue;
      const node = cfg.get('maxSlew', true);
      if (!isScalar(node) || typeof node.value !== 'string') continue;
      const m = /^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z%]+)\s*\/\s*(s|min)\s*$/.exec(node.value);
      if (!m) continue;
      const next = `${Number((Number(m[1]) * speed).toPrecision(6))}${m[2]}/${m[3]}`;
      scaled.push(`${String((item.key as { value?: unknown })?.value ?? item.key)} ${node.value} → ${next}`);
      node.value = next;
      node.comment = ` ×${speed}: edgegov demo runs the device ${speed}× faster than wall time`;
    }
  }
  const header = `# Written by edgegov demo from ${sourcePath}: maxSlew limits ×${speed} for the device's ${speed}× clock;\n# everything else as shipped.\n`;
  return { text: header + doc.toString(), scaled };
}

export function writeSpeedAdaptedPolicy(sourcePath: string, speed: number, outPath: string): string[] {
  const { text, scaled } = speedAdaptedPolicy(sourcePath, speed);
  writeFileSync(outPath, text);
  return scaled;
}
