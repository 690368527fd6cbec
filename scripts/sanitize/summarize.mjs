// Turns the logs of scripts/sanitize-native.sh into figures: one JSON line on stdout, one
// human line per finding on stderr. Exit 0 when the driver runs are clean and every canary was
// caught, 1 otherwise.
//   node summarize.mjs <logs dir> <all|asan|valgrind> <short 0|1> <driver rc asan> <driver rc valgrind>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [logs, only, short, rcAsanArg, rcVgArg] = process.argv.slice(2);
const read = (name) => readFileSync(join(logs, name), 'utf8');
const logsOf = (prefix) => readdirSync(logs).filter((f) => f.startsWith(prefix + '.')).map(read);
const num = (s) => Number(String(s).replace(/,/g, ''));
const problems = [];

/** ASan, UBSan and LeakSanitizer reports in the log files `<prefix>.<pid>`. */
function sanitizerFigures(prefix) {
  const texts = logsOf(prefix);
  const all = texts.join('\n');
  const leaks = [...all.matchAll(/^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\)[^\n]*\n((?:.+\n?)*)/gm)];
  return {
    logFiles: texts.length,
    asanErrors: (all.match(/ERROR: AddressSanitizer/g) ?? []).length,
    ubsanErrors: (all.match(/runtime error:/g) ?? []).length,
    leakReports: leaks.length,
    leakedBytes: leaks.reduce((s, m) => s + Number(m[2]), 0),
    // A leak whose allocation stack passes through the addon (the rest would be Node's own).
    addonLeakReports: leaks.filter((m) => /edgegov_native|native\/(reader|psi_watcher|peer_cred|addon)\.cc/.test(m[4])).length,
    firstReport: (/^(?:.*ERROR: .*|.*runtime error:.*|Direct leak.*)$/m.exec(all) ?? [])[0],
  };
}

/** Memcheck's own summary lines in the log files `<prefix>.<pid>`. */
function valgrindFigures(prefix) {
  const texts = logsOf(prefix);
  const sum = (re) => texts.reduce((s, t) => s + [...t.matchAll(re)].reduce((a, m) => a + num(m[1]), 0), 0);
  return {
    logFiles: texts.length,
    summaries: texts.filter((t) => /ERROR SUMMARY:/.test(t)).length,
    errors: sum(/ERROR SUMMARY: ([\d,]+) errors/g),
    suppressedErrors: sum(/ERROR SUMMARY: [\d,]+ errors from [\d,]+ contexts \(suppressed: ([\d,]+)/g),
    definitelyLostBytes: sum(/definitely lost: ([\d,]+) bytes/g),
    definitelyLostBlocks: sum(/definitely lost: [\d,]+ bytes in ([\d,]+) blocks/g),
    indirectlyLostBytes: sum(/indirectly lost: ([\d,]+) bytes/g),
    possiblyLostBytes: sum(/possibly lost: ([\d,]+) bytes/g),
    invalidAccesses: texts.reduce((s, t) => s + (t.match(/^==\d+== Invalid (read|write)/gm) ?? []).length, 0),
    firstError: (/^==\d+== ((?:Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination)[^\n]*)/m.exec(texts.join('\n')) ?? [])[1],
  };
}

function driverOut(name) {
  if (!existsSync(join(logs, name))) return undefined;
  const last = read(name).trim().split('\n').pop();
  try {
    return JSON.parse(last);
  } catch {
    return undefined;
  }
}

const report = { short: short === '1', node: process.version };

if (only !== 'valgrind') {
  const driver = driverOut('driver-asan.json');
  const san = sanitizerFigures('san-driver');
  report.asan = { driverExit: Number(rcAsanArg), driver, ...san };
  if (!driver) problems.push(`asan: the driver printed no result (exit ${rcAsanArg}; see ${logs}/san-driver.stderr)`);
  if (Number(rcAsanArg) !== 0) problems.push(`asan: the driver exited ${rcAsanArg}`);
  if (san.asanErrors || san.ubsanErrors || san.leakReports)
    problems.push(`asan: ${san.asanErrors} ASan errors, ${san.ubsanErrors} UBSan errors, ${san.leakReports} leaks (${san.addonLeakReports} through the addon); first: ${san.firstReport}`);
  const canary = {
    leak: sanitizerFigures('san-canary-leak').leakReports,
    overflow: sanitizerFigures('san-canary-overflow').asanErrors,
    ub: sanitizerFigures('san-canary-ub').ubsanErrors,
  };
  report.asanCanaries = canary;
  for (const [k, v] of Object.entries(canary)) if (!v) problems.push(`asan canary: the planted ${k} was not reported: the harness is blind`);
}

if (only !== 'asan') {
  const driver = driverOut('driver-valgrind.json');
  const vg = valgrindFigures('vg-driver');
  report.valgrind = { driverExit: Number(rcVgArg), driver, ...vg };
  if (!driver) problems.push(`valgrind: the driver printed no result (exit ${rcVgArg}; see ${logs}/driver-valgrind.stderr)`);
  if (!vg.summaries) problems.push('valgrind: no ERROR SUMMARY in its log');
  if (Number(rcVgArg) !== 0) problems.push(`valgrind: the driver exited ${rcVgArg}`);
  if (vg.errors || vg.definitelyLostBlocks)
    problems.push(`valgrind: ${vg.errors} errors, ${vg.definitelyLostBytes} bytes definitely lost in ${vg.definitelyLostBlocks} blocks; first: ${vg.firstError ?? '(a leak)'}`);
  const c = valgrindFigures('vg-canary');
  report.valgrindCanary = { errors: c.errors, invalidAccesses: c.invalidAccesses, definitelyLostBytes: c.definitelyLostBytes };
  if (!c.invalidAccesses) problems.push('valgrind canary: the planted overflow was not reported');
  if (c.definitelyLostBytes < 4242) problems.push('valgrind canary: the planted 4242-byte leak was not reported');
}

report.problems = problems;
report.ok = problems.length === 0;
for (const p of problems) process.stderr.write(`sanitize-native: ${p}\n`);
process.stdout.write(JSON.stringify(report) + '\n');
process.exit(report.ok ? 0 : 1);
