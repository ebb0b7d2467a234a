// The leader's CPU per agent re-registration and per step-down, in process (issue 12), for a
// checkout named on the command line so the same script measures the session's start too:
//
//   npx tsx bench/registration-scans.ts <checkout root> [--agents 10000] [--pongs 10000]
//   (or npm run bench -- registration-scans <checkout root> ...)
//
// (1) post-commit: removeUnreportedExecutors (src/master/agent-executors.ts) for each of N agents,
//     each running one executor with one live task and reporting it, as after a failover;
// (2) apply: those agents' reregister_agent items in agent_registration_batch commands of 256;
// (3) step-down: one agent socket, `pongs` pongs written in the turn its gateway stops leading;
//     the process's CPU until every frame is read (warned about, or dropped and counted).
// Printed as one JSON line: microseconds per agent for (1) and (2), milliseconds for (3).
import { openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { agents: { type: 'string', default: '10000' }, pongs: { type: 'string', default: '10000' } },
});
const root = resolve(positionals[0] ?? '.');
const agents = Number(values.agents);
const pongs = Number(values.pongs);

const { apply } = await import(`${root}/src/state-machine/apply.ts`);
const { emptyState } = await import(`${root}/src/state-machine/state.ts`);
const { removeUnreportedExecutors } = await import(`${root}/src/master/agent-executors.ts`);
const { AgentGateway } = await import(`${root}/src/master/agent-gateway.ts`);
const { agentWebSocketPath, encodeMessage } = await import(`${root}/src/protocol/agent.ts`);
const { developmentSecret, secretHeader } = await import(`${root}/src/util/shared-secret.ts`);
const ids = await import(`${root}/src/state-machine/ids.ts`);
const fx = await import(`${root}/test/state-machine/support/fixtures.ts`);
const { default: pino } = await import(`${root}/node_modules/pino/pino.js`);
const { default: WebSocket } = await import(`${root}/node_modules/ws/index.js`);

const microsPerAgent = (usage: NodeJS.CpuUsage): number => Number(((usage.user + usage.system) / agents).toFixed(2));

const state = emptyState();
let index = 0;
function run(command: { readonly type: string; readonly [field: string]: unknown }): void {
  index += 1;
  const result = apply(state, command, index, []);
  if (!result.ok) throw new Error(`${command.type}: ${result.code} ${result.message}`);
}
const agentIds: string[] = Array.from({ length: agents }, (_, n) => ids.agentId(`agent-${String(n).padStart(6, '0')}`));
for (const id of agentIds) run(fx.registerAgent(id, { hostname: id }));
run(fx.subscribe());
const worker = fx.executorDefinition('worker', fx.resources(fx.cpus(0.1), fx.mem(16)));
for (const [n, id] of agentIds.entries()) {
  const offer = ids.offerId(`o-${n}`);
  run(fx.createOffers(fx.offerDefinition(offer, fx.resources(fx.cpus(1), fx.mem(64)), { agentId: id })));
  const task = fx.taskDefinition(ids.taskId(`t-${n}`), fx.resources(fx.cpus(0.5), fx.mem(16)), {
    command: null,
    executor: worker,
    data: null,
  });
  run(fx.accept([offer], [fx.launch(task)]));
}

const reports = {
  master: { state: () => state, submit: () => Promise.reject(new Error('no executor is unreported')) },
  events: { frameworkMessage() {}, executorGone() {} },
  logger: { info() {}, warn() {} },
};
const reported = [{ frameworkId: 'f1', executorId: 'worker' }];
const postCommitStart = process.cpuUsage();
for (const id of agentIds) await removeUnreportedExecutors(reports, id, reported);
const postCommit = process.cpuUsage(postCommitStart);

const applyStart = process.cpuUsage();
for (let start = 0; start < agents; start += 256) {
  const items = agentIds.slice(start, start + 256).map((id, k) => ({
    type: 'reregister_agent',
    keepsReservations: true,
    agentId: id,
    info: fx.agentInfo({ hostname: id }),
    tasks: [{ frameworkId: ids.frameworkId('f1'), taskId: ids.taskId(`t-${start + k}`), state: 'TASK_STAGING' }],
  }));
  run({ type: 'agent_registration_batch', at: fx.baseTime, items });
}
const applied = process.cpuUsage(applyStart);

// (3): warnings go to /dev/null, as a leader's log to a file would, and are counted.
const devNull = openSync('/dev/null', 'w');
let warnings = 0;
const logger = pino(
  { level: 'info' },
  {
    write(line: string) {
      if (line.includes('"level":40')) warnings += 1;
      writeSync(devNull, line);
    },
  },
);
const gateway = new AgentGateway({
  master: {
    address: '127.0.0.1:1',
    raft: () => ({ role: 'follower', leaderAddress: null }),
    state: () => emptyState(),
    onChange: () => () => {},
    submit: () => Promise.reject(new Error('nothing is proposed')),
  },
  leaderServicesRunning: async () => {},
  zone: null,
  settings: { pingIntervalMs: 600_000, maxMissedPings: 3, reregistrationGraceMs: 600_000 },
  secret: developmentSecret,
  maxConnections: 10,
  executorEvents: { frameworkMessage() {}, executorGone() {} },
  logger,
});
const server = createServer();
server.on('upgrade', (request, socket, head) => {
  if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
await gateway.start(1);
const { port } = server.address() as AddressInfo;
const client = new WebSocket(`ws://127.0.0.1:${port}${agentWebSocketPath}`, {
  headers: { [secretHeader]: developmentSecret },
});
await new Promise((done) => client.once('open', done));
const frames = Array.from({ length: pongs }, (_, nonce) => encodeMessage({ type: 'pong', nonce }));
const stepDownStart = process.cpuUsage();
for (const frame of frames) client.send(frame);
gateway.stop();
// The session's start has no framesAfterClose: there every frame is a warning.
while ((gateway.framesAfterClose ?? 0) + warnings < pongs) await new Promise((done) => setImmediate(done));
const stepDown = process.cpuUsage(stepDownStart);
client.terminate();
await gateway.close();
server.close();

console.log(
  JSON.stringify({
    root,
    agents,
    executors: state.executors.size,
    postCommitMicrosPerAgent: microsPerAgent(postCommit),
    applyMicrosPerAgent: microsPerAgent(applied),
    pongs,
    stepDownWarnings: warnings,
    stepDownCpuMs: Math.round((stepDown.user + stepDown.system) / 1000),
  }),
);
