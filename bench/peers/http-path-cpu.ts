// Diagnostic for issue 19 (not the side-by-side benchmark): the CPU the leader's HTTP layer spends
// on one KV write, apart from Raft. The real HTTP server (buildHttpServer: routing, body parsing and
// its schema, CORS, authentication, the Idempotency-Key check, the audit line through a real pino
// logger to /dev/null, request metrics in a real registry, the answer) over a leader facade whose
// submit encodes the command (as core.ts does) and answers at once. Requests go through fastify's
// inject, so sockets are left out: what is measured is the code between them, which Raft's batching
// does not blur the way it blurs CPU per write in cpu-per-write.ts on a loaded machine.
// CPU time (process.cpuUsage), not wall time. With --baseline <checkout>, both checkouts' servers run
// in this one process (each its own modules and node_modules) and batches alternate A B B A, so both
// meet the same load from a shared machine from one second to the next; it prints the medians and
// the ratio this ÷ baseline (of the medians, and the median of each batch against its neighbour).
// Usage:
//   npx tsx bench/peers/http-path-cpu.ts [--requests 2000 per batch] [--concurrency 64] [--batches 30]
//     [--baseline <dir>]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { benchValue } from './load.ts';

const thisTree = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const warmUpRequests = 5000;
const namespace = 'bench';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    batches: { type: 'string', default: '30' },
    baseline: { type: 'string' },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const batches = Number(values.batches);

interface Loaded {
  readonly inject: (url: string, payload: string) => Promise<number>;
  readonly close: () => Promise<void>;
}

async function load(tree: string): Promise<Loaded> {
  const from = (file: string) => import(pathToFileURL(path.join(tree, file)).href);
  const { buildHttpServer } = await from('src/http/server.ts');
  const { createLogger } = await from('src/util/logger.ts');
  const { MetricRegistry } = await from('src/util/metric-registry.ts');
  const { encodeCommand } = await from('src/state-machine/codec.ts');
  const { allowEverything } = await from('src/auth/authorizer.ts');
  const pino = (await import('pino')).default;
  const sink = () => pino.destination({ dest: '/dev/null', sync: true });
  let index = 0;
  const master = {
    id: 'm1',
    address: '127.0.0.1:5050',
    startedAtMs: Date.now(),
    flags: {},
    leads: () => true,
    electedAtMs: () => 0,
    onChange: () => () => {},
    async submit(command: Record<string, unknown>) {
      index += 1;
      encodeCommand(command);
      return { index, result: { ok: true, version: index } };
    },
  };
  const app = buildHttpServer({
    master,
    logger: createLogger({ node: 'm1', component: 'http' }, sink()),
    metrics: new MetricRegistry({ master: 'm1' }),
    access: {
      credentials: null,
      authorizer: allowEverything,
      auditLog: createLogger({ node: 'm1', component: 'audit' }, sink()),
      clusterSecret: 'bench',
    },
  });
  await app.ready();
  const headers = { 'content-type': 'application/json' };
  return {
    inject: async (url, payload) => (await app.inject({ method: 'PUT', url, payload, headers })).statusCode,
    close: () => app.close(),
  };
}

async function drive(loaded: Loaded, count: number): Promise<void> {
  const payload = JSON.stringify({ value: benchValue(1) });
  let next = 0;
  const worker = async (client: number) => {
    const url = `/api/v1/kv/${namespace}/client-${client}`;
    while (next < count) {
      next += 1;
      const status = await loaded.inject(url, payload);
      if (status !== 200) throw new Error(`PUT ${url}: status ${status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, client) => worker(client)));
}

/** CPU µs per write of one batch of `count` requests. */
async function batch(loaded: Loaded, count: number): Promise<number> {
  const before = process.cpuUsage();
  await drive(loaded, count);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const trees: [string, string][] = [['flotilla', thisTree]];
if (values.baseline !== undefined) trees.push(['flotilla-baseline', path.resolve(values.baseline)]);
const loadedTrees = await Promise.all(trees.map(([, tree]) => load(tree)));
for (const loaded of loadedTrees) await drive(loaded, warmUpRequests);
const figures: number[][] = trees.map(() => []);
for (let round = 1; round <= batches; round++) {
  // The order alternates, so neither tree always runs first after the other's garbage.
  const order = round % 2 === 0 ? [...trees.keys()] : [...trees.keys()].reverse();
  for (const position of order) figures[position]!.push(await batch(loadedTrees[position]!, requests));
}
for (const loaded of loadedTrees) await loaded.close();
const medians = figures.map((rows) => percentile(rows, 0.5));
for (const [position, [name]] of trees.entries()) {
  const row = {
    system: name,
    batches,
    requestsPerBatch: requests,
    cpuMicrosecondsPerWrite: round1(medians[position]!),
  };
  process.stdout.write(`median ${JSON.stringify(row)}\n`);
}
if (figures.length === 2) {
  // Each batch of this tree against the baseline batch next to it: the load they met was the same.
  const pairRatios = figures[0]!.map((value, index) => value / figures[1]![index]!);
  const ratios = {
    medianRatio: round3(medians[0]! / medians[1]!),
    medianPairRatio: round3(percentile(pairRatios, 0.5)),
  };
  process.stdout.write(`ratio this/baseline ${JSON.stringify(ratios)}\n`);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
