// Whether this checkout's allocator makes byte for byte the offers and skip reasons another
// checkout's does (a performance change must not change a decision): both are loaded into one
// process, each builds the bench's clusters (bench/allocator.ts) with its own state machine, and
// both run the same cycles with the same hints. Per scenario: three full cycles, the offers of
// each applied; between them some frameworks decline with a filter, some suppress their role,
// some revive; and then three cycles with the driver's memory (incremental), as the leader runs
// them. Scenarios: the bench's clusters with and without filters and suppression, and with
// quotas (guarantees and limits) and weights.
//
//   npm run bench -- allocator-compare --baseline /work/base11 [--scenarios 2000x200,1000x1000,500x7]
// Exit status 1 when any cycle differs (the first difference is printed).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface Tree {
  readonly name: string;
  buildCluster(agents: number, frameworks: number): { machine: { state: unknown }; run(command: unknown): void };
  allocator: {
    AllocationCycle: new (
      input: unknown,
    ) => {
      runSlice(steps: number): boolean;
      result(): { offers: unknown[]; skipReasons: Map<string, Map<string, string>> };
      outcome(): unknown;
      readonly full: boolean;
    };
    parseMinAllocatable(text: string): unknown;
  };
  AllocationHints: new () => Hints;
  AllocationMemory: new () => { remember(outcome: unknown, full: boolean): void };
  offerId(text: string): string;
}

interface Hints {
  refuse(frameworkId: string, agentIds: readonly string[], refuseSeconds: number, nowMs: number): void;
  suppress(frameworkId: string, roles: readonly string[], allRoles: readonly string[]): void;
  revive(frameworkId: string, roles: readonly string[]): void;
  prune(nowMs: number): string[];
}

async function load(root: string): Promise<Tree> {
  const at = (file: string) => import(pathToFileURL(path.join(root, file)).href);
  const bench = await at('bench/allocator.ts');
  const allocator = await at('src/offers/allocator.ts');
  const hints = await at('src/offers/hints.ts');
  const memory = await at('src/offers/allocation-memory.ts');
  const ids = await at('src/state-machine/ids.ts');
  return {
    name: root,
    buildCluster: bench.buildCluster,
    allocator,
    AllocationHints: hints.AllocationHints,
    AllocationMemory: memory.AllocationMemory,
    offerId: ids.offerId,
  };
}

const at = 1_700_000_000_000;
const teams = 10;

interface Scenario {
  readonly agents: number;
  readonly frameworks: number;
  readonly hints: boolean;
  readonly quota: boolean;
}

/** Every cycle's offers and skip reasons, serialized in their order, one string per cycle. */
function runScenario(tree: Tree, scenario: Scenario): string[] {
  const { agents, frameworks } = scenario;
  const builder = tree.buildCluster(agents, frameworks);
  if (scenario.quota) {
    builder.run({
      type: 'update_weights',
      weights: [
        { role: 'team1', weight: 3 },
        { role: 'team2/fw2', weight: 2 },
      ],
    });
    builder.run({
      type: 'update_quota',
      configs: [
        { role: 'team3', guarantees: { cpus: Math.max(4, agents / 4), mem: 8192 }, limits: {} },
        { role: 'team4', guarantees: {}, limits: { cpus: Math.max(6, agents / 10) } },
        { role: `team5/fw${5 % frameworks}`, guarantees: { cpus: 2 }, limits: { cpus: 10, mem: 65536 } },
      ],
    });
  }
  const hints = new tree.AllocationHints();
  let sequence = 0;
  const config = {
    minAllocatable: tree.allocator.parseMinAllocatable('cpus:0.01|mem:32'),
    maxSkipReasonsPerFramework: 32,
    newOfferId: () => {
      sequence += 1;
      return tree.offerId(`O${sequence}`);
    },
  };
  const memory = new tree.AllocationMemory();
  const outputs: string[] = [];
  const state = () =>
    builder.machine.state as { offers: Map<string, { id: string; frameworkId: string; agentId: string }> };
  for (let round = 0; round < 6; round += 1) {
    const incremental = round >= 3 ? { memory, releasedAgentIds: hints.prune(at) } : undefined;
    const cycle = new tree.allocator.AllocationCycle({
      state: builder.machine.state,
      hints,
      nowMs: at,
      config,
      ...(incremental === undefined ? {} : { incremental }),
    });
    cycle.runSlice(Number.MAX_SAFE_INTEGER);
    const result = cycle.result();
    if (round >= 2) memory.remember(cycle.outcome(), cycle.full);
    outputs.push(
      JSON.stringify({
        offers: result.offers,
        skipReasons: [...result.skipReasons].map(([framework, reasons]) => [framework, [...reasons]]),
      }),
    );
    for (let start = 0; start < result.offers.length; start += 100)
      builder.run({ type: 'create_offers', at, offers: result.offers.slice(start, start + 100) });
    // Some frameworks decline what they got (with a filter when hints are on), some suppress.
    const byFramework = new Map<string, { id: string; agentId: string }[]>();
    for (const offer of state().offers.values()) {
      const list = byFramework.get(offer.frameworkId) ?? [];
      list.push(offer);
      byFramework.set(offer.frameworkId, list);
    }
    for (const [framework, offers] of [...byFramework].sort(([left], [right]) => (left < right ? -1 : 1))) {
      const index = Number(framework.slice(1));
      if ((index + round) % 3 !== 0) continue;
      builder.run({ type: 'decline_offers', at, frameworkId: framework, offerIds: offers.map((offer) => offer.id) });
      if (scenario.hints)
        hints.refuse(
          framework,
          offers.map((offer) => offer.agentId),
          index % 2 === 0 ? 5 : 0,
          at,
        );
    }
    if (scenario.hints)
      for (let index = round; index < frameworks; index += 5) {
        const role = `team${index % teams}/fw${index}`;
        if ((index + round) % 2 === 0) hints.suppress(`f${index}`, [role], [role]);
        else hints.revive(`f${index}`, [role]);
      }
  }
  return outputs;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      baseline: { type: 'string', default: '/work/base11' },
      scenarios: { type: 'string', default: '2000x200,1000x1000,500x7' },
    },
  });
  const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const ours = await load(here);
  const theirs = await load(path.resolve(values.baseline!));
  let differs = false;
  for (const size of values.scenarios!.split(',')) {
    const [agents, frameworks] = size.split('x').map(Number) as [number, number];
    for (const [hints, quota] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const scenario = { agents, frameworks, hints, quota };
      const left = runScenario(ours, scenario);
      const right = runScenario(theirs, scenario);
      const digest = createHash('sha256').update(left.join('\n')).digest('hex').slice(0, 16);
      const offers = left.map((cycle) => (JSON.parse(cycle) as { offers: unknown[] }).offers.length);
      const same = left.length === right.length && left.every((cycle, index) => cycle === right[index]);
      process.stdout.write(
        `${JSON.stringify({ bench: 'allocator-compare', agents, frameworks, hints, quota, offers, digest, same })}\n`,
      );
      if (!same) {
        differs = true;
        const index = left.findIndex((cycle, position) => cycle !== right[position]);
        const cut = [...left[index]!].findIndex((char, position) => char !== right[index]![position]);
        process.stdout.write(
          `  cycle ${index} first differs at ${cut}:\n  ours:     ${left[index]!.slice(Math.max(0, cut - 80), cut + 120)}\n  baseline: ${right[index]!.slice(Math.max(0, cut - 80), cut + 120)}\n`,
        );
      }
    }
  }
  if (differs) process.exitCode = 1;
}
