// Mutations of real inputs (corpus entries) as a fast-check arbitrary: byte flips, inserted
// tokens that parsers treat specially, deleted / duplicated / spliced ranges, swapped lines,
// numbers replaced by edge values, truncation. Output length is capped so a mutation can never
// itself be the unbounded allocation.
import fc from 'fast-check';

/** Tokens that mean something to YAML, JSON, CSV, the --map language or HTTP bodies. */
export const DICTIONARY = [
  ':', ': ', '- ', '-', '{', '}', '[', ']', '"', "'", ',', '#', '\n', '\r\n', '\r', '\t', ' ', '=', '*', '?', '(', ')', '+', '/',
  '&a ', '*a', '<<: *a', '!!binary ', '!!js/function ', '? ', '|', '>', '%YAML 1.2\n', '---\n', '...\n', '~', 'null', 'true', 'false',
  '0', '-0', '1e309', '-1e309', 'NaN', 'nan', '.inf', 'Infinity', '0x10', '1_000', '9'.repeat(400), '1e-400', '4.5W', '45C', '300MiB', '2s',
  '\u0000', '\ufeff', '\ud83d\ude00', '\ud800', '\u2028', '\uFFFD', 'é', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  '"op"', '"id"', '"version"', 'max(', 'min(', 'avg(', 'time_s(', 'elapsed(', 'abs(', 'round(', 'zone.', 't_ms', 'soc_c', '*_c',
  '"role"', '"content"', '"messages"', '"max_tokens"', '"stream"', '[]', '{}', '""', '\\', '\\u0000', '\\ud800', 'Sensors', 'HotThreshold',
];
const EDGE_NUMBERS = ['0', '-1', '1e309', '-0', '2147483648', '9007199254740993', '1e-320', 'NaN', '0.0000001', '99999999999999999999', '-273.15', '1.5e3'];

const MAX_CHARS = 256 * 1024;

const mutation = fc.oneof(
  fc.record({ k: fc.constant('flip'), at: fc.double({ min: 0, max: 1, noNaN: true }), code: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ k: fc.constant('insert'), at: fc.double({ min: 0, max: 1, noNaN: true }), tok: fc.constantFrom(...DICTIONARY) }),
  fc.record({ k: fc.constant('delete'), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('dup'), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 256 }), times: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('splice'), at: fc.double({ min: 0, max: 1, noNaN: true }), from: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.integer({ min: 1, max: 512 }) }),
  fc.record({ k: fc.constant('swapLines'), a: fc.nat(), b: fc.nat() }),
  fc.record({ k: fc.constant('number'), nth: fc.nat(), to: fc.constantFrom(...EDGE_NUMBERS) }),
  fc.record({ k: fc.constant('truncate'), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ k: fc.constant('random'), at: fc.double({ min: 0, max: 1, noNaN: true }), text: fc.string({ unit: 'binary', maxLength: 16 }) }),
);

const pos = (s, at) => Math.min(s.length, Math.floor(at * (s.length + 1)));

function apply(s, m, other) {
  switch (m.k) {
    case 'flip': {
      const i = pos(s, m.at);
      return s.slice(0, i) + String.fromCharCode(m.code) + s.slice(i + 1);
    }
    case 'insert': {
      const i = pos(s, m.at);
      return s.slice(0, i) + m.tok + s.slice(i);
    }
    case 'delete': {
      const i = pos(s, m.at);
      return s.slice(0, i) + s.slice(i + m.len);
    }
    case 'dup': {
      const i = pos(s, m.at);
      return s.slice(0, i) + s.slice(i, i + m.len).repeat(m.times) + s.slice(i);
    }
    case 'splice': {
      const i = pos(s, m.at);
      const j = pos(other, m.from);
      return s.slice(0, i) + other.slice(j, j + m.len) + s.slice(i);
    }
    case 'swapLines': {
      const lines = s.split('\n');
      if (lines.length < 2) return s;
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join('\n');
    }
    case 'number': {
      let n = 0;
      const count = (s.match(/-?\d+(\.\d+)?/g) ?? []).length;
      if (!count) return s;
      const want = m.nth % count;
      return s.replace(/-?\d+(\.\d+)?/g, (x) => (n++ === want ? m.to : x));
    }
    case 'truncate':
      return s.slice(0, pos(s, m.at));
    case 'random': {
      const i = pos(s, m.at);
      return s.slice(0, i) + m.text + s.slice(i);
    }
  }
  return s;
}

/** A corpus entry with 1..maxMutations mutations applied (sometimes none: the seed itself must pass). */
export function mutatedFrom(corpus, maxMutations = 8) {
  if (!corpus.length) throw new Error('empty corpus');
  return fc
    .tuple(fc.nat({ max: corpus.length - 1 }), fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 0, maxLength: maxMutations }))
    .map(([i, j, muts]) => {
      let s = corpus[i];
      for (const m of muts) {
        s = apply(s, m, corpus[j]);
        if (s.length > MAX_CHARS) s = s.slice(0, MAX_CHARS);
      }
      return s;
    });
}
