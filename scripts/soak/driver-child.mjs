// The driver as its own process (forked by run.mjs): its ticks keep time however busy the
// soak's clients keep the parent. Config comes as JSON in argv[2]; it answers 'ready' with
// the tree it made, and on 'stop' puts the tree back and answers with its counts.
import { createDriver } from './driver.mjs';

const { fixtureDir, dir, seed, ...opts } = JSON.parse(process.argv[2]);
const { createRng } = await import(new URL('../../dist/sim/rng.js', import.meta.url).href);
const rng = createRng(seed, 2);
const driver = createDriver(fixtureDir, dir, { ...opts, rng: () => rng.next() });
driver.start();
process.send({ kind: 'ready', root: driver.root, fifoZoneType: driver.fifoZoneType, vanishZoneType: driver.vanishZoneType, socZones: driver.socZones });
process.on('message', (m) => {
  if (m?.kind !== 'stop') return;
  driver.stop();
  process.send({ kind: 'stopped', counts: driver.counts, lastError: driver.lastError() }, () => process.exit(0));
});
// Orphaned (the soak was killed): stop changing the tree.
process.on('disconnect', () => {
  driver.stop();
  process.exit(0);
});
