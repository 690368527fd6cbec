// The soak's driver: changes a writable copy of a fixture sysfs tree the way a device does while
// the daemon reads it — SoC zones ramp hot and cool, single zones drop out (empty or garbage
// reads), one zone's temp becomes a FIFO that would hang a blocking read, another zone vanishes
// and comes back (re-created, new inodes, as a re-probed driver would).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SOC_ZONE = /^(cpu|cpuss|gpuss)-/;

/**
 * Writes in place, as the kernel's attributes change (the daemon keeps these files open, so a
 * rename would leave it reading the old inode): write over, then cut to length, so a read in
 * between sees the old value or the new one, never an empty file.
 */
function writeInPlace(file, text) {
  fs.writeFileSync(file, text, { flag: 'r+' });
  fs.truncateSync(file, Buffer.byteLength(text));
}

/** Triangle wave 0→1→0 over `periodS`. */
function triangle(tS, periodS) {
  const p = (tS % periodS) / periodS;
  return p < 0.5 ? p * 2 : 2 - p * 2;
}

/**
 * Copies `fixtureDir` to `dir`/sysfs and returns the driver. `cycleS` is the period of the
 * FIFO and vanish events (each lasts half a cycle, longer than the daemon's 30 s rescan, so the
 * daemon's rediscovery sees both states); `rampPeriodS` the heat ramp's period (50 → 105 °C and
 * back); a dropout starts every `dropoutEveryS` and lasts `dropoutS`.
 */
export function createDriver(fixtureDir, dir, { cycleS = 80, rampPeriodS = 120, dropoutEveryS = 5, dropoutS = 1.5, tickMs = 200, rng = Math.random } = {}) {
  const root = path.join(dir, 'sysfs');
  const stash = path.join(dir, 'stash');
  fs.cpSync(fixtureDir, root, { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(stash);
  const thermal = path.join(root, 'sys/class/thermal');
  const zones = fs.readdirSync(thermal).map((name) => {
    const link = path.join(thermal, name);
    return { name, dir: link, plain: !fs.lstatSync(link).isSymbolicLink(), type: fs.readFileSync(path.join(link, 'type'), 'utf8').trim() };
  });
  const soc = zones.filter((z) => SOC_ZONE.test(z.type));
  // The FIFO and vanishing zones are plain directories (no symlink to keep in step) outside the
  // policy's soc_c group, so the governed signal itself never goes missing for long.
  const spare = zones.filter((z) => z.plain && !SOC_ZONE.test(z.type));
  const fifoZone = spare[0];
  const vanishZone = spare[1];
  if (!soc.length || !fifoZone || !vanishZone) throw new Error(`${fixtureDir}: needs SoC zones and two plain non-SoC zones`);
  const battery = path.join(root, 'sys/class/power_supply/battery');
  const meminfo = path.join(root, 'proc/meminfo');
  const meminfoText = fs.readFileSync(meminfo, 'utf8');

  const counts = { ticks: 0, rampCycles: 0, dropouts: 0, fifoOn: 0, fifoOff: 0, vanished: 0, returned: 0, errors: 0 };
  let dropout; // { zone, untilS }
  let nextDropoutS = dropoutEveryS;
  let fifoFd;
  let vanished = false;
  let t0 = 0;
  let timer;
  let lastError;

  const setFifo = (on) => {
    const temp = path.join(fifoZone.dir, 'temp');
    if (on) {
      fs.renameSync(temp, path.join(stash, 'fifo-temp'));
      execFileSync('mkfifo', [temp]);
      // Held open for writing and never written: a blocking read of it would wait for ever.
      fifoFd = fs.openSync(temp, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
      counts.fifoOn++;
    } else {
      fs.closeSync(fifoFd);
      fifoFd = undefined;
      fs.unlinkSync(temp);
      fs.renameSync(path.join(stash, 'fifo-temp'), temp);
      counts.fifoOff++;
    }
  };
  const setVanished = (on) => {
    const kept = path.join(stash, 'vanished-zone');
    if (on) {
      fs.renameSync(vanishZone.dir, kept);
      counts.vanished++;
    } else {
      fs.cpSync(kept, vanishZone.dir, { recursive: true });
      fs.rmSync(kept, { recursive: true, force: true });
      counts.returned++;
    }
    vanished = on;
  };

  const tick = () => {
    try {
      const tS = (performance.now() - t0) / 1000;
      counts.ticks++;
      counts.rampCycles = Math.floor(tS / rampPeriodS);
      const socC = 50 + 55 * triangle(tS, rampPeriodS);
      if (dropout && tS >= dropout.untilS) dropout = undefined;
      if (!dropout && tS >= nextDropoutS) {
        dropout = { zone: soc[Math.floor(rng() * soc.length)], untilS: tS + dropoutS, text: rng() < 0.5 ? '' : 'garbage\n' };
        nextDropoutS = tS + dropoutEveryS;
        counts.dropouts++;
      }
      for (const z of soc) {
        const jitterC = (rng() - 0.5) * 0.6;
        writeInPlace(path.join(z.dir, 'temp'), z === dropout?.zone ? dropout.text : `${Math.round((socC + jitterC) * 1000)}\n`);
      }
      // Battery discharging 1.5–3.5 W at 3.9 V, charge falling 1 % a minute and wrapping.
      const currentUa = Math.round(-(1.5 + 2 * triangle(tS, 37)) / 3.9 * 1e6);
      writeInPlace(path.join(battery, 'current_now'), `${currentUa}\n`);
      writeInPlace(path.join(battery, 'capacity'), `${100 - (Math.floor(tS / 60) % 80)}\n`);
      const availKb = Math.round(4_000_000 + 2_000_000 * triangle(tS, 53));
      writeInPlace(meminfo, meminfoText.replace(/^MemAvailable:.*$/m, `MemAvailable:   ${availKb} kB`));

      const phase = tS % cycleS;
      const wantFifo = phase < cycleS / 2;
      if (wantFifo !== (fifoFd !== undefined)) setFifo(wantFifo);
      const wantVanished = phase >= cycleS / 4 && phase < (3 * cycleS) / 4;
      if (wantVanished !== vanished) setVanished(wantVanished);
    } catch (e) {
      counts.errors++;
      lastError = String(e);
    }
  };

  return {
    root,
    fifoZoneType: fifoZone.type,
    vanishZoneType: vanishZone.type,
    socZones: soc.length,
    counts,
    lastError: () => lastError,
    start() {
      t0 = performance.now();
      tick();
      timer = setInterval(tick, tickMs);
    },
    /** Stops changing the tree and puts the FIFO and the vanished zone back. */
    stop() {
      clearInterval(timer);
      try {
        if (fifoFd !== undefined) setFifo(false);
        if (vanished) setVanished(false);
      } catch (e) {
        counts.errors++;
        lastError = String(e);
      }
    },
  };
}
