// The commands of the interaction scripts. Each prints what a reader needs to check the step;
// after every command the nodes process their Readies (persist, send, apply, advance), so
// `messages` shows what is on the wire. Role and term changes print as `mX became R term=T`,
// indented under the delivered message that caused them. Nothing happens unless a command says
// so: time passes only through tick commands, messages move only through deliver/stabilize.
//
// Set-up and faults
//   cluster m1 m2 m3 [key=value…]   a new cluster (replaces any earlier one); keys: any CoreConfig
//                                    field (electionTicks=10 checkQuorum=false readMode=lease …),
//                                    seed=N (election jitter), idempotency=on (the product's
//                                    StateMachineHost and idempotency table around the texts)
//   add-node m4                      a fresh replica with empty storage (not yet a member)
//   crash m1 [keep-inbound]          loses all but the disk (and a held Ready); its queued
//                                    messages are lost, and those to it too unless keep-inbound
//   restart m1                       boots from the disk
//   hold m1 / release m1             the driver stops between ready() and persist / goes on
//   unreachable m2 m1                m2's driver sees its socket to m1 close (m1's process died)
//   alive m2 m1                      m2's driver has a fresh liveness beacon of m1 in m2's term
//                                    (src/raft/beacon.ts): fresh through m2's next tick
//   partition m1 | m2 m3             cut every link between groups (unlisted nodes reach all)
//   heal                             remove every cut
// Time
//   tick m1 [N] [alive=m2]           N ticks of m1 only, no delivery; alive=: before each, m1's
//                                    driver has a fresh beacon of m2 (as the alive command)
//   tick-all [N] [deliver=false]     N times: tick every live node, then deliver until quiet
//   campaign m1                      tick m1 until it sends (pre-)vote requests; prints the ticks
//   elect m1                         tick m1 and deliver until it leads (only m1 ticks: servers
//                                    still in a leader's lease ignore it; use tick-all then)
// Requests
//   propose m1 text [key=k at=ms [fingerprint=f]]    prints ok index/term or refused reason; the
//                                    stamp's fingerprint is the text unless given
//   propose-membership m1 add-learner|promote|remove m4
//   read-index m1 ctx / transfer m1 m2
// Network (filters: from=m1,m2 to=… type=append,heartbeat…)
//   deliver [filter]                 one round: the matching queued messages, then processing
//   stabilize [quiet] [filter]       rounds until no matching message is queued
//   drop [filter]                    remove matching messages from the queue
// Inspection (inspect.ts)
//   status [m1…] | log m1 | disk m1 | applied m1 | messages | reads m1 | membership m1 | progress m1
import { defaultCoreConfig, type CoreConfig } from '../../../src/raft/config.ts';
import type { Membership, MembershipChange, ProposeResult } from '../../../src/raft/types.ts';
import { nodeId } from '../../../src/raft/types.ts';
import { Harness, type HarnessOptions } from '../support/harness.ts';
import { type Arguments, count, noArguments, parseArguments, required } from './arguments.ts';
import { formatMessage, showNode } from './format.ts';
import {
  printApplied,
  printDisk,
  printLog,
  printMembership,
  printMessages,
  printProgress,
  printReads,
  printStatus,
} from './inspect.ts';
import { matches, type MessageFilter, messageFilter, type Scenario } from './scenario.ts';

type Handler = (scenario: Scenario, args: Arguments) => void;

/** Ticks `elect` spends on one node before giving up (several election timeouts). */
const maxElectTicks = 200;

function filterOf(args: Arguments): MessageFilter {
  const list = (key: string): string[] | undefined => args.options.get(key)?.split(',');
  return messageFilter(list('from'), list('to'), list('type'));
}

function printResult(scenario: Scenario, result: ProposeResult): void {
  if (result.ok) scenario.print(`ok index=${result.index} term=${result.term}`);
  else scenario.print(`refused ${result.reason} leader=${showNode(result.leader)}`);
}

// ------------------------------------------------------------------ set-up

const configKeys = new Set(Object.keys(defaultCoreConfig(nodeId('x'))).filter((key) => key !== 'id'));

function positiveInteger(key: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${key} must be a positive integer, got ${text}`);
  return value;
}

function nonNegativeInteger(key: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer, got ${text}`);
  return value;
}

function parseValue(key: string, text: string): number | boolean | string {
  if (text === 'true' || text === 'false') return text === 'true';
  const number = Number(text);
  if (text !== '' && Number.isFinite(number)) return number;
  if (key === 'readMode') return text;
  throw new Error(`${key}: not a value: ${text}`);
}

function cluster(scenario: Scenario, args: Arguments): void {
  const tune: Record<string, unknown> = {};
  const options: { idempotency?: boolean } = {};
  let seed = 1;
  for (const [key, text] of args.options) {
    if (key === 'seed') seed = positiveInteger(key, text);
    else if (key === 'idempotency' && text === 'on') options.idempotency = true;
    else if (configKeys.has(key)) tune[key] = parseValue(key, text);
    else
      throw new Error(
        `unknown cluster option ${key} (config keys: ${[...configKeys].join(' ')}, seed, idempotency=on)`,
      );
  }
  if (args.positional.length === 0) throw new Error('cluster needs node ids');
  scenario.start(
    new Harness([...args.positional], tune as Partial<CoreConfig>, seed, undefined, options as HarnessOptions),
  );
  printStatus(scenario, noArguments);
}

function addNode(scenario: Scenario, args: Arguments): void {
  const id = required(args, 0, 'node id');
  const first = [...scenario.harness.nodes.values()][0]!;
  // A joiner starts empty and learns the membership from the log or a snapshot; its bootstrap
  // is the cluster it was told to join, in which it is not a voter, so it never campaigns.
  scenario.harness.add(id, first.bootstrap as Membership);
  scenario.process();
  scenario.remember();
  printStatus(scenario, { positional: [id], options: noArguments.options });
}

// ------------------------------------------------------------------ time and elections

function tick(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const alive = args.options.get('alive');
  for (let step = 0; step < count(args, 1); step++) {
    if (alive !== undefined) node.core.leaderAlive(nodeId(alive), node.core.summary().term);
    scenario.tick(node);
  }
}

function tickAll(scenario: Scenario, args: Arguments): void {
  const deliver = args.options.get('deliver') !== 'false';
  for (let step = 0; step < count(args, 0); step++) {
    for (const node of scenario.harness.nodes.values()) if (node.up) scenario.tick(node);
    if (deliver) scenario.stabilize({}, false);
  }
}

/** Ticks one node until its election timer fires: it sends pre-votes (or votes, after a TimeoutNow). */
function campaign(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const limit = 2 * (scenario.harness.tune.electionTicks ?? defaultCoreConfig(node.id).electionTicks) + 1;
  const requests = (): number =>
    scenario.harness.queue.filter(
      (message) => message.from === node.id && (message.type === 'pre-vote' || message.type === 'vote'),
    ).length;
  const before = requests();
  for (let step = 1; step <= limit; step++) {
    scenario.tick(node);
    scenario.process();
    const role = node.core.status().role;
    if (requests() > before || role === 'leader') {
      scenario.print(`(${step} ticks)`);
      return;
    }
  }
  throw new Error(`${node.id} did not campaign within ${limit} ticks`);
}

/** Ticks one node and lets the network run until it leads (and its no-op is committed). */
function elect(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  for (let step = 0; step < maxElectTicks && node.core.status().role !== 'leader'; step++) {
    scenario.tick(node);
    scenario.stabilize({}, false);
  }
  if (node.core.status().role !== 'leader') throw new Error(`${node.id} did not become leader`);
}

// ------------------------------------------------------------------ client requests

function propose(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const text = required(args, 1, 'text');
  const key = args.options.get('key');
  const at = args.options.get('at');
  if ((key === undefined) !== (at === undefined)) throw new Error('key= and at= go together');
  const fingerprint = args.options.get('fingerprint') ?? text;
  const stamp = key === undefined ? undefined : { key, fingerprint, atMs: nonNegativeInteger('at', at!) };
  printResult(scenario, node.core.propose(Buffer.from(text), stamp));
}

function proposeMembership(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const type = required(args, 1, 'change (add-learner, promote, remove)');
  const target = nodeId(required(args, 2, 'node of the change'));
  let change: MembershipChange;
  if (type === 'add-learner') change = { type, node: target, address: `${target}:1` };
  else if (type === 'promote' || type === 'remove') change = { type, node: target };
  else throw new Error(`unknown membership change ${type}`);
  printResult(scenario, node.core.proposeMembership(change));
}

function readIndex(scenario: Scenario, args: Arguments): void {
  scenario.upNode(required(args, 0, 'node id')).core.readIndex(required(args, 1, 'context'));
}

function transfer(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  scenario.print(node.core.transferLeadership(nodeId(required(args, 1, 'transferee'))) ? 'ok' : 'refused');
}

// ------------------------------------------------------------------ network and faults

function deliver(scenario: Scenario, args: Arguments): void {
  scenario.deliverRound(filterOf(args), true);
}

function stabilize(scenario: Scenario, args: Arguments): void {
  scenario.stabilize(filterOf(args), !args.positional.includes('quiet'));
}

function drop(scenario: Scenario, args: Arguments): void {
  const filter = filterOf(args);
  const harness = scenario.harness;
  for (const message of harness.queue) {
    if (matches(filter, message)) scenario.print(`${formatMessage(message)} (dropped)`);
  }
  harness.queue = harness.queue.filter((message) => !matches(filter, message));
}

function partition(scenario: Scenario, args: Arguments): void {
  const groups: string[][] = [[]];
  for (const token of args.positional) {
    if (token === '|') groups.push([]);
    else groups[groups.length - 1]!.push(token);
  }
  if (groups.length < 2 || groups.some((group) => group.length === 0))
    throw new Error('partition needs groups: a b | c');
  scenario.harness.partition(...groups);
}

function crash(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  const lost = node.core.hasReady() && node.held === true;
  scenario.harness.crash(node.id, { keepInbound: args.positional.includes('keep-inbound') });
  if (lost) scenario.print(`${node.id} lost an unpersisted Ready`);
}

function unreachable(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  node.core.peerUnreachable(nodeId(required(args, 1, 'peer id')));
  scenario.process();
}

function alive(scenario: Scenario, args: Arguments): void {
  const node = scenario.upNode(required(args, 0, 'node id'));
  node.core.leaderAlive(nodeId(required(args, 1, 'leader id')), node.core.summary().term);
  scenario.process();
}

function restart(scenario: Scenario, args: Arguments): void {
  const id = required(args, 0, 'node id');
  if (scenario.node(id).up) throw new Error(`${id} is up: crash it first`);
  scenario.harness.restart(id);
  scenario.remember();
  scenario.process();
  printStatus(scenario, { positional: [id], options: noArguments.options });
}

export const commands: Readonly<Record<string, Handler>> = {
  cluster,
  'add-node': addNode,
  tick,
  'tick-all': tickAll,
  campaign,
  elect,
  propose,
  'propose-membership': proposeMembership,
  'read-index': readIndex,
  transfer,
  deliver,
  stabilize,
  drop,
  partition,
  heal: (scenario) => scenario.harness.heal(),
  crash,
  restart,
  unreachable,
  alive,
  hold: (scenario, args) => scenario.harness.hold(required(args, 0, 'node id')),
  release: (scenario, args) => scenario.harness.release(required(args, 0, 'node id')),
  status: printStatus,
  log: printLog,
  disk: printDisk,
  applied: printApplied,
  messages: printMessages,
  reads: printReads,
  membership: printMembership,
  progress: printProgress,
};

/** Runs one command line and returns its output lines (`ok` when it printed nothing). */
export function runCommand(scenario: Scenario, line: string): string[] {
  const [name, ...tokens] = line.split(/\s+/);
  try {
    const handler = commands[name!];
    if (handler === undefined) throw new Error(`unknown command ${name} (known: ${Object.keys(commands).join(' ')})`);
    handler(scenario, parseArguments(tokens));
    if (scenario.hasCluster) scenario.process();
  } catch (error) {
    scenario.print(
      `error: ${error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error)}`,
    );
  }
  const output = scenario.takeOutput();
  return output.length === 0 ? ['ok'] : output;
}
