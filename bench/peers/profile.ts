// Profiling aid (not a benchmark): three Flotilla masters under one load, each master run with
// `node --cpu-prof`, stopped with SIGTERM so the profiles are written. Usage:
//   npx tsx bench/peers/profile.ts <clients> <seconds> <profile-dir> [master flags, e.g. --raft-storage-writer thread]
// then open the .cpuprofile files in Chrome DevTools or speedscope (flame graphs).
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

const [clientsText = '1', secondsText = '5', profileDirectory = '/tmp/flotilla-profiles', ...masterFlags] =
  process.argv.slice(2);
const system = new FlotillaSystem(makeTempDir('profile-peers-'), masterFlags, [
  '--cpu-prof',
  `--cpu-prof-dir=${profileDirectory}`,
]);
await system.start();
await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
const result = await runRound(
  (client) => system.openClient(client),
  Number(clientsText),
  Number(secondsText),
  benchValue(1),
);
process.stdout.write(
  `${JSON.stringify({ clients: Number(clientsText), opsPerSecond: result.ops / result.seconds, p50Ms: result.p50Ms, p99Ms: result.p99Ms })}\n`,
);
for (let index = 0; index < 3; index++) await system.member(index).signal('SIGTERM');
await sleep(8_000);
await system.stop();
