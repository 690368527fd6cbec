/**
 * `edgegov doctor` on every fixture tree, through the real CLI. Expected statuses come from
 * what each tree contains (test/fixtures/sysfs/generate.mjs), not from doctor's output: which
 * zones hold sentinels or garbage, which trees have a battery, PSI, MemAvailable, and which
 * shipped policy names their zone types.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, hasStackTrace, repoRoot } from '../helpers/cli.js';
import { nativeAvailable } from '../../src/native/native.js';
import { socketCheck } from '../../src/cli/doctor/socket-check.js';
import { explainNoPsi } from '../../src/cli/doctor/psi-why.js';

type Status = 'ok' | 'warn' | 'fail' | 'info';
interface Line { id: string; status: Status; detail: string; fix?: string }
interface Report { root: string; verdict: string; blocking: string[]; lines: Line[]; policy: { suggested: string | null; chosen?: string; clear?: boolean } }

const FIXTURES = join(repoRoot, 'test/fixtures/sysfs');
const tmp = mkdtempSync(join(tmpdir(), 'edgegov-doctor-'));
const sock = join(tmp, 'edgegov.sock');

function runAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const base = (tree: string) => ['doctor', '--sysfs-root', join(FIXTURES, tree), '--socket', sock, '--metrics', '127.0.0.1:0', '--no-engine'];

/** Per tree: statuses of the summary lines, zone lines that are not `ok`, the policy, the exit code. */
interface Expect {
  lines: Partial<Record<'zones' | 'soc_c' | 'skin_c' | 'battery' | 'memory' | 'psi' | 'psi.trigger' | 'policy', Status>>;
  zones?: Record<string, Status>;
  /** Zones whose file is not in m°C (the tree's comment says which): their °C value. */
  celsius?: Record<string, number>;
  policy: string;
  exit: 0 | 1;
}

// psi.trigger is `warn` on every tree: a fixture file is not the kernel's pressure file (native:
// EOPNOTSUPP, nothing written) or there is no PSI file at all; run then polls total=.
const EXPECT: Record<string, Expect> = {
  pixel8: {
    lines: { zones: 'ok', soc_c: 'ok', skin_c: 'ok', battery: 'ok', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'ok' },
    zones: { 'zone.vdroop1': 'info', 'zone.batoilo': 'info', 'zone.soc': 'info' }, // BCL levels, not temperatures
    policy: 'flagship-phone', exit: 0, // BIG/MID/LITTLE/G3D/TPU are literal names in flagship-phone.yaml
  },
  'sd8elite-dev': {
    // No skin thermistor, and flagship-phone marks skin_c critical.
    lines: { zones: 'ok', soc_c: 'ok', skin_c: 'info', battery: 'ok', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'warn' },
    zones: { 'zone.pm8550-bcl-lvl0': 'info', 'zone.pm8550-bcl-lvl1': 'info', 'zone.pm8550-bcl-lvl2': 'info', 'zone.pmih010x-ibat-lvl0': 'info', 'zone.vbat': 'info', 'zone.socd': 'info' },
    policy: 'flagship-phone', exit: 0, // nsphvx-*/nsphmx-* only in flagship-phone
  },
  'rk3588-bsp': { lines: { zones: 'ok', soc_c: 'ok', skin_c: 'info', battery: 'info', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'ok' }, policy: 'rk3588', exit: 0 },
  'rk3588-mainline': { lines: { zones: 'ok', soc_c: 'ok', skin_c: 'info', battery: 'info', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'ok' }, policy: 'rk3588', exit: 0 },
  rpi5: { lines: { zones: 'ok', soc_c: 'ok', skin_c: 'info', battery: 'info', memory: 'ok', psi: 'warn', 'psi.trigger': 'warn', policy: 'ok' }, policy: 'rpi5', exit: 0 },
  'no-sensors': { lines: { zones: 'fail', soc_c: 'fail', skin_c: 'info', battery: 'info', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'warn' }, policy: 'default-phone', exit: 1 },
  'fault-psi-variants': { lines: { zones: 'ok', soc_c: 'ok', battery: 'info', memory: 'ok', psi: 'warn', 'psi.trigger': 'warn', policy: 'ok' }, policy: 'rpi5', exit: 0 },
  'fault-garbage-temps': {
    lines: { zones: 'warn', soc_c: 'ok', skin_c: 'warn', battery: 'info', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'warn' },
    zones: {
      'zone.mtktspa': 'warn', 'zone.tsens_tz_sensor1': 'warn', 'zone.tsens_tz_sensor2': 'warn', 'zone.tsens_tz_sensor3': 'warn',
      'zone.gpuss-0-usr': 'warn', 'zone.xo-therm': 'warn', 'zone.pa_therm0': 'warn',
    },
    celsius: { 'zone.tsens_tz_sensor4': 30, 'zone.tsens_tz_sensor5': 30.9 }, // written in °C and d°C
    policy: 'default-phone', exit: 0, // cpu-*/gpuss-* match flagship and midrange equally: ambiguous
  },
  'fault-zone-drift': {
    lines: { zones: 'ok', soc_c: 'ok', skin_c: 'ok', battery: 'info', memory: 'ok', psi: 'ok', 'psi.trigger': 'warn', policy: 'ok' },
    zones: { 'zone.thermal_zone21': 'warn' }, // its type attribute is missing
    policy: 'flagship-phone', exit: 0, // BIG by exact name
  },
  'fault-battery-samsung-ma': { lines: { zones: 'ok', soc_c: 'ok', skin_c: 'info', battery: 'ok', memory: 'ok', psi: 'ok', policy: 'warn' }, policy: 'flagship-phone', exit: 0 },
  'fault-battery-bms-positive': { lines: { zones: 'ok', soc_c: 'ok', skin_c: 'ok', battery: 'ok', memory: 'ok', psi: 'ok', policy: 'warn' }, policy: 'default-phone', exit: 0 },
  'fault-battery-acpi': { lines: { zones: 'ok', soc_c: 'ok', battery: 'ok', memory: 'ok', psi: 'ok', policy: 'warn' }, policy: 'default-phone', exit: 0 },
  'fault-battery-partial': { lines: { zones: 'ok', soc_c: 'ok', battery: 'warn', memory: 'ok', psi: 'ok', policy: 'warn' }, policy: 'midrange-phone', exit: 0 },
  'fault-battery-topology': { lines: { zones: 'ok', soc_c: 'ok', battery: 'ok', memory: 'ok', psi: 'warn', policy: 'ok' }, policy: 'rpi5', exit: 0 },
  'fault-battery-not-present': { lines: { zones: 'ok', soc_c: 'ok', battery: 'info', memory: 'ok', psi: 'warn', policy: 'ok' }, policy: 'rpi5', exit: 0 },
  'fault-meminfo-old': { lines: { zones: 'ok', soc_c: 'ok', battery: 'info', memory: 'warn', psi: 'warn', 'psi.trigger': 'warn', policy: 'warn' }, policy: 'default-phone', exit: 0 },
};

const trees = readdirSync(FIXTURES).filter((n) => existsSync(join(FIXTURES, n, 'proc')));
const reports = new Map<string, { code: number; report: Report; stderr: string }>();
type Run = { code: number; stdout: string; stderr: string };
/** Runs other than the per-tree JSON ones, by name, all made up front in one pool. */
const runs = new Map<string, Run>();
const json = (name: string) => JSON.parse(runs.get(name)!.stdout) as Report;

const rk = join(FIXTURES, 'rk3588-bsp');
const quiet = (socket: string, metrics = 'off') => ['doctor', '--sysfs-root', rk, '--socket', socket, '--no-engine', '--metrics', metrics, '--json'];
let liveServer: net.Server;
let portServer: net.Server;
const live = join(tmp, 'live.sock');
const stale = join(tmp, 'stale.sock');
const plain = join(tmp, 'plain-file');
const psi0 = join(tmp, 'psi0');
const cgroup = join(tmp, 'cgroup');

beforeAll(async () => {
  // A daemon-like listener, a port taken, a stale socket file (its process killed), a plain file.
  liveServer = net.createServer((c) => c.end());
  await new Promise<void>((r) => liveServer.listen(live, r));
  portServer = net.createServer();
  await new Promise<void>((r) => portServer.listen(0, '127.0.0.1', r));
  const port = (portServer.address() as net.AddressInfo).port;
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  writeFileSync(plain, 'x');
  const badPolicy = join(tmp, 'bad.yaml');
  writeFileSync(badPolicy, 'version: 1\nname: x\nsensors: 3\n');
  cpSync(join(FIXTURES, 'rpi5'), psi0, { recursive: true });
  writeFileSync(join(psi0, 'proc/cmdline'), 'console=serial0,115200 root=/dev/mmcblk0p2 psi=0 rootwait\n');
  cpSync(join(FIXTURES, 'rpi5'), cgroup, { recursive: true });
  mkdirSync(join(cgroup, 'sys/fs/cgroup'), { recursive: true });
  writeFileSync(join(cgroup, 'sys/fs/cgroup/memory.pressure'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
  const jobs: [string, string[], NodeJS.ProcessEnv?][] = [
    ...trees.map((t): [string, string[]] => [`tree:${t}`, [...base(t), '--json']]),
    ['no-sensors-human', base('no-sensors')],
    ['engine-human', base('rk3588-bsp').filter((a) => a !== '--no-engine')],
    ['socket-missing-dir', quiet(join(tmp, 'nope/edgegov.sock'))],
    ['group-unknown', [...quiet(sock), '--socket-group', 'no-such-group-edgegov']],
    ['metrics-taken', quiet(sock, `127.0.0.1:${port}`)],
    ['native-off', [...base('pixel8'), '--json'], { EDGEGOV_NATIVE: 'off' }],
    ['native-typo', [...base('pixel8'), '--json'], { EDGEGOV_NATIVE: 'maybe' }],
    ['policy-other-board', [...base('rk3588-bsp'), '--policy', 'policies/rpi5.yaml', '--json']],
    ['policy-this-board', [...base('rk3588-bsp'), '--policy', 'policies/rk3588.yaml', '--json']],
    ['policy-invalid', [...base('rk3588-bsp'), '--policy', badPolicy]],
    ['help', ['--help']],
    ['host', ['doctor', '--socket', sock, '--no-engine', '--metrics', 'off', '--json']],
    ['root-absent', ['doctor', '--sysfs-root', join(tmp, 'absent'), '--no-engine']],
  ];
  // Four at a time: each run is a short child process; the machine is shared.
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (let j = jobs.shift(); j; j = jobs.shift()) {
      const [name, args, env] = j;
      const r = await runAsync(args, env);
      runs.set(name, r);
      if (name.startsWith('tree:')) reports.set(name.slice(5), { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr });
    }
  }));
  await new Promise<void>((r) => portServer.close(() => r()));
}, 180_000);

afterAll(async () => {
  await new Promise<void>((r) => liveServer.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

const byId = (r: Report, id: string) => r.lines.find((l) => l.id === id);

/** Thermal zones of a tree straight from its files: type (or the directory name) and raw temp. */
function thermalZones(tree: string): { key: string; raw: string | undefined }[] {
  const base = join(FIXTURES, tree, 'sys/class/thermal');
  if (!existsSync(base)) return [];
  const seen = new Map<string, number>();
  return readdirSync(base)
    .filter((d) => /^thermal_zone\d+$/.test(d))
    .sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)))
    .map((d) => {
      const typeFile = join(base, d, 'type');
      const type = existsSync(typeFile) ? readFileSync(typeFile, 'utf8').trim() : d;
      const n = (seen.get(type) ?? 0) + 1;
      seen.set(type, n);
      const tempFile = join(base, d, 'temp');
      return { key: `zone.${type}${n > 1 ? `#${n}` : ''}`, raw: existsSync(tempFile) ? readFileSync(tempFile, 'utf8').trim() : undefined };
    });
}

describe('edgegov doctor on every fixture tree', () => {
  it('covers every tree', () => {
    expect(trees.sort()).toEqual(Object.keys(EXPECT).sort());
  });

  for (const [tree, exp] of Object.entries(EXPECT)) {
    it(`${tree}: expected verdict line by line`, () => {
      const got = reports.get(tree)!;
      expect(hasStackTrace(got.stderr)).toBe(false);
      const r = got.report;
      expect(r.lines[0]).toMatchObject({ id: 'reader', status: nativeAvailable() ? 'ok' : 'warn' });
      for (const [id, status] of Object.entries(exp.lines)) expect({ id, status: byId(r, id)?.status }).toEqual({ id, status });
      // Every thermal zone in the tree has its own line; a plain one reads the file's value.
      for (const z of thermalZones(tree)) {
        const l = byId(r, z.key);
        expect(l, z.key).toBeDefined();
        const want = exp.zones?.[z.key] ?? 'ok';
        expect({ id: z.key, status: l!.status }).toEqual({ id: z.key, status: want });
        if (want === 'ok') expect(l!.detail).toContain(`${(exp.celsius?.[z.key] ?? Number(z.raw) / 1000).toFixed(1)} °C`);
      }
      expect(r.policy.chosen).toBe(exp.policy);
      expect(r.policy.suggested).toMatch(new RegExp(`policies/${exp.policy === 'default-phone' ? 'default' : exp.policy}\\.yaml$`));
      expect(byId(r, 'socket')?.status).toBe('ok');
      expect(byId(r, 'metrics')?.status).toBe('ok');
      expect(byId(r, 'engine')).toMatchObject({ status: 'info', detail: 'not checked (--no-engine)' });
      expect(got.code).toBe(exp.exit);
      expect(r.verdict).toBe(exp.exit ? 'blocked' : r.lines.some((l) => l.status === 'warn') ? 'degraded' : 'ok');
      expect(r.blocking).toEqual(r.lines.filter((l) => l.status === 'fail').map((l) => l.id));
    });
  }

  it('--json shape: root, verdict, blocking, lines of {id, status, detail, fix?}, policy', () => {
    for (const [tree, { report: r }] of reports) {
      expect(Object.keys(r), tree).toEqual(['root', 'verdict', 'blocking', 'lines', 'policy']);
      expect(r.root).toBe(join(FIXTURES, tree));
      for (const l of r.lines) {
        expect(Object.keys(l).filter((k) => !['id', 'status', 'detail', 'fix'].includes(k)), `${tree} ${l.id}`).toEqual([]);
        expect(['ok', 'warn', 'fail', 'info']).toContain(l.status);
        expect(l.detail.length).toBeGreaterThan(0);
      }
      expect(new Set(r.lines.map((l) => l.id)).size, `${tree}: ids are unique`).toBe(r.lines.length);
      expect(Object.keys(r.policy)).toEqual(['suggested', 'chosen', 'clear', 'why', 'fits']);
    }
  });

  it('says precisely why a PSI trigger does not arm on a fixture file, and that run polls instead', () => {
    const t = byId(reports.get('rk3588-bsp')!.report, 'psi.trigger')!;
    if (nativeAvailable()) expect(t.detail).toMatch(/EOPNOTSUPP: .*rk3588-bsp\/proc\/pressure\/memory is not a procfs or cgroup2 pressure file/);
    expect(t.detail).toContain('run polls total= instead (some 300000 2000000; full 200000 2000000)');
    const none = byId(reports.get('rpi5')!.report, 'psi')!;
    expect(none.detail).toContain('CONFIG_PSI_DEFAULT_DISABLED');
    expect(none.fix).toContain('psi=1');
    // fault-meminfo-old has proc/pressure/cpu and no memory file.
    expect(byId(reports.get('fault-meminfo-old')!.report, 'psi')!.detail).toContain('proc/pressure/ has cpu but no memory file');
  });

  it('explains the policy choice by the zone names that decided it', () => {
    const p = byId(reports.get('rk3588-bsp')!.report, 'policy')!;
    expect(p.detail).toMatch(/rk3588 matches 7 of 7 zone\(s\) \(5 by exact name: soc-thermal, littlecore-thermal/);
    const tie = byId(reports.get('fault-battery-bms-positive')!.report, 'policy')!;
    expect(tie.detail).toMatch(/ambiguous: .*flagship-phone matches 1 .*midrange-phone matches 1/);
    expect(byId(reports.get('sd8elite-dev')!.report, 'policy')!.detail).toContain('critical sensor(s) skin_c would have no reading');
  });

  it('on the tree with no sensors: exit 1, human output names what is missing', () => {
    const r = runs.get('no-sensors-human')!;
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
    expect(r.stdout).toMatch(/^fail {2}zones +no thermal zones or hwmon temperatures under .*no-sensors \(sys\/class\/thermal\/thermal_zone\*\/temp, sys\/class\/hwmon\/hwmon\*\/temp\*_input\)$/m);
    expect(r.stdout).toMatch(/^fail {2}soc_c +soc_c is missing \(no CPU\/GPU\/NPU\/SoC thermal zone found\)/m);
    expect(r.stdout).toMatch(/^verdict: blocked by zones, soc_c/m);
    // Every check line starts with its status; fixes are indented under it.
    for (const l of r.stdout.trim().split('\n').slice(1, -1)) expect(l).toMatch(/^(ok {2}|warn|fail|info) {2}\S|^ {6,}fix: \S/);
  });
});

describe('edgegov doctor: socket, metrics, reader, policy and engine checks', () => {
  const check = (run: string, id: string) => byId(json(run), id);

  it('socket: a missing directory blocks the run (exit 1)', () => {
    expect(runs.get('socket-missing-dir')!.code).toBe(1);
    expect(check('socket-missing-dir', 'socket')).toMatchObject({ status: 'fail', detail: expect.stringContaining('does not exist') });
  });

  it('socket: a live daemon, a stale file, a non-socket and an over-long path (real sockets and files)', async () => {
    expect(await socketCheck({ socketPath: live })).toMatchObject({ status: 'fail', detail: expect.stringContaining('a daemon already answers there') });
    expect(await socketCheck({ socketPath: stale })).toMatchObject({ status: 'ok', detail: expect.stringContaining('a stale socket file from a stopped daemon is there') });
    expect(await socketCheck({ socketPath: plain })).toMatchObject({ status: 'fail', detail: expect.stringContaining('is not a socket') });
    expect(await socketCheck({ socketPath: join(tmp, 'x'.repeat(120) + '.sock') })).toMatchObject({ status: 'fail', detail: expect.stringContaining('longer than the 107') });
    expect(await socketCheck({ socketPath: '/dev/socket/edgegov', inheritedFd: true })).toMatchObject({ status: 'ok', detail: expect.stringContaining('Android init passes the listening socket') });
  });

  it('socket group: the group the socket will carry against --socket-group', async () => {
    const egid = process.getegid!();
    // The temp directory is 0700: its group cannot reach the socket, so even the right group warns.
    const same = await socketCheck({ socketPath: sock, intendedGid: egid });
    expect(same).toMatchObject({ status: 'warn', detail: expect.stringContaining(`(${egid})`) });
    expect(same.detail).toContain('does not let its group in');
    const open = mkdtempSync(join(tmp, 'open-'));
    chmodSync(open, 0o750);
    expect(await socketCheck({ socketPath: join(open, 's.sock'), intendedGid: egid })).toMatchObject({ status: 'ok', detail: expect.stringContaining('as intended') });
    const other = await socketCheck({ socketPath: join(open, 's.sock'), intendedGid: egid + 4242 });
    expect(other).toMatchObject({ status: 'warn', detail: expect.stringContaining(`not the intended gid ${egid + 4242}: its members could not connect`) });
    // A setgid directory hands its group to the socket, whoever creates it.
    chmodSync(open, 0o2750);
    expect((await socketCheck({ socketPath: join(open, 's.sock'), egid: egid + 1 })).detail).toContain('(setgid directory)');
    const bad = runs.get('group-unknown')!;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--socket-group: no group 'no-such-group-edgegov'");
  });

  it('metrics: a taken port blocks, off is a fact', () => {
    const r = runs.get('metrics-taken')!;
    expect(r.code).toBe(1);
    const rep = json('metrics-taken');
    expect(byId(rep, 'metrics')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^127\.0\.0\.1:\d+: the port is taken \(run would exit 2\)$/) });
    expect(rep.blocking).toEqual(['metrics']);
    expect(check('socket-missing-dir', 'metrics')).toMatchObject({ status: 'info', detail: expect.stringContaining('metrics off') });
  });

  it('reader: EDGEGOV_NATIVE=off is the fallback, and doctor says what it costs; a mode typo blocks', () => {
    expect(check('native-off', 'reader')).toMatchObject({ status: 'warn', detail: expect.stringContaining('EDGEGOV_NATIVE=off asks for it'), fix: 'unset EDGEGOV_NATIVE' });
    expect(check('native-off', 'psi.trigger')).toMatchObject({ status: 'warn', detail: expect.stringContaining('the TypeScript fallback reader cannot arm kernel triggers') });
    expect(runs.get('native-off')!.code).toBe(0);
    expect(check('native-typo', 'reader')).toMatchObject({ status: 'fail', detail: expect.stringContaining('EDGEGOV_NATIVE=maybe: not a mode') });
    expect(runs.get('native-typo')!.code).toBe(1);
  });

  it('--policy: a shipped policy for another board is flagged; an invalid one blocks', () => {
    expect(check('policy-other-board', 'policy')).toMatchObject({ status: 'warn', detail: expect.stringContaining('the shipped rk3588 fits better') });
    expect(json('policy-other-board').policy.suggested).toBe('policies/rpi5.yaml');
    expect(check('policy-this-board', 'policy')).toMatchObject({ status: 'ok', detail: expect.stringContaining('its zone patterns match 7 of 7 zone(s)') });
    const bad = runs.get('policy-invalid')!;
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^fail {2}policy +--policy .*bad\.yaml: invalid policy/m);
    expect(hasStackTrace(bad.stdout + bad.stderr)).toBe(false);
  });

  it('PSI missing because of psi=0 or a cgroup-only view is named as such', () => {
    expect(explainNoPsi(psi0, undefined)).toEqual({ why: 'the kernel command line has psi=0', fix: 'remove psi=0 from the kernel command line and reboot' });
    expect(explainNoPsi(cgroup, undefined).why).toContain('only cgroup2 memory.pressure exists');
    // The plain Pi tree: no cmdline, no cgroup file: discovery's reason and the psi=1 fix.
    const pi = explainNoPsi(join(FIXTURES, 'rpi5'), 'no proc/pressure/memory');
    expect(pi).toEqual({ why: 'no proc/pressure/memory', fix: expect.stringContaining('psi=1') });
  });

  it('engine: the llama.cpp backend check runs and the human output ends with a verdict', () => {
    const r = runs.get('engine-human')!;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(ok|warn) +engine +llama\.cpp/m);
    expect(r.stdout).toMatch(/^ok +policy +suggest .*policies\/rk3588\.yaml: rk3588 matches 7 of 7/m);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^verdict: runs, degraded \(\d+ warnings?\)$/);
  });

  it.skipIf(!existsSync('/proc/pressure/memory') || !nativeAvailable())('on this machine\'s own /proc the kernel is asked: a trigger arms, or the refusal is named', () => {
    const t = check('host', 'psi.trigger')!;
    expect(t.detail).not.toContain('EOPNOTSUPP');
    if (t.status === 'ok') expect(t.detail).toMatch(/^kernel trigger armed: some \d+ \d+/);
    else expect(t.detail).toMatch(/^kernel refused .+: E[A-Z]+: .+; run polls total= instead/);
  });

  it('doctor is listed in --help', () => {
    expect(runs.get('help')!.stdout).toMatch(/edgegov doctor +Check a board first/);
  });

  it('a missing --sysfs-root is an environment error (exit 2), no stack trace', () => {
    const r = runs.get('root-absent')!;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such directory');
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
