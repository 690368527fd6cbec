/**
 * YAML lets a mapping or a list be a key (`? [a, b]: 1`, or an alias to a mapping). No edgegov
 * file has one, and building such a document stringifies each key's subtree into its parent's
 * key: nested `? ` keys or chained alias keys grow exponentially (fuzzing found 40 nested `? `
 * taking the heap past 384 MB). Every YAML reader refuses them before building the data.
 */
import { isAlias, isScalar, visit, type Document } from 'yaml';

export const COMPLEX_KEY_MESSAGE = 'a mapping key must be a plain name, not a mapping or a list (a "? " complex key)';

/** Offset of the first non-scalar key in `doc` (aliases resolved), or -1 when there is none. */
export function complexKeyOffset(doc: Document): number {
  let at = -1;
  visit(doc, {
    Pair(_, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (key !== null && key !== undefined && !isScalar(key)) {
        at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return at;
}
