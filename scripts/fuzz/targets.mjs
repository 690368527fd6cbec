// The fuzz targets: every parser a user's or a client's bytes reach, each with its corpus of
// real inputs and the contract it must keep under mutation:
//   - it returns, or throws its documented error type whose text names the place
//     (file:line[:col], the field, the message type) — never another exception, never a
//     non-Error, never a stack trace in the message;
//   - the harness (run.mjs) adds: never a hang (per-case time limit), never an unbounded
//     allocation (a worker heap cap).
// Imports the compiled modules from dist/ (npm run build), as the CLI runs them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (p) => import(path.join(root, 'dist', p));

const { parsePolicy } = await dist('policy/load.js');
const { TraceParser } = await dist('trace/reader.js');
const { compileMappings, CellError } = await dist('trace/expr.js');
const { parseRequest, ERROR_CODES } = await dist('ipc/protocol.js');
const { importPixelConfig } = await dist('policy/import-pixel.js');
const { parseChatRequest, RequestError } = await dist('serve/openai.js');
const { UserError } = await dist('util/errors.js');
const { writeSyntheticDay } = await dist('trace/synthetic-day.js');

/** A broken contract: what the harness reports (with the input). */
export class Violation extends Error {}

const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const listDir = (d, re) => (fs.existsSync(path.join(root, d)) ? fs.readdirSync(path.join(root, d)).filter((f) => re.test(f)).sort().map((f) => path.join(d, f)) : []);

function noStack(text, where) {
  if (typeof text !== 'string' || text.length === 0) throw new Violation(`${where}: empty or non-string message`);
  if (/\n\s+at .+[:(]\d+/.test(text) || /^\s+at .+\(.*:\d+:\d+\)$/m.test(text)) throw new Violation(`${where}: a stack trace in the message: ${text.slice(0, 200)}`);
}

/** The thrown value must be an instance of one of `types`; anything else breaks the contract. */
function expectError(err, types, where) {
  if (!(err instanceof Error)) throw new Violation(`${where}: threw a non-Error: ${String(err).slice(0, 200)}`);
  if (err instanceof Violation) throw err;
  if (!types.some((t) => err instanceof t)) throw new Violation(`${where}: unexpected ${err.name}: ${err.message.slice(0, 300)}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}`);
  noStack(err.message, where);
}

function expectUserError(err, file, where) {
  expectError(err, [UserError], where);
  const places = [err.message, ...(err.details ?? [])];
  for (const d of err.details ?? []) noStack(d, where);
  if (!places.some((t) => t.includes(file))) throw new Violation(`${where}: error does not name ${file}: ${places.join(' | ').slice(0, 300)}`);
}

// ---------- corpora (real inputs shipped in the repo; the real traces beside it when present) ----------

function policyCorpus() {
  const files = [
    ...listDir('policies', /\.ya?ml$/),
    ...listDir('test/fixtures/policies/valid', /\.ya?ml$/),
    ...listDir('test/fixtures/policies/invalid', /\.ya?ml$/),
    'test/fixtures/serve/policy.yaml',
  ];
  return files.map(read);
}

let traceCache;
async function traceCorpus() {
  if (traceCache) return traceCache;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-fuzz-'));
  try {
    await writeSyntheticDay(path.join(dir, 'd.csv'), 120);
    await writeSyntheticDay(path.join(dir, 'd.jsonl'), 60);
    const csv = fs.readFileSync(path.join(dir, 'd.csv'), 'utf8');
    const jsonl = fs.readFileSync(path.join(dir, 'd.jsonl'), 'utf8');
    traceCache = {
      csv: [
        csv,
        '# a comment\nt_ms,soc_c,skin_c,unknown_col\n0,40.5,33,1\n100,,33.1,x\n200,41,33.2,\n',
        't_ms,zone.cpu-0,battery_w\r\n0,50,2.5\r\n100,51,-1.5\r\n',
        csv.split('\n').slice(0, 5).join('\n'), // truncated last line
      ],
      jsonl: [jsonl, '{"t_ms":0,"soc_c":40}\n{"t_ms":100,"soc_c":null,"skin_c":33}\n', jsonl.split('\n').slice(0, 4).join('\n')],
    };
    return traceCache;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function mapCorpus() {
  const maps = new Set();
  for (const f of ['docs/traces.md', 'README.md']) {
    for (const m of read(f).matchAll(/--map '([^']*)'/g)) maps.add(m[1]);
  }
  maps.add('soc_c=max(T_gpuss-*_c, T_cpu-*_c) + 0.5*abs(T_x_c - 3)/2');
  maps.add('t_ms=elapsed(time_s(Timestamp))*1000');
  maps.add('zone.*="T_*_c"');
  return [...maps];
}
const MAP_COLUMNS = ['t_s', 'time', 'sec', 'Timestamp', 'timestamp', 'T_cpu-0_c', 'T_cpu-1_c', 'T_gpuss-0_c', 'T_battery_c', 'T_skin', 'Temp_C', 'clk', 'Battery_Perc', 'T_x_c', 'cpu frequency', 'temps.cpu0', 'temps.battery', 'run_avg_tok_s', 'tmp', 'temperature'];
const MAP_ROWS = [
  ['1.5', '12:00:01.5', '3', '2024-05-01T10:00:00Z', '2024-05-01 10:00:00.250+02:00', '45.5', '46', '50', '30', '33', '40', '1800', '80', '7', '2.4GHz', '44', '31', '12.5', '41', '42'],
  ['', 'x', '-1', 'not a time', '', 'NaN', '1e309', '', '', 'abc', '0', '-0', '', '', '', '', '', '', '', ''],
  [2, null, true, undefined, 0, -40, 120, 3.5, 1e300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
];

function protocolCorpus() {
  const lines = [];
  for (const m of read('docs/protocol.md').matchAll(/^(?:→|←) (\{.*\})$/gm)) lines.push(m[1]);
  // A recorded SDK session (EdgegovClient): what it sends on connect, advise, report, status.
  lines.push(
    '{"id":1,"op":"hello","version":1,"client":"edgegov-serve"}',
    '{"id":2,"op":"subscribe"}',
    '{"id":3,"op":"advise","promptTokens":12,"expectedOutputTokens":64,"private":true}',
    '{"id":4,"op":"report","applied":{"tier":"rich","quant":"f16","contextLength":2048,"batchSize":256},"tokS":9.5,"firstTokenMs":120}',
    '{"id":"s","op":"status"}', '{"op":"unsubscribe"}', '{"id":5,"op":"reload"}',
  );
  return lines;
}

function pixelCorpus() {
  return listDir('test/fixtures/pixel', /\.json$/).map(read);
}

function bodyCorpus() {
  return [
    '{"model":"edgegov","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}',
    '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"again"}],"stream":true,"temperature":0.7,"top_p":0.9,"stop":["\\n"]}',
    '{"model":"x","messages":[{"role":"user","content":[{"type":"text","text":"parts"}]}],"max_completion_tokens":8,"seed":1,"user":"u"}',
  ];
}

// ---------- targets ----------

function runTrace(input, format, mode) {
  const file = `fuzz.${format}`;
  const p = new TraceParser(file, { mode, format });
  const out = [];
  try {
    // Two chunks, split mid-text, as a file read would deliver them.
    const cut = Math.floor(input.length / 2);
    p.push(input.slice(0, cut), out);
    p.push(input.slice(cut), out);
    p.end(out);
  } catch (err) {
    expectUserError(err, file, `trace ${format} ${mode}`);
    for (const d of err.details ?? []) if (!new RegExp(`^fuzz\\.${format}:\\d+`).test(d)) throw new Violation(`trace ${format} ${mode}: detail without file:line: ${d.slice(0, 200)}`);
    return;
  }
  let lastT = -Infinity;
  for (const s of out) {
    for (const [k, v] of Object.entries(s)) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new Violation(`trace ${format} ${mode}: sample field ${k} is ${String(v)} (a non-number got through)`);
    }
    if (!(s.t_ms >= lastT)) throw new Violation(`trace ${format} ${mode}: time went backwards (${s.t_ms} after ${lastT}) and was accepted`);
    lastT = s.t_ms;
  }
}

export const TARGETS = {
  policy: {
    corpus: async () => policyCorpus(),
    run(input) {
      // parsePolicy reports problems; it must never throw at all.
      const r = parsePolicy(input, 'fuzz.yaml');
      for (const pr of r.problems) {
        if (pr.file !== 'fuzz.yaml' || !(pr.line >= 1) || !(pr.col >= 1)) throw new Violation(`policy: problem without a place: ${JSON.stringify(pr).slice(0, 300)}`);
        noStack(pr.message, 'policy');
      }
      if (!r.policy && r.problems.length === 0) throw new Violation('policy: neither a policy nor a problem');
    },
  },
  'trace-csv-strict': { corpus: async () => (await traceCorpus()).csv, run: (i) => runTrace(i, 'csv', 'strict') },
  'trace-csv-lenient': { corpus: async () => (await traceCorpus()).csv, run: (i) => runTrace(i, 'csv', 'lenient') },
  'trace-jsonl-strict': { corpus: async () => (await traceCorpus()).jsonl, run: (i) => runTrace(i, 'jsonl', 'strict') },
  'trace-jsonl-lenient': { corpus: async () => (await traceCorpus()).jsonl, run: (i) => runTrace(i, 'jsonl', 'lenient') },
  'convert-expr': {
    corpus: async () => mapCorpus(),
    run(input) {
      let maps;
      try {
        maps = compileMappings([input], MAP_COLUMNS);
      } catch (err) {
        expectUserError(err, '--map', 'convert-expr');
        return;
      }
      for (const row of MAP_ROWS) {
        for (const m of maps) {
          try {
            const v = m.evaluate(row);
            if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) throw new Violation(`convert-expr: '${input}' evaluated to ${String(v)}`);
          } catch (err) {
            // A non-numeric cell is reported by convert as file:line + column (CellError names the column).
            expectError(err, [CellError, UserError], 'convert-expr evaluate');
          }
        }
      }
    },
  },
  protocol: {
    corpus: async () => protocolCorpus(),
    run(input) {
      const r = parseRequest(input);
      if (r.ok) {
        if (typeof r.req.op !== 'string') throw new Violation('protocol: ok without an op');
        return;
      }
      if (!(r.code in ERROR_CODES)) throw new Violation(`protocol: unknown error code ${r.code}`);
      noStack(r.message, 'protocol');
      if (r.code === 'bad_request' && !/op|field|id|object|'|"|`/.test(r.message)) throw new Violation(`protocol: bad_request that names nothing: ${r.message}`);
      JSON.stringify(r); // the reply must be serialisable
    },
  },
  pixel: {
    corpus: async () => pixelCorpus(),
    run(input) {
      const templateText = pixelTemplate();
      let yaml;
      try {
        yaml = importPixelConfig(input, 'fuzz.json', { templateText, templateFile: 'policies/default.yaml' }).yaml;
      } catch (err) {
        expectUserError(err, 'fuzz.json', 'pixel');
        return;
      }
      const problems = parsePolicy(yaml, 'out.yaml').problems;
      if (problems.length) throw new Violation(`pixel: produced a policy with problems: ${problems.map((p) => `${p.line}:${p.col}: ${p.message}`).join('; ').slice(0, 400)}`);
    },
  },
  'gateway-body': {
    corpus: async () => bodyCorpus(),
    run(input) {
      let body;
      try {
        body = JSON.parse(input);
      } catch {
        return; // the route answers 400 invalid_json with JSON.parse's message
      }
      try {
        const chat = parseChatRequest(body, undefined);
        if (!Array.isArray(chat.messages)) throw new Violation('gateway-body: accepted without messages');
      } catch (err) {
        expectError(err, [RequestError], 'gateway-body');
        if (!(err.status >= 400 && err.status < 500)) throw new Violation(`gateway-body: status ${err.status} for a client mistake`);
      }
    },
  },
};

let templateCache;
function pixelTemplate() {
  return (templateCache ??= read('policies/default.yaml'));
}

/** Targets that break the contract on purpose: the harness's own test proves it catches each kind. */
export const SELFTEST_TARGETS = {
  'selftest-hang': { corpus: async () => ['x'], run(input) { if (input.length >= 0) for (;;); } },
  'selftest-alloc': { corpus: async () => ['x'], run() { const keep = []; for (;;) keep.push(new Array(1e6).fill(1)); } },
  'selftest-throw': { corpus: async () => ['x'], run() { throw new TypeError("Cannot read properties of undefined (reading 'x')"); } },
};
