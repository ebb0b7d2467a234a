// Writing a state-machine snapshot, straight through (ClusterStateMachine.snapshot) against in
// slices (beginSnapshot, as the Raft driver now takes snapshots in the background), and restoring
// it, in one turn (restore) against in slices (prepareRestore, as the Raft driver restores), on a
// synthetic cluster: N agents (16 cpus, 64 GiB) each running T tasks of one framework, held in a
// real ClusterStateMachine. Reported per size, as medians over runs: the whole write, the
// capture (the part that must run at once), the longest time the event loop was held (a 1 ms
// interval timer's largest gap, and perf_hooks.monitorEventLoopDelay's max), and the bytes. The
// Raft heartbeat is 30 ms and the election timeout 300–600 ms (lan profile): a snapshot that
// holds the loop for longer than a heartbeat delays every follower's heartbeat.
//
// Also the CPU time of the whole process (its worker threads included: the snapshot worker builds
// and serialises the database), and `--format` picks the snapshot format written (10, or 9 or 8 as
// for a cluster with a member of an older build).
//
//   npm run bench -- snapshot [--agents 100,1000] [--tasks-per-agent 10] [--runs 5] [--format 9]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encodeCommand } from '../src/state-machine/codec.ts';
import type { Command } from '../src/state-machine/commands.ts';
import { agentId, frameworkId, offerId, taskId } from '../src/state-machine/ids.ts';
import { ClusterStateMachine } from '../src/state-machine/machine.ts';
import { canonicalize, type Resources } from '../src/state-machine/resources.ts';
import { snapshotFormatVersion, writtenSnapshotFormats } from '../src/state-machine/snapshot.ts';
import { median, printTable, round } from './_report.ts';

const at = 1_700_000_000_000;

const scalars = (cpus: number, mem: number): Resources =>
  canonicalize([
    { name: 'cpus', role: '*', type: 'SCALAR', scalar: cpus },
    { name: 'mem', role: '*', type: 'SCALAR', scalar: mem },
  ]);

export function buildCluster(agents: number, tasksPerAgent: number, format: number): ClusterStateMachine {
  const machine = new ClusterStateMachine({ snapshotFormat: () => format });
  let index = 0;
  const apply = (command: Command): void => {
    const result = machine.apply(encodeCommand(command), ++index);
    if (!result.ok) throw new Error(`${command.type}: ${result.code} ${result.message}`);
  };
  const framework = frameworkId('bench');
  apply({
    type: 'subscribe_framework',
    at,
    frameworkId: framework,
    info: {
      name: 'bench',
      principal: null,
      roles: ['*' as never],
      failoverTimeoutMs: 60_000,
      capabilities: [],
      hostname: null,
      webuiUrl: null,
      user: null,
    },
  });
  for (let number = 0; number < agents; number++) {
    const agent = agentId(`agent-${number}`);
    apply({
      type: 'register_agent',
      at,
      agentId: agent,
      info: {
        hostname: `host-${number}`,
        address: { ip: '10.0.0.1', port: 5051 },
        zone: null,
        resources: scalars(16, 65_536),
        attributes: { rack: `r${number % 8}` },
      },
    });
    const offer = offerId(`offer-${number}`);
    apply({
      type: 'create_offers',
      at,
      offers: [
        { offerId: offer, frameworkId: framework, agentId: agent, role: '*' as never, resources: scalars(16, 65_536) },
      ],
    });
    const tasks = Array.from({ length: tasksPerAgent }, (_, slot) => ({
      id: taskId(`task-${number}-${slot}`),
      name: `task ${slot}`,
      resources: scalars(1, 1024),
      labels: { app: 'bench' },
      executor: null,
      data: null,
      command: { value: 'sleep 3600', shell: true, arguments: [], environment: { PORT: '8080' }, user: null },
      container: null,
      healthCheck: null,
      killGracePeriodMs: null,
    }));
    apply({
      type: 'accept_offers',
      at,
      frameworkId: framework,
      offerIds: [offer],
      operations: [{ type: 'LAUNCH', tasks }],
    });
  }
  return machine;
}

interface Measured {
  readonly totalMs: number;
  readonly cpuMs: number;
  readonly captureMs: number;
  readonly longestGapMs: number;
  readonly loopDelayMaxMs: number;
  readonly bytes: number;
}

async function measure(write: () => Promise<{ bytes: Uint8Array; captureMs: number }>): Promise<Measured> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let longestGapMs = 0;
  let lastTickMs = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - lastTickMs);
    lastTickMs = now;
  }, 1);
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 5));
  lastTickMs = performance.now();
  const startedMs = performance.now();
  const cpuBefore = process.cpuUsage();
  const { bytes, captureMs } = await write();
  const totalMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  clearInterval(probe);
  return { totalMs, cpuMs, captureMs, longestGapMs, loopDelayMaxMs: histogram.max / 1e6, bytes: bytes.byteLength };
}

/** A restore into a new machine: in one turn (restore), or in slices then swapped in (prepareRestore). */
async function restore(
  bytes: Uint8Array,
  mode: 'restore-straight' | 'restore-sliced',
): Promise<{ bytes: Uint8Array; captureMs: number }> {
  const machine = new ClusterStateMachine();
  if (mode === 'restore-straight') machine.restore(bytes);
  else {
    const install = await machine.prepareRestore(bytes, () => false);
    if (install === null) throw new Error('the restore was called off');
    install();
  }
  return { bytes, captureMs: 0 };
}

function summary(
  agents: number,
  tasksPerAgent: number,
  format: number,
  mode: string,
  measured: readonly Measured[],
): Record<string, string | number> {
  const pick = (field: keyof Measured) => round(median(measured.map((each) => each[field])), 1);
  return {
    agents,
    tasks: agents * tasksPerAgent,
    format,
    mode,
    runs: measured.length,
    totalMs: pick('totalMs'),
    cpuMs: pick('cpuMs'),
    captureMs: pick('captureMs'),
    longestGapMs: pick('longestGapMs'),
    loopDelayMaxMs: pick('loopDelayMaxMs'),
    bytes: pick('bytes'),
  };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      agents: { type: 'string', default: '100,1000' },
      'tasks-per-agent': { type: 'string', default: '10' },
      runs: { type: 'string', default: '5' },
      format: { type: 'string', default: String(snapshotFormatVersion) },
    },
  });
  const sizes = values.agents.split(',').map(Number);
  const tasksPerAgent = Number(values['tasks-per-agent']);
  const runs = Number(values.runs);
  const format = Number(values.format);
  if (!writtenSnapshotFormats.includes(format))
    throw new Error(`--format ${values.format}: one of ${writtenSnapshotFormats.join(', ')}`);
  const results: Record<string, string | number>[] = [];
  for (const agents of sizes) {
    const machine = buildCluster(agents, tasksPerAgent, format);
    for (const mode of ['straight', 'sliced'] as const) {
      const measured: Measured[] = [];
      for (let run = 0; run < runs; run++) {
        measured.push(
          await measure(async () => {
            if (mode === 'straight') return { bytes: machine.snapshot(), captureMs: 0 };
            const captureStartedMs = performance.now();
            const finish = machine.beginSnapshot();
            const captureMs = performance.now() - captureStartedMs;
            return { bytes: await finish(), captureMs };
          }),
        );
      }
      results.push(summary(agents, tasksPerAgent, format, mode, measured));
    }
    const bytes = machine.snapshot();
    for (const mode of ['restore-straight', 'restore-sliced'] as const) {
      const measured: Measured[] = [];
      for (let run = 0; run < runs; run++) measured.push(await measure(() => restore(bytes, mode)));
      results.push(summary(agents, tasksPerAgent, format, mode, measured));
    }
  }
  process.stdout.write(`${JSON.stringify({ benchmark: 'snapshot', node: process.version, results })}\n`);
  printTable(results);
}
