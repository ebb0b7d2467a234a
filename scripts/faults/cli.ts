// The operator's fault scripts (scripts/kill-leader, scripts/pause, scripts/partition): find
// the leader of a running cluster through /health, act on it, and say how long the cluster
// took to recover — until another master led, and until a key-value write was acknowledged.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { healIsolation, iptablesUnavailableReason, isolate } from './isolate.ts';
import { findLeader, health, hostOf, type MasterHealth, parseMasters, portOf } from './masters.ts';
import { isLocalHost, pidListeningOn, processState } from './pid.ts';
import { formatMs, measureRecovery, type Recovery } from './recovery.ts';
import { clearState, loadState, saveState } from './state.ts';

interface CommonFlags {
  masters?: string;
  timeout: string;
  json?: boolean;
}
interface TargetFlags extends CommonFlags {
  target: string;
  duration?: string;
}

class ScriptError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

/** The master to act on, its process, and what /health said about it. */
async function resolveTarget(
  masters: readonly string[],
  target: string,
): Promise<{ master: MasterHealth; pid: number }> {
  const master = target === 'leader' ? await findLeader(masters) : await health(target);
  if (master === null)
    throw new ScriptError(
      target === 'leader' ? `no master among ${masters.join(', ')} says it leads` : `${target} does not answer /health`,
    );
  if (!isLocalHost(hostOf(master.address))) {
    throw new ScriptError(`${master.id} runs at ${master.address}, not on this machine: run this script on that host`);
  }
  const pid = pidListeningOn(portOf(master.address));
  if (pid === null)
    throw new ScriptError(
      `no process listens on port ${portOf(master.address)} (is it in another network namespace or container?)`,
    );
  say(
    `${target === 'leader' ? 'leader' : 'target'}: ${master.id} at ${master.address} (${master.role}, term ${master.term}), pid ${pid}`,
  );
  return { master, pid };
}

function reportRecovery(recovery: Recovery, json: boolean, extra: Record<string, unknown> = {}): void {
  const leader = recovery.newLeader;
  say(
    `new leader: ${leader === null ? 'none' : `${leader.id} at ${leader.address} (term ${leader.term})`} after ${formatMs(recovery.newLeaderMs)}`,
  );
  say(
    `first acknowledged write: after ${formatMs(recovery.firstWriteMs)}${recovery.firstWriteAt === null ? '' : ` (through ${recovery.firstWriteAt})`}`,
  );
  if (json) {
    say(
      JSON.stringify({
        newLeader: leader?.id ?? null,
        newLeaderMs: round(recovery.newLeaderMs),
        firstWriteMs: round(recovery.firstWriteMs),
        ...extra,
      }),
    );
  }
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

async function killLeader(flags: CommonFlags & { restart?: boolean }): Promise<void> {
  const masters = parseMasters(flags.masters);
  const { master, pid } = await resolveTarget(masters, 'leader');
  const relaunch = flags.restart ? captureLaunch(pid) : null;
  process.kill(pid, 'SIGKILL');
  const killedAt = performance.now();
  say(`${clock()} SIGKILL sent to pid ${pid} (${master.id})`);
  const recovery = await measureRecovery(masters, master, killedAt, Number(flags.timeout) * 1000);
  reportRecovery(recovery, flags.json === true, { fault: 'kill-leader', killed: master.id });
  if (relaunch !== null) await restart(relaunch, master);
}

interface Launch {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** How the process was started, from /proc, to start it the same way again. */
function captureLaunch(pid: number): Launch {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((part) => part !== '');
  const env: Record<string, string> = {};
  for (const pair of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const equals = pair.indexOf('=');
    if (equals > 0) env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return { argv, cwd: readlinkSync(`/proc/${pid}/cwd`), env };
}

async function restart(launch: Launch, old: MasterHealth): Promise<void> {
  const log = path.join(os.tmpdir(), `flotilla-${old.id}-restarted-${Date.now()}.log`);
  const output = openSync(log, 'a');
  const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
    cwd: launch.cwd,
    env: launch.env,
    detached: true,
    stdio: ['ignore', output, output],
  });
  child.unref();
  const startedAt = performance.now();
  say(`${clock()} restarted ${old.id} as pid ${child.pid} (log: ${log})`);
  for (let waited = 0; waited < 30_000; waited = performance.now() - startedAt) {
    const back = await health(old.address);
    if (back !== null && back.leader !== null) {
      say(
        `${old.id} is back as ${back.role} (term ${back.term}) after ${Math.round(performance.now() - startedAt)} ms`,
      );
      return;
    }
    await sleep(50);
  }
  say(`${old.id} did not rejoin within 30 s`);
}

async function pause(flags: TargetFlags): Promise<void> {
  const masters = parseMasters(flags.masters);
  const { master, pid } = await resolveTarget(masters, flags.target);
  process.kill(pid, 'SIGSTOP');
  const stoppedAt = performance.now();
  saveState({ fault: 'pause', pid, address: master.address, id: master.id, at: new Date().toISOString() });
  say(`${clock()} SIGSTOP sent to pid ${pid} (${master.id})`);
  const durationMs = flags.duration === undefined ? null : Number(flags.duration) * 1000;
  const recovery = await measureRecovery(
    masters,
    master.role === 'leader' ? master : null,
    stoppedAt,
    Math.min(Number(flags.timeout) * 1000, durationMs ?? Infinity),
  );
  reportRecovery(recovery, flags.json === true, { fault: 'pause', paused: master.id });
  if (durationMs === null) {
    say(`${master.id} stays paused: resume it with scripts/pause resume`);
    return;
  }
  await sleep(Math.max(0, durationMs - (performance.now() - stoppedAt)));
  await resume(recovery.newLeader?.term ?? master.term);
}

async function resume(newTerm?: number): Promise<void> {
  const state = loadState('pause');
  if (state === null) throw new ScriptError('nothing to resume: no pause was recorded by scripts/pause');
  if (processState(state.pid) === null) {
    clearState('pause');
    throw new ScriptError(`pid ${state.pid} (${state.id}) is gone`);
  }
  process.kill(state.pid, 'SIGCONT');
  const resumedAt = performance.now();
  clearState('pause');
  say(`${clock()} SIGCONT sent to pid ${state.pid} (${state.id})`);
  await reportRejoin(state.address, state.id, resumedAt, newTerm);
}

/** Until the master answers with a leader, in `newTerm` or later when the cluster moved on
 *  without it (a paused or isolated old leader first answers from its stale term). */
async function reportRejoin(address: string, id: string, sinceMs: number, newTerm = 0): Promise<void> {
  while (performance.now() - sinceMs < 30_000) {
    const back = await health(address);
    if (back !== null && back.leader !== null && back.term >= newTerm) {
      say(
        `${id} answers again as ${back.role} (term ${back.term}, leader ${back.leader}) after ${Math.round(performance.now() - sinceMs)} ms`,
      );
      return;
    }
    await sleep(50);
  }
  say(`${id} did not answer with a known leader within 30 s`);
}

async function partition(flags: TargetFlags): Promise<void> {
  const unavailable = iptablesUnavailableReason();
  if (unavailable !== undefined) throw new ScriptError(`cannot partition: ${unavailable}`, 2);
  const masters = parseMasters(flags.masters);
  const { master, pid } = await resolveTarget(masters, flags.target);
  const isolation = isolate(pid, portOf(master.address));
  const cutAt = performance.now();
  saveState({ fault: 'partition', pid, address: master.address, id: master.id, at: new Date().toISOString() });
  say(`${clock()} isolated ${master.id}: ${isolation.rules.map((rule) => `iptables -I ${rule}`).join('; ')}`);
  if (!isolation.outgoingBlocked)
    say(`warning: no cgroup v2 here, so ${master.id}'s own connections to peers are not cut`);
  const durationMs = flags.duration === undefined ? null : Number(flags.duration) * 1000;
  const recovery = await measureRecovery(
    masters,
    master.role === 'leader' ? master : null,
    cutAt,
    Math.min(Number(flags.timeout) * 1000, durationMs ?? Infinity),
  );
  reportRecovery(recovery, flags.json === true, { fault: 'partition', isolated: master.id });
  if (durationMs === null) {
    say(`${master.id} stays isolated: heal with scripts/partition heal`);
    return;
  }
  await sleep(Math.max(0, durationMs - (performance.now() - cutAt)));
  await heal(recovery.newLeader?.term ?? master.term);
}

async function heal(newTerm?: number): Promise<void> {
  const unavailable = iptablesUnavailableReason();
  if (unavailable !== undefined) throw new ScriptError(`cannot heal: ${unavailable}`, 2);
  const state = loadState('partition');
  const removed = healIsolation();
  const healedAt = performance.now();
  clearState('partition');
  say(`${clock()} healed: removed ${removed.length} rule(s)${removed.length > 0 ? `: ${removed.join('; ')}` : ''}`);
  if (state !== null) await reportRejoin(state.address, state.id, healedAt, newTerm);
}

function common(command: Command): Command {
  return command
    .option('--masters <list>', 'host:port,… of the masters (default: FLOTILLA_MASTERS, else 127.0.0.1:5050,5051,5052)')
    .option('--timeout <seconds>', 'how long to wait for recovery', '30')
    .option('--json', 'also print the figures as one JSON line');
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('flotilla-fault').exitOverride();
  common(program.command('kill-leader').description('SIGKILL the leading master and time the failover'))
    .option('--restart', 'start the killed master again afterwards, with its command line, directory and environment')
    .action((flags) => killLeader(flags));
  const pauseCommand = program
    .command('pause')
    .description('SIGSTOP a master (the leader by default); resume with `pause resume`');
  common(pauseCommand)
    .option('--target <leader|host:port>', 'which master', 'leader')
    .option('--duration <seconds>', 'SIGCONT after this long')
    .action((flags) => pause(flags));
  pauseCommand
    .command('resume')
    .description('SIGCONT the master the last pause stopped')
    .action(() => resume());
  const partitionCommand = program
    .command('partition')
    .description('cut a master (the leader by default) off the network with iptables; undo with `partition heal`');
  common(partitionCommand)
    .option('--target <leader|host:port>', 'which master', 'leader')
    .option('--duration <seconds>', 'heal after this long')
    .action((flags) => partition(flags));
  partitionCommand
    .command('heal')
    .description('remove the partition rules')
    .action(() => heal());
  await program.parseAsync(['node', 'flotilla-fault', ...argv]);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version') process.exit(0);
  if (code?.startsWith('commander.')) process.exit(64);
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(error instanceof ScriptError ? error.exitCode : 1);
}
