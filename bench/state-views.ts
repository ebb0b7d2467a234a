// GET_STATE at scale, in process: a real ClusterStateMachine holding N running tasks (10 per agent,
// launched through create_offers and accept_offers), answered (1) as the HTTP call now writes it,
// captured at once and written in slices (src/http/operator/state-json.ts, sliced-body.ts), and
// (2) built and stringified in one go (state-view.ts, what the call did before). Reported per
// way: median wall time, and the event loop's largest delay meanwhile
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution): the target is under 50 ms at 100,000 tasks;
// and the process's CPU time per answer. Reads after the warm-up find each task's text cached
// (entity-json.ts), as a leader's reads do for tasks unchanged since the last read.
// Also the answer's size, the operator SUBSCRIBED record's time and delay, the set-up's, and for
// the sliced GET_STATE its longest slice (our code's share of the delay; the rest is the garbage
// collector and, on a shared machine, the operating system's scheduler).
//
//   npm run bench -- state-views [--tasks 100000] [--runs 5] [--quick]
//
// With `--live`, the same calls read over HTTP from the leader of a live cluster instead
// (state-views-live.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { captureView, getStateJson } from '../src/http/operator/state-json.ts';
import { getState } from '../src/http/operator/state-view.ts';
import { subscribedRecord } from '../src/http/operator/subscriptions.ts';
import { ChunkBuilder, runSlice, slicedBody } from '../src/http/sliced-body.ts';
import { asciiJson } from '../src/protocol/ascii-json.ts';
import { encodeCommand } from '../src/state-machine/codec.ts';
import type { Command } from '../src/state-machine/commands.ts';
import type { TaskDefinition } from '../src/state-machine/values.ts';
import { agentId, frameworkId, offerId, taskId } from '../src/state-machine/ids.ts';
import { maxOffersPerCommand } from '../src/state-machine/limits.ts';
import { ClusterStateMachine } from '../src/state-machine/machine.ts';
import { canonicalize, type Resource } from '../src/state-machine/resources.ts';
import { median, printTable, round } from './_report.ts';
import { mainLive } from './state-views-live.ts';

const at = 1_700_000_000_000;
const tasksPerAgent = 10;
const frameworks = 10;

const scalar = (name: string, value: number): Resource => ({ name, role: '*', type: 'SCALAR', scalar: value });

class Builder {
  readonly machine = new ClusterStateMachine();
  #index = 0;

  run(command: Command): void {
    this.#index += 1;
    const result = this.machine.apply(encodeCommand(command), this.#index);
    if (!result.ok) throw new Error(`${command.type}: ${result.code} ${result.message}`);
  }
}

function taskDefinition(id: string): TaskDefinition {
  return {
    id: taskId(id),
    name: 'load',
    resources: canonicalize([scalar('cpus', 0.1), scalar('mem', 32)]),
    command: { value: 'sleep 3600', shell: true, arguments: [], environment: {}, user: null },
    container: null,
    healthCheck: null,
    killGracePeriodMs: null,
    labels: {},
    executor: null,
    data: null,
  };
}

function subscribeFrameworks(builder: Builder): void {
  for (let index = 0; index < frameworks; index += 1) {
    const info = {
      name: `fw${index}`,
      principal: null,
      roles: [`role${index}`],
      failoverTimeoutMs: 60_000,
      capabilities: [],
      hostname: null,
      webuiUrl: null,
      user: null,
    };
    builder.run({ type: 'subscribe_framework', at, frameworkId: frameworkId(`f${index}`), info });
  }
}

/** `tasks` running tasks, `tasksPerAgent` on each agent, frameworks taking agents in turn. */
export function buildState(tasks: number): ClusterStateMachine {
  const builder = new Builder();
  subscribeFrameworks(builder);
  const agents = Math.ceil(tasks / tasksPerAgent);
  for (let index = 0; index < agents; index += 1) {
    const info = {
      hostname: `host${index}`,
      address: { ip: `10.${index >> 16}.${(index >> 8) & 255}.${index & 255}`, port: 5051 },
      zone: null,
      resources: canonicalize([scalar('cpus', 8), scalar('mem', 32768)]),
      attributes: {},
    };
    builder.run({ type: 'register_agent', at, agentId: agentId(`a${index}`), info });
  }
  const held = canonicalize([scalar('cpus', 0.1 * tasksPerAgent), scalar('mem', 32 * tasksPerAgent)]);
  for (let start = 0; start < agents; start += maxOffersPerCommand) {
    const offers = Array.from({ length: Math.min(maxOffersPerCommand, agents - start) }, (_, offset) => {
      const index = start + offset;
      const framework = index % frameworks;
      return {
        offerId: offerId(`o${index}`),
        frameworkId: frameworkId(`f${framework}`),
        agentId: agentId(`a${index}`),
        role: `role${framework}`,
        resources: held,
      };
    });
    builder.run({ type: 'create_offers', at, offers });
    for (const offer of offers) {
      const count = Math.min(tasksPerAgent, tasks - Number(offer.agentId.slice(1)) * tasksPerAgent);
      const definitions = Array.from({ length: count }, (_, slot) => taskDefinition(`${offer.agentId}-t${slot}`));
      builder.run({
        type: 'accept_offers',
        at,
        frameworkId: offer.frameworkId,
        offerIds: [offer.offerId],
        operations: [{ type: 'LAUNCH', tasks: definitions }],
      });
    }
  }
  return builder.machine;
}

interface Measured {
  readonly ms: number;
  /** The process's CPU time (user + system) while answering: on a shared machine, steadier than wall time. */
  readonly cpuMs: number;
  readonly delayMaxMs: number;
  readonly bytes: number;
}

/** Runs `answer` with the event loop's delay watched; the loop must turn for the monitor to see a stall. */
async function measure(answer: () => Promise<number>): Promise<Measured> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // A few samples first: the monitor measures a stall from its previous sample.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const bytes = await answer();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  await new Promise((resolve) => setTimeout(resolve, 2));
  delay.disable();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, delayMaxMs: delay.max / 1e6, bytes };
}

const noStatistics = () => null;

/**
 * The longest slice of the last sliced GET_STATE, in wall time and in the process's CPU time (on
 * a shared machine a slice's wall time includes the time the process was not running at all).
 */
let longestSliceMs = 0;
let longestSliceCpuMs = 0;

/** collectInSlices (sliced-body.ts) with each slice timed. */
async function slicedLength(steps: Iterator<string>): Promise<number> {
  let length = 0;
  longestSliceMs = 0;
  longestSliceCpuMs = 0;
  const chunk = new ChunkBuilder();
  for (;;) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const slice = runSlice(steps, chunk);
    longestSliceMs = Math.max(longestSliceMs, performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    longestSliceCpuMs = Math.max(longestSliceCpuMs, (cpu.user + cpu.system) / 1000);
    length += slice.bytes.byteLength;
    if (slice.done) return length;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const ways: Record<string, (machine: ClusterStateMachine) => Promise<number>> = {
  'GET_STATE sliced': (machine) => slicedLength(getStateJson(captureView(machine.state, noStatistics))),
  // The HTTP body as the leader writes it (slices made into bytes, sliced-body.ts): the bytes a
  // socket is handed, which 'GET_STATE sliced' (the text) did not count before issue 12's getstate13.
  'GET_STATE body': async (machine) => {
    let bytes = 0;
    for await (const chunk of slicedBody(getStateJson(captureView(machine.state, noStatistics))))
      bytes += (chunk as Buffer).byteLength;
    return bytes;
  },
  'GET_STATE one go': async (machine) => JSON.stringify(getState(machine.state, noStatistics)).length,
  'SUBSCRIBED sliced': async (machine) => {
    const chunks = await subscribedRecord(captureView(machine.state, noStatistics, asciiJson), 15);
    return chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  },
};

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--live')) return mainLive(argv);
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const tasks = Number(values.tasks ?? (quick ? 2_000 : 100_000));
  const runs = Number(values.runs ?? (quick ? 1 : 5));
  process.stderr.write(
    `state-views bench: GET_STATE and SUBSCRIBED over ${tasks} running tasks (${tasksPerAgent} per agent, ` +
      `${frameworks} frameworks), in process, median of ${runs} runs after a warm-up; event-loop delay at 1 ms resolution\n`,
  );
  const buildStarted = performance.now();
  const machine = buildState(tasks);
  const buildMs = performance.now() - buildStarted;
  const rows: Record<string, string | number>[] = [];
  for (const [way, answer] of Object.entries(ways)) {
    await measure(() => answer(machine)); // warm-up
    const results: Measured[] = [];
    const slices: number[] = [];
    const sliceCpu: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      longestSliceMs = Number.NaN;
      longestSliceCpuMs = Number.NaN;
      results.push(await measure(() => answer(machine)));
      slices.push(longestSliceMs);
      sliceCpu.push(longestSliceCpuMs);
    }
    const line = {
      bench: 'state-views',
      way,
      tasks: machine.state.tasks.size,
      agents: machine.state.agents.size,
      ms: round(median(results.map((result) => result.ms))),
      cpu_ms: round(median(results.map((result) => result.cpuMs))),
      event_loop_delay_max_ms: round(median(results.map((result) => result.delayMaxMs))),
      longest_slice_ms: round(median(slices)),
      longest_slice_cpu_ms: round(median(sliceCpu)),
      bytes: results[0]!.bytes,
      build_ms: round(buildMs),
      runs,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    rows.push({
      way,
      tasks: line.tasks,
      'ms (median)': line.ms,
      'CPU ms': line.cpu_ms,
      'loop delay max ms': line.event_loop_delay_max_ms,
      'longest slice ms': Number.isNaN(line.longest_slice_ms) ? '-' : line.longest_slice_ms,
      'its CPU ms': Number.isNaN(line.longest_slice_cpu_ms) ? '-' : line.longest_slice_cpu_ms,
      MB: round(line.bytes / 1e6),
    });
  }
  process.stdout.write('\n');
  printTable(rows);
}
