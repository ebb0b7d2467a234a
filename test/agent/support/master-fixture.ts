// A test-only master process: the real Master, plus a loopback-only side port on which the test
// submits commands through the master's facade (the same path, validation and Raft as the HTTP
// layer) and reads the replicated tasks and agents. Never part of the product.
//   node --import tsx master-fixture.ts --id m1 --listen h:p --peers … --data-dir D   (prints "command-port N")
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { parseMasterFlags } from '../../../src/master/config.ts';
import { Master } from '../../../src/master/daemon.ts';
import type { Command } from '../../../src/state-machine/commands.ts';
import { createLogger } from '../../../src/util/logger.ts';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    listen: { type: 'string' },
    peers: { type: 'string' },
    'data-dir': { type: 'string' },
  },
});
// The same flags (and checks) as `flotilla master`, with this fixture's timing and agent liveness.
const config = parseMasterFlags({
  id: values.id,
  listen: values.listen,
  peers: values.peers,
  dataDir: values['data-dir'],
  tickMs: '20',
  agentPingIntervalMs: '300',
  agentMaxMissedPings: '5',
  agentReregistrationGraceMs: '10000',
  // The built-in frameworks would take the offers these tests count.
  services: 'off',
  jobs: 'off',
});
const master = await Master.start(config, { logger: createLogger({ node: values.id!, component: 'master' }) });

const side = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const answer = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.url === '/submit') {
      master.facade.submit(JSON.parse(Buffer.concat(chunks).toString()) as Command).then(
        ({ result }) => answer(200, result),
        (error: Error) => answer(503, { error: error.message }),
      );
      return;
    }
    const state = master.facade.state();
    if (request.url === '/tasks')
      return answer(
        200,
        [...state.tasks.values()].map((task) => ({
          frameworkId: task.frameworkId,
          id: task.id,
          state: task.state,
          agentId: task.agentId,
          statuses: task.statuses.map((status) => ({
            state: status.state,
            uuid: status.uuid,
            message: status.message,
          })),
        })),
      );
    if (request.url === '/agents')
      return answer(
        200,
        [...state.agents.values()].map((agent) => ({ id: agent.id, hostname: agent.hostname, state: agent.state })),
      );
    if (request.url === '/offers') return answer(200, [...state.offers.values()]);
    answer(404, {});
  });
});
// Port 0: the kernel picks a free one (no race with other tests' ports); the test reads it here.
side.listen(0, '127.0.0.1', () => {
  const address = side.address();
  process.stdout.write(`command-port ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => void master.stop().then(() => process.exit(0)));
