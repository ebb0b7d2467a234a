// One process of simulated agents (bench/_simulated-agents.ts: the real agent WebSocket
// protocol, every launch reported TASK_RUNNING at once), started by bench/_agent-fleet.ts so the
// agents' CPU is not the benchmark's own. It talks to its parent in JSON lines:
//   stdout {"type":"registered","count","atMs"}    every agent registered once (after start)
//   stdin  mark                                       start counting registrations afresh
//   stdout {"type":"reregistered","count","atMs"}  every agent registered again since the mark;
//                                                   atMs: the wall clock of the last one
//   stdin  stats → stdout {"type":"stats","launches","tasks","finished","registrations","kills",
//                          "dials","handshakeTimeouts","redirects","cpuMs","closes",
//                          "mostDialsSinceMark","mostRegistrationsSinceMark",
//                          "eventLoopDelayMaxMs","notReregistered"}  (registrations: every agent's, the
//                          first included; the delay: this process's own event loop, the most since
//                          it started; notReregistered: the agents not registered again since the
//                          mark, by where they stand)
// With --finish-at-once, every launch is reported TASK_RUNNING and then TASK_FINISHED at once.
// Wall-clock times (Date.now) because the parent compares them with its own.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SimulatedAgent, simulatedResources } from './_simulated-agents.ts';

/** Registrations in flight at once while starting: 10,000 at once only measure the SYN backlog. */
const startConcurrency = 250;

const { values } = parseArgs({
  options: {
    masters: { type: 'string' },
    first: { type: 'string', default: '0' },
    count: { type: 'string' },
    cpus: { type: 'string', default: '16' },
    mem: { type: 'string', default: '16384' },
    'finish-at-once': { type: 'boolean', default: false },
  },
});
if (values.masters === undefined || values.count === undefined) {
  process.stderr.write(
    'usage: _agent-fleet-process.ts --masters a,b,c --count n [--first i] [--cpus c] [--mem m] [--finish-at-once]\n',
  );
  process.exit(2);
}
const masters = values.masters.split(',');
const first = Number(values.first);
const count = Number(values.count);
const resources = simulatedResources(Number(values.cpus), Number(values.mem), [31_000, 32_000]);
const agents = Array.from(
  { length: count },
  (_, index) =>
    new SimulatedAgent(masters, {
      hostname: `sim-${first + index}`,
      resources,
      finishAtOnce: values['finish-at-once'] === true,
    }),
);

function send(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Agents registered since the last mark (null: no mark yet), and when the last one did. */
let sinceMark: Set<SimulatedAgent> | null = null;
for (const agent of agents) {
  agent.onRegistered = () => {
    if (sinceMark === null || sinceMark.has(agent)) return;
    sinceMark.add(agent);
    if (sinceMark.size === agents.length) {
      send({ type: 'reregistered', count: sinceMark.size, atMs: Date.now(), timeline: failoverTimeline() });
    }
  };
}

/** Each agent's wall-clock times since the mark: first dial, and the registering socket's dial, open, answer. */
function failoverTimeline(): Record<string, number[]> {
  return {
    firstDialAtMs: agents.map((agent) => agent.firstDialSinceMarkAtMs ?? Number.NaN),
    leaderDialAtMs: agents.map((agent) => agent.lastRegistration?.dialAtMs ?? Number.NaN),
    registerSentAtMs: agents.map((agent) => agent.lastRegistration?.openAtMs ?? Number.NaN),
    registeredAtMs: agents.map((agent) => agent.lastRegistration?.atMs ?? Number.NaN),
  };
}

/** The agents not registered again since the mark, counted by where they stand (empty without a mark). */
function notReregistered(): Record<string, number> {
  const states: Record<string, number> = {};
  if (sinceMark === null) return states;
  for (const agent of agents) {
    if (sinceMark.has(agent)) continue;
    const state = agent.connectionState();
    states[state] = (states[state] ?? 0) + 1;
  }
  return states;
}

/** Every agent's socket closes, summed by cause. */
function closeCauses(): Record<string, number> {
  const causes: Record<string, number> = {};
  for (const agent of agents) for (const [cause, count] of agent.closes) causes[cause] = (causes[cause] ?? 0) + count;
  return causes;
}

// A starved fleet answers pings late, and its agents look silent to the leader: this says so.
const eventLoopDelay = monitorEventLoopDelay({ resolution: 20 });
eventLoopDelay.enable();

/** Each agent's dials and registrations at the mark, so stats can give the most any one made since. */
let atMark: { readonly dials: number; readonly registrations: number }[] = [];

/** The most dials and registrations any one agent made since the mark (0 without a mark). */
function mostSinceMark(): { readonly dials: number; readonly registrations: number } {
  let dials = 0;
  let registrations = 0;
  agents.forEach((agent, index) => {
    const before = atMark[index];
    if (before === undefined) return;
    dials = Math.max(dials, agent.dials - before.dials);
    registrations = Math.max(registrations, agent.registrations - before.registrations);
  });
  return { dials, registrations };
}

function killCauses(): Record<string, number> {
  const causes: Record<string, number> = {};
  for (const agent of agents)
    for (const [cause, count] of agent.killCauses) causes[cause] = (causes[cause] ?? 0) + count;
  return causes;
}

/** This process's own CPU time, user and system (ms). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1000);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'mark') {
    sinceMark = new Set();
    for (const agent of agents) agent.markTimeline();
    atMark = agents.map((agent) => ({ dials: agent.dials, registrations: agent.registrations }));
  } else if (line === 'stats')
    send({
      type: 'stats',
      launches: agents.reduce((total, agent) => total + agent.launches, 0),
      tasks: agents.reduce((total, agent) => total + agent.tasks.size, 0),
      finished: agents.reduce((total, agent) => total + agent.finished, 0),
      registrations: agents.reduce((total, agent) => total + agent.registrations, 0),
      kills: agents.reduce((total, agent) => total + agent.kills, 0),
      killCauses: killCauses(),
      dials: agents.reduce((total, agent) => total + agent.dials, 0),
      handshakeTimeouts: agents.reduce((total, agent) => total + agent.handshakeTimeouts, 0),
      redirects: agents.reduce((total, agent) => total + agent.redirects, 0),
      cpuMs: cpuMs(),
      closes: closeCauses(),
      mostDialsSinceMark: mostSinceMark().dials,
      mostRegistrationsSinceMark: mostSinceMark().registrations,
      eventLoopDelayMaxMs: Math.round(eventLoopDelay.max / 1e6),
      notReregistered: notReregistered(),
    });
});
process.stdin.on('end', () => {
  for (const agent of agents) agent.close();
  process.exit(0);
});

let next = 0;
async function starter(): Promise<void> {
  while (next < agents.length) await agents[next++]!.start();
}
await Promise.all(Array.from({ length: Math.min(startConcurrency, agents.length) }, starter));
send({ type: 'registered', count: agents.length, atMs: Date.now() });
