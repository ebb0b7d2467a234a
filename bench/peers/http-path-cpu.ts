// Diagnostic for issue 19 (not the side-by-side benchmark): the CPU the leader's HTTP layer spends
// on one KV write, apart from Raft. The real HTTP server (buildHttpServer: routing, body parsing and
// its schema, CORS, authentication, the Idempotency-Key check, the audit line through a real pino
// logger to /dev/null, request metrics in a real registry, the answer) over a leader facade whose
// submit encodes the command (as core.ts does) and answers at once. Requests go through fastify's
// inject, so sockets are left out: what is measured is the code between them, which Raft's batching
// does not blur the way it blurs CPU per write in cpu-per-write.ts on a loaded machine.
// CPU time (process.cpuUsage), not wall time, so a shared machine's load disturbs it less; each
// round is its own process, rounds alternate A B A B with --baseline <checkout>, and it prints each
// round, then the medians and the ratio this ÷ baseline.
// Usage:
//   npx tsx bench/peers/http-path-cpu.ts [--requests 20000] [--concurrency 64] [--rounds 5] [--baseline <dir>]
import { execFileSync } from 'node:child_process';
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
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
    baseline: { type: 'string' },
    /** Internal: run one round in this process, against this checkout's src. */
    tree: { type: 'string' },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

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

async function oneRound(tree: string): Promise<void> {
  const loaded = await load(tree);
  await drive(loaded, warmUpRequests);
  const before = process.cpuUsage();
  await drive(loaded, requests);
  const used = process.cpuUsage(before);
  await loaded.close();
  process.stdout.write(`${JSON.stringify({ cpuMicrosecondsPerWrite: (used.user + used.system) / requests })}\n`);
}

if (values.tree !== undefined) {
  await oneRound(values.tree);
} else {
  const trees: [string, string][] = [['flotilla', thisTree]];
  if (values.baseline !== undefined) trees.push(['flotilla-baseline', path.resolve(values.baseline)]);
  const figures = new Map<string, number[]>(trees.map(([name]) => [name, []]));
  const script = fileURLToPath(import.meta.url);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [name, tree] of trees) {
      const args = ['--import', 'tsx', script, '--tree', tree, '--requests', String(requests)];
      const output = execFileSync(process.execPath, [...args, '--concurrency', String(concurrency)], {
        cwd: thisTree,
        encoding: 'utf8',
      });
      const { cpuMicrosecondsPerWrite } = JSON.parse(output.trim().split('\n').pop()!) as Record<string, number>;
      figures.get(name)!.push(cpuMicrosecondsPerWrite!);
      process.stdout.write(`${JSON.stringify({ system: name, round, cpuMicrosecondsPerWrite })}\n`);
    }
  }
  const medians = trees.map(([name]) => percentile(figures.get(name)!, 0.5));
  for (const [position, [name]] of trees.entries()) {
    process.stdout.write(`median ${JSON.stringify({ system: name, cpuMicrosecondsPerWrite: medians[position] })}\n`);
  }
  if (medians.length === 2) {
    process.stdout.write(
      `ratio this/baseline ${JSON.stringify({ cpuMicrosecondsPerWrite: medians[0]! / medians[1]! })}\n`,
    );
  }
}
