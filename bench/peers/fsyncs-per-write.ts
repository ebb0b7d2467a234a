// Diagnostic (not a benchmark): how many entries share one fsync on each Flotilla master under a
// load, from the masters' own /metrics (flotilla_raft_fsync_seconds_count and
// flotilla_raft_persisted_entries_total) before and after one round. Usage:
//   npx tsx bench/peers/fsyncs-per-write.ts <clients> <seconds> [master flags: --raft-storage-writer thread]
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

interface Counts {
  readonly fsyncs: number;
  readonly entries: number;
}

async function counts(address: string): Promise<Counts> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const value = (name: string): number => {
    // `name value` or `name{labels} value`.
    const line = text
      .split('\n')
      .find((candidate) => /^[ {]/.test(candidate.slice(name.length)) && candidate.startsWith(name));
    if (line === undefined) throw new Error(`no ${name} in ${address}/metrics`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return {
    fsyncs: value('flotilla_raft_fsync_seconds_count'),
    entries: value('flotilla_raft_persisted_entries_total'),
  };
}

const [clientsText = '256', secondsText = '5', ...masterFlags] = process.argv.slice(2);
const system = new FlotillaSystem(makeTempDir('fsyncs-per-write-'), masterFlags);
await system.start();
try {
  const addresses = system.memberAddresses();
  await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
  const before = await Promise.all(addresses.map(counts));
  const result = await runRound(
    (client) => system.openClient(client),
    Number(clientsText),
    Number(secondsText),
    benchValue(1),
  );
  const after = await Promise.all(addresses.map(counts));
  const leader = (await system.waitHealthy(30_000)).find((view) => view.leader)!.index;
  const members = addresses.map((_address, index) => {
    const fsyncs = after[index]!.fsyncs - before[index]!.fsyncs;
    const entries = after[index]!.entries - before[index]!.entries;
    return { member: `m${index + 1}`, leader: index === leader, fsyncs, entries, entriesPerFsync: entries / fsyncs };
  });
  process.stdout.write(`${JSON.stringify({ clients: Number(clientsText), writes: result.ops, members })}\n`);
} finally {
  await system.stop();
}
