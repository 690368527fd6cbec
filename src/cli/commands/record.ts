/**
 * `edgegov record --out trace.csv`: live sensors into the SPEC §4 trace format at `--hz` for
 * `--duration` (or until SIGINT/SIGTERM), raw zones as `zone.<type>` columns, through C's
 * trace writer so the file round-trips through `replay`. Columns are fixed at start from
 * discovery; a zone that appears later is read but not recorded (said on stderr).
 */
import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { createTraceWriter } from '../../trace/writer.js';
import { parseTimeArg } from '../../replay/time-arg.js';
import { openSensors } from '../../sensors/index.js';
import { EnvError, UserError } from '../../util/errors.js';
import { typedText } from '../typed.js';

interface RecordArgs {
  out: string;
  hz: number;
  duration?: string;
  sysfsRoot: string;
}

/** Canonical signals a live source can provide (tok_s/ambient_c come from elsewhere). */
export const RECORDED_SIGNALS = [
  'soc_c',
  'skin_c',
  'battery_c',
  'battery_w',
  'battery_pct',
  'charging',
  'mem_avail_mb',
  'mem_total_mb',
  'psi_mem_some_avg10',
  'psi_mem_full_avg10',
] as const;

export const recordCommand: CommandModule<object, RecordArgs> = {
  command: 'record',
  describe: 'Record live sensors into a trace (CSV or JSONL by extension)',
  builder: (y: Argv) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'trace file to write (.csv or .jsonl)' })
      .option('hz', { type: 'number', default: 10, describe: 'samples per second (0 < hz ≤ 200)' })
      .option('duration', { type: 'string', describe: 'how long: seconds (30) or with a unit (500ms, 10s, 5min, 1h); default until Ctrl-C' })
      .option('sysfs-root', { type: 'string', default: '/', describe: 'directory standing in for / (fixture trees)' })
      .example('$0 record --out run.csv --hz 10 --duration 10min', '') as unknown as Argv<RecordArgs>,
  handler: async (argv) => {
    const hz = Number(argv.hz);
    if (!Number.isFinite(hz) || hz <= 0 || hz > 200) throw new UserError(`--hz: ${typedText('--hz', argv.hz)} is not a rate between 0 and 200 samples per second`);
    const durationMs = parseTimeArg('duration', argv.duration);
    if (durationMs !== undefined && durationMs <= 0) throw new UserError(`--duration: must be longer than 0, got '${argv.duration}' (omit it to record until Ctrl-C)`);
    if (!existsSync(argv.sysfsRoot)) throw new EnvError(`--sysfs-root ${argv.sysfsRoot}: no such directory`);

    const src = await openSensors({ sysfsRoot: argv.sysfsRoot, log: (l) => process.stderr.write(l + '\n') });
    const zoneCols = src.discovery.zones
      .filter((z) => !z.skipped && z.role !== 'not-a-temperature')
      .map((z) => z.key)
      .filter((k) => {
        const ok = !/[,"\r\n]/.test(k);
        if (!ok) process.stderr.write(`edgegov: zone ${JSON.stringify(k)} cannot be a CSV column; not recorded\n`);
        return ok;
      });
    const writer = createTraceWriter(argv.out, [...RECORDED_SIGNALS, ...zoneCols], {
      comments: [
        `recorded by edgegov record at ${new Date().toISOString()}`,
        `sysfs root ${argv.sysfsRoot}, ${src.binding} binding, ${hz} Hz`,
      ],
    });
    const known = new Set(writer.columns);
    const periodMs = 1000 / hz;
    let samples = 0;
    let faultRows = 0;
    let lateWarned = false;
    let stop: () => void = () => {};
    const done = new Promise<void>((resolve) => (stop = resolve));
    const onSignal = () => stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      const snap = src.read();
      const t = snap.t_ms ?? performance.now() - started;
      if (durationMs !== undefined && t > durationMs + periodMs / 2) return stop();
      writer.write({ ...snap.signals, t_ms: Math.round(t * 1000) / 1000 });
      samples++;
      if (snap.faults.some((f) => !f.signal.startsWith('skin_c'))) faultRows++;
      if (!lateWarned && Object.keys(snap.signals).some((k) => k.startsWith('zone.') && !known.has(k))) {
        lateWarned = true;
        process.stderr.write('edgegov: a zone appeared after recording started; it is not in this trace\n');
      }
      if (samples % Math.max(1, Math.round(hz)) === 0) writer.flush();
      // Schedule against the start time so the rate does not drift with read cost.
      const next = started + samples * periodMs;
      timer = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
    try {
      await done;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      src.close();
      await writer.close();
    }
    process.stderr.write(
      `edgegov: recorded ${samples} samples (${writer.columns.length - 1} signals) to ${argv.out}` +
        (faultRows ? `; ${faultRows} samples had sensor faults (see inventory)` : '') +
        '\n',
    );
  },
};
