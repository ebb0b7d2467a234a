// Diagnostic for issue 19: the load generator's CPU per write with Node's HTTP client against the
// lean one (raw-http-client.ts), on one Flotilla cluster, rounds alternating node raw node raw, so
// both meet the same load. Prints each round, then the medians. Usage:
//   npx tsx bench/peers/client-cpu.ts [--clients 16,256] [--seconds 3] [--rounds 3]
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16,256' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const clientKinds = ['node', 'raw'] as const;
const system = new FlotillaSystem(makeTempDir('client-cpu-'));
const rows: { kind: string; clients: number; writesPerSecond: number; clientCpuMsPerWrite: number }[] = [];
await system.start();
try {
  await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
  let tag = 0;
  for (const clients of values.clients.split(',').map(Number)) {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const kind of clientKinds) {
        process.env.FLOTILLA_PEERS_HTTP_CLIENT = kind;
        const result = await runRound(
          (client) => system.openClient(client),
          clients,
          Number(values.seconds),
          benchValue(++tag),
        );
        const row = {
          kind,
          clients,
          writesPerSecond: Math.round(result.ops / result.seconds),
          clientCpuMsPerWrite: Math.round(result.clientCpuMsPerWrite * 1000) / 1000,
        };
        rows.push(row);
        process.stdout.write(`${JSON.stringify({ ...row, errors: result.errors })}\n`);
      }
    }
  }
} finally {
  await system.stop();
}
for (const clients of new Set(rows.map((row) => row.clients))) {
  for (const kind of clientKinds) {
    const mine = rows.filter((row) => row.kind === kind && row.clients === clients);
    const median = (numbers: number[]) => percentile(numbers, 0.5);
    process.stdout.write(
      `median ${JSON.stringify({ kind, clients, writesPerSecond: median(mine.map((row) => row.writesPerSecond)), clientCpuMsPerWrite: median(mine.map((row) => row.clientCpuMsPerWrite)) })}\n`,
    );
  }
}
