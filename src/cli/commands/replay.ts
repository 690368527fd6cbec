/**
 * `edgegov replay <trace> --policy <p>`: a recorded trace through the production core.
 *
 * stdout carries only the result (the JSON summary with --json, or the human summary);
 * warnings and the progress bar go to stderr, and the bar only on a TTY and never with --json.
 *
 * Extension point for `--report <html>` / `--perfetto <json>`: add the option in `builder`
 * and, in the handler, push a hook set onto `hooks` (see `ReplayHooks` in
 * src/replay/run.ts: `onStep` sees every sample with its step result, `onDecision` every
 * change, `onEnd` is awaited once after the last sample). `combineHooks` fans them out.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { loadPolicyFile } from '../../policy/load.js';
import { replayTrace, type ReplayHooks } from '../../replay/run.js';
import { openDecisionsOut } from '../../replay/decisions-out.js';
import { parseTimeArg } from '../../replay/time-arg.js';
import { formatSummary } from '../../replay/format.js';
import { createProgress } from '../progress.js';
import { UserError } from '../../util/errors.js';
import { openRunOutputs } from '../../report/run-outputs.js';

interface ReplayArgs {
  trace: string;
  policy: string;
  json: boolean;
  decisions?: string;
  from?: string;
  to?: string;
  strict: boolean;
  lenient: boolean;
  strictSignals: boolean;
  report?: string;
  perfetto?: string;
}

/** Runs several hook sets as one, in order. */
export function combineHooks(sets: ReplayHooks[]): ReplayHooks {
  const pick = <K extends keyof ReplayHooks>(k: K) => sets.map((s) => s[k]).filter((f): f is NonNullable<ReplayHooks[K]> => f !== undefined);
  const onStep = pick('onStep');
  const onDecision = pick('onDecision');
  const onProgress = pick('onProgress');
  const onWarning = pick('onWarning');
  const onEnd = pick('onEnd');
  return {
    onStep: onStep.length === 0 ? undefined : onStep.length === 1 ? onStep[0] : (s, r) => { for (const f of onStep) f(s, r); },
    onDecision: onDecision.length === 0 ? undefined : onDecision.length === 1 ? onDecision[0] : (d, s) => { for (const f of onDecision) f(d, s); },
    onProgress: onProgress.length === 0 ? undefined : (a, b) => { for (const f of onProgress) f(a, b); },
    onWarning: onWarning.length === 0 ? undefined : (m) => { for (const f of onWarning) f(m); },
    onEnd: onEnd.length === 0 ? undefined : async () => { for (const f of onEnd) await f(); },
  };
}

const DEFAULT_POLICY = 'policies/default.yaml';

/** The default policy is looked up in the working directory first, then beside this installation. */
function policyPath(given: string): string {
  if (given !== DEFAULT_POLICY || existsSync(given)) return given;
  const shipped = fileURLToPath(new URL('../../../policies/default.yaml', import.meta.url));
  return existsSync(shipped) ? shipped : given;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // replayTrace reports the unreadable file properly (exit 2)
  }
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <trace>',
  describe: 'Run a recorded trace (CSV or JSONL) through the governor core and summarise',
  builder: (y: Argv) =>
    y
      .positional('trace', { type: 'string', describe: 'trace file (CSV or JSONL, SPEC §4)', demandOption: true })
      .option('policy', { type: 'string', default: DEFAULT_POLICY, describe: 'policy YAML (default: ./policies/default.yaml, else the one shipped with edgegov)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the SPEC §8 summary as JSON on stdout, nothing else' })
      .option('decisions', { type: 'string', describe: 'write the first decision and every change to this JSONL file' })
      .option('from', { type: 'string', describe: 'start of the window: seconds of trace time, or with a unit (90, 500ms, 10min, 1h)' })
      .option('to', { type: 'string', describe: 'end of the window, same syntax as --from' })
      .option('strict', { type: 'boolean', default: true, describe: 'stop at the first bad row with file:line and column (default)' })
      .option('lenient', { type: 'boolean', default: false, describe: 'skip bad rows, count them by kind in the summary' })
      .option('strict-signals', { type: 'boolean', default: false, describe: 'treat every signal the policy reads as on the device: one the trace never carries is a sensor fault (by default it is not on the device)' })
      .option('report', { type: 'string', describe: 'write a self-contained HTML report with plots to this file' })
      .option('perfetto', { type: 'string', describe: 'write a Chrome trace-event JSON for ui.perfetto.dev to this file' })
      .example('$0 replay run.csv --policy policies/default.yaml --json', '')
      .example('$0 replay day.jsonl --from 2h --to 150min --decisions changes.jsonl', '') as unknown as Argv<ReplayArgs>,
  handler: async (argv) => {
    const fromMs = parseTimeArg('from', argv.from);
    const toMs = parseTimeArg('to', argv.to);
    if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) {
      throw new UserError(`--to (${argv.to}) is before --from (${argv.from})`);
    }
    const mode = argv.lenient ? 'lenient' : 'strict';
    const policy = await loadPolicyFile(policyPath(argv.policy));

    const hooks: ReplayHooks[] = [];
    const decisionsOut = argv.decisions !== undefined ? openDecisionsOut(argv.decisions) : undefined;
    if (decisionsOut) {
      hooks.push({ onDecision: (d) => decisionsOut.write(d), onEnd: () => decisionsOut.close() });
    }
    const outputs = openRunOutputs({
      report: argv.report, perfetto: argv.perfetto, kind: 'replay', label: argv.trace, policy,
      title: `edgegov replay ${argv.trace}`, subtitle: `trace ${argv.trace}`, metadata: { trace: argv.trace },
    });
    if (outputs) hooks.push({ onStep: (s, r) => outputs.step(s, r.decision, r.changed) });
    // Progress in bytes of the file: known up front, unlike the number of rows.
    const progress = createProgress({ total: fileSize(argv.trace), label: 'replay', enabled: !argv.json });
    hooks.push({ onProgress: (read) => progress.update(read) });
    // Warnings go to stderr as they happen unless stdout must stay pure JSON (then they are in the summary).
    if (!argv.json) hooks.push({ onWarning: (m) => process.stderr.write(`edgegov: warning: ${m}\n`) });

    let summary;
    try {
      summary = await replayTrace(argv.trace, { policy, mode, fromMs, toMs, strictSignals: argv.strictSignals, ...combineHooks(hooks) });
    } finally {
      progress.done();
      decisionsOut?.close();
    }
    const written = (await outputs?.close(summary)) ?? [];
    process.stdout.write(argv.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary, mode));
    if (!argv.json) for (const f of written) process.stderr.write(`edgegov: wrote ${f}\n`);
  },
};
