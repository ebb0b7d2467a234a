// One allocation cycle of the pure allocator (src/offers) over a synthetic cluster held in a
// real ClusterStateMachine: N agents (8 cpus, 32 GiB, 1000 ports; a quarter of them with a
// reservation), M frameworks in hierarchical roles ("team<k>/fw<i>", ten teams), each agent
// already running one task (a quarter of its cpus and memory). The cycle is computed, not
// applied, so every run sees the same state. Reported: median wall time of a whole cycle, of
// its set-up (charging tasks, offers and agents), and, run in slices as the leader's driver
// runs it (src/master/allocation-slices.ts), the longest slice and the event loop's largest
// delay meanwhile (perf_hooks.monitorEventLoopDelay); and the offers made.
//
// Then the steady state, as the leader's driver runs it with its memory of the last cycle
// (src/offers/allocation-memory.ts): the full cycle's offers are applied, and each following run
// first changes 1% + 1% of the agents (the outstanding offers of some declined, the task of others
// finished) and then times one incremental cycle (set-up, the visit of the agents that changed,
// the result) and applies its offers. Reported: its median wall and CPU time, the agents it
// visited, and the first such cycle alone (it compares every agent its predecessor offered).
//
// `--warm-ups` full cycles run untimed first (default 1). A leader's first full cycle runs with a
// cold JIT; one that runs every cycle (quotas set) is warm after a few: 10 shows that case.
//
//   npm run bench -- allocator [--agents 1000,10000] [--frameworks 100,1000] [--runs 5] [--warm-ups 1]
import { defaultMaxSkipReasonsPerFramework } from '../src/offers/limits.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { isTerminalTaskState } from '../src/protocol/task-states.ts';
import { AllocationCycle, parseMinAllocatable } from '../src/offers/allocator.ts';
import { runInSlices } from '../src/master/allocation-slices.ts';
import { sliceBudgetMs } from '../src/master/limits.ts';
import { AllocationHints } from '../src/offers/hints.ts';
import { AllocationMemory } from '../src/offers/allocation-memory.ts';
import { encodeCommand } from '../src/state-machine/codec.ts';
import type { Command } from '../src/state-machine/commands.ts';
import { agentId, frameworkId, offerId, taskId, type AgentId, type OfferId } from '../src/state-machine/ids.ts';
import { maxOffersPerCommand } from '../src/state-machine/limits.ts';
import { ClusterStateMachine } from '../src/state-machine/machine.ts';
import { canonicalize, type Resource } from '../src/state-machine/resources.ts';
import { median, printTable, round } from './_report.ts';

const teams = 10;
const at = 1_700_000_000_000;

function scalar(name: string, value: number, role = '*'): Resource {
  return { name, role, type: 'SCALAR', scalar: value };
}

function agentResources(index: number) {
  const list: Resource[] = [
    scalar('cpus', 8),
    scalar('mem', 32768),
    scalar('disk', 100_000),
    { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 31000, end: 31999 }] },
  ];
  if (index % 4 === 0)
    list.push(scalar('cpus', 2, `team${index % teams}`), scalar('mem', 4096, `team${index % teams}`));
  return canonicalize(list);
}

class Builder {
  readonly machine = new ClusterStateMachine();
  #index = 0;

  run(command: Command): void {
    this.#index += 1;
    const result = this.machine.apply(encodeCommand(command), this.#index);
    if (!result.ok) throw new Error(`${command.type}: ${result.code} ${result.message}`);
  }
}

export function buildCluster(agents: number, frameworks: number): Builder {
  const builder = new Builder();
  for (let index = 0; index < frameworks; index += 1) {
    const info = {
      name: `fw${index}`,
      principal: null,
      roles: [`team${index % teams}/fw${index}`],
      failoverTimeoutMs: 60_000,
      capabilities: [],
      hostname: null,
      webuiUrl: null,
      user: null,
    };
    builder.run({ type: 'subscribe_framework', at, frameworkId: frameworkId(`f${index}`), info });
  }
  for (let index = 0; index < agents; index += 1) {
    const info = {
      hostname: `host${index}`,
      address: { ip: `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`, port: 5051 },
      zone: null,
      resources: agentResources(index),
      attributes: {},
    };
    builder.run({ type: 'register_agent', at, agentId: agentId(`a${index}`), info });
  }
  // One running task per agent, a quarter of it, from framework (agent mod frameworks).
  const task = canonicalize([scalar('cpus', 2), scalar('mem', 8192)]);
  for (let start = 0; start < agents; start += maxOffersPerCommand) {
    const count = Math.min(maxOffersPerCommand, agents - start);
    const offers = Array.from({ length: count }, (_, offset) => {
      const index = start + offset;
      const framework = index % frameworks;
      return {
        offerId: offerId(`setup-${index}`),
        frameworkId: frameworkId(`f${framework}`),
        agentId: agentId(`a${index}`),
        role: `team${framework % teams}/fw${framework}`,
        resources: task,
      };
    });
    builder.run({ type: 'create_offers', at, offers });
    for (const offer of offers) {
      const definition = {
        id: taskId(`t-${offer.agentId}`),
        name: 'load',
        resources: task,
        command: { value: 'sleep 3600', shell: true, arguments: [], environment: {}, user: null },
        container: null,
        healthCheck: null,
        killGracePeriodMs: null,
        labels: {},
        executor: null,
        data: null,
      };
      builder.run({
        type: 'accept_offers',
        at,
        frameworkId: offer.frameworkId,
        offerIds: [offer.offerId],
        operations: [{ type: 'LAUNCH', tasks: [definition] }],
      });
    }
  }
  return builder;
}

interface RunResult {
  cycleMs: number;
  setupMs: number;
  /** CPU time (user + system) of the whole cycle: on a loaded machine wall time mostly measures waiting for a core. */
  cycleCpuMs: number;
  offers: number;
}

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

let offerSequence = 0;

function config() {
  return {
    minAllocatable: parseMinAllocatable('cpus:0.01|mem:32'),
    maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
    newOfferId: () => {
      offerSequence += 1;
      return offerId(`O${offerSequence}`);
    },
  };
}

function runOnce(machine: ClusterStateMachine): RunResult {
  const cpuStarted = cpuMs();
  const started = performance.now();
  const cycle = new AllocationCycle({
    state: machine.state,
    hints: new AllocationHints(),
    nowMs: at,
    config: config(),
  });
  cycle.prepare();
  const setupMs = performance.now() - started;
  cycle.runSlice(Number.MAX_SAFE_INTEGER);
  const offers = cycle.result().offers.length;
  return { cycleMs: performance.now() - started, setupMs, cycleCpuMs: cpuMs() - cpuStarted, offers };
}

/** As the driver runs it: time-budgeted slices with the event loop free between them. */
async function runSliced(machine: ClusterStateMachine): Promise<{ longestSliceMs: number; delayMaxMs: number }> {
  const cycle = new AllocationCycle({
    state: machine.state,
    hints: new AllocationHints(),
    nowMs: at,
    config: {
      minAllocatable: parseMinAllocatable('cpus:0.01|mem:32'),
      maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
      newOfferId: () => offerId('O'),
    },
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const run = await runInSlices(cycle, () => true);
  delay.disable();
  return { longestSliceMs: run!.longestSliceMs, delayMaxMs: delay.max / 1e6 };
}

interface SteadyRun {
  cycleMs: number;
  cycleCpuMs: number;
  visited: number;
  offers: number;
}

/** One cycle with the driver's memory, timed; then its offers are applied, as the driver would. */
function runRemembering(builder: Builder, memory: AllocationMemory, hints: AllocationHints): SteadyRun {
  const cpuStarted = cpuMs();
  const started = performance.now();
  const released = hints.prune(at);
  const incremental = { memory, releasedAgentIds: released };
  const cycle = new AllocationCycle({ state: builder.machine.state, hints, nowMs: at, config: config(), incremental });
  cycle.runSlice(Number.MAX_SAFE_INTEGER);
  const { offers } = cycle.result();
  memory.remember(cycle.outcome(), cycle.full);
  const run = { cycleMs: performance.now() - started, cycleCpuMs: cpuMs() - cpuStarted, visited: cycle.agentsVisited };
  for (let start = 0; start < offers.length; start += maxOffersPerCommand)
    builder.run({ type: 'create_offers', at, offers: offers.slice(start, start + maxOffersPerCommand) });
  return { ...run, offers: offers.length };
}

/** Run `run` of the steady state: 1% of the agents have their offers declined, 1% their task finished. */
function churn(builder: Builder, agents: number, frameworks: number, run: number): void {
  const changed = Math.max(1, Math.floor(agents / 100));
  const offersByAgent = new Map<AgentId, { frameworkId: string; id: OfferId }[]>();
  for (const offer of builder.machine.state.offers.values()) {
    const list = offersByAgent.get(offer.agentId) ?? [];
    list.push({ frameworkId: offer.frameworkId, id: offer.id });
    offersByAgent.set(offer.agentId, list);
  }
  for (let step = 0; step < changed; step += 1) {
    // Spread over the cluster, different agents each run.
    const declined = agentId(`a${((run * 2 * changed + step) * 7919) % agents}`);
    for (const offer of offersByAgent.get(declined) ?? [])
      builder.run({ type: 'decline_offers', at, frameworkId: frameworkId(offer.frameworkId), offerIds: [offer.id] });
    const index = ((run * 2 * changed + changed + step) * 7919) % agents;
    const task = builder.machine.state.tasks.get(`f${index % frameworks}/t-a${index}` as never);
    if (task === undefined || isTerminalTaskState(task.state)) continue;
    const status = {
      state: 'TASK_FINISHED' as const,
      reason: null,
      message: null,
      source: 'SOURCE_EXECUTOR' as const,
      uuid: null,
      timestampMs: at,
      healthy: null,
      data: null,
    };
    builder.run({
      type: 'update_task_status',
      at,
      frameworkId: task.frameworkId,
      taskId: task.id,
      agentId: task.agentId,
      status,
    });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '1000,10000' },
      frameworks: { type: 'string', default: '100,1000' },
      runs: { type: 'string', default: '5' },
      'warm-ups': { type: 'string', default: '1' },
    },
  });
  const agentCounts = values.agents!.split(',').map(Number);
  const frameworkCounts = values.frameworks!.split(',').map(Number);
  const runs = Number(values.runs);
  const warmUps = Number(values['warm-ups']);
  process.stderr.write(
    `allocator bench: one cycle of the pure allocator, in process, median of ${runs} runs (after ${warmUps} warm-ups)\n` +
      `  agents: 8 cpus, 32 GiB, 100 GB disk, 1000 ports, a quarter with 2 cpus + 4 GiB reserved; each runs one task (2 cpus, 8 GiB)\n` +
      `  frameworks: one role each, "team<k>/fw<i>" in ${teams} teams (hierarchical DRF), equal weights, no quota\n`,
  );
  const rows: Record<string, string | number>[] = [];
  for (const agents of agentCounts)
    for (const frameworks of frameworkCounts) {
      process.stderr.write(`  building ${agents} agents x ${frameworks} frameworks...\n`);
      const builder = buildCluster(agents, frameworks);
      const { machine } = builder;
      for (let run = 0; run < warmUps; run += 1) runOnce(machine);
      const results = Array.from({ length: runs }, () => runOnce(machine));
      // The longest synchronous stretch when the whole cycle, set-up included, runs in slices.
      const slices = [];
      for (let run = 0; run < runs; run += 1) slices.push(await runSliced(machine));
      // The steady state: the driver's memory, its offers applied, 1% + 1% of the agents changing per cycle.
      const memory = new AllocationMemory();
      const hints = new AllocationHints();
      runRemembering(builder, memory, hints);
      const steady: SteadyRun[] = [];
      for (let run = 0; run <= runs; run += 1) {
        churn(builder, agents, frameworks, run);
        steady.push(runRemembering(builder, memory, hints));
      }
      const [first, ...rest] = steady;
      const line = {
        bench: 'allocator',
        agents,
        frameworks,
        roles: frameworks + teams,
        cycle_ms: round(median(results.map((result) => result.cycleMs))),
        setup_ms: round(median(results.map((result) => result.setupMs))),
        cycle_cpu_ms: round(median(results.map((result) => result.cycleCpuMs))),
        longest_slice_ms: round(median(slices.map((slice) => slice.longestSliceMs))),
        slice_budget_ms: sliceBudgetMs,
        event_loop_delay_max_ms: round(median(slices.map((slice) => slice.delayMaxMs))),
        offers: results[0]!.offers,
        steady_first_cycle_ms: round(first!.cycleMs),
        steady_cycle_ms: round(median(rest.map((run) => run.cycleMs))),
        steady_cycle_cpu_ms: round(median(rest.map((run) => run.cycleCpuMs))),
        steady_agents_visited: median(rest.map((run) => run.visited)),
        steady_offers: median(rest.map((run) => run.offers)),
        load_average: round(loadavg()[0]!),
        runs,
        warm_ups: warmUps,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      rows.push({
        agents,
        frameworks,
        'cycle ms (median)': line.cycle_ms,
        'set-up ms': line.setup_ms,
        'cycle CPU ms': line.cycle_cpu_ms,
        'longest slice ms': line.longest_slice_ms,
        'loop delay max ms': line.event_loop_delay_max_ms,
        offers: line.offers,
        'steady cycle ms': line.steady_cycle_ms,
        'steady CPU ms': line.steady_cycle_cpu_ms,
        'steady: agents visited': line.steady_agents_visited,
        'steady: first ms': line.steady_first_cycle_ms,
      });
    }
  process.stdout.write('\n');
  printTable(rows);
}
