/**
 * Glob patterns over thermal-zone types (`cpu*`, `gpu?-0`). Compiled to anchored RegExps
 * once per policy; matching against a zone key happens once per key, never per sample.
 */

const ZONE_KEY_PREFIX = 'zone.';

/** The zone type a pattern is about: policies may write `cpu*` or `zone.cpu*`. */
export function zonePatternBody(pattern: string): string {
  return pattern.startsWith(ZONE_KEY_PREFIX) ? pattern.slice(ZONE_KEY_PREFIX.length) : pattern;
}

/** `*` = any run of characters, `?` = exactly one; everything else literal. */
export function compileGlob(pattern: string): RegExp {
  let src = '^';
  for (const ch of zonePatternBody(pattern)) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(src + '$');
}

/** True when `key` is a raw zone reading (`zone.<type>`); returns the type or undefined. */
export function zoneTypeOf(key: string): string | undefined {
  return key.startsWith(ZONE_KEY_PREFIX) ? key.slice(ZONE_KEY_PREFIX.length) : undefined;
}
