/**
 * The integer rule shared by every binding, identical to native/reader.cc's ParseInt:
 * trailing newline/space/tab/CR/NUL and leading space/tab are trimmed, an optional sign,
 * decimal digits only, within int64. Anything else is "not a number" (EBADMSG).
 */
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function parseKernelInt(text: string): number | undefined {
  const t = text.replace(/[\n \t\r\0]+$/, '').replace(/^[ \t]+/, '');
  if (t.length === 0 || t.length >= 64 || !/^[+-]?[0-9]+$/.test(t)) return undefined;
  const n = Number(t);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(t);
  return big > INT64_MAX || big < INT64_MIN ? undefined : Number(big);
}
