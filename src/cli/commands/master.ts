// `flotilla master`: one master of a Raft group of three or five.
import type { Command } from 'commander';
import { Master } from '../../master/daemon.ts';
import { type TimingProfile, timingProfiles, validateTiming } from '../../raft/timing.ts';
import { createLogger } from '../../util/logger.ts';
import { developmentSecret, readSecretFile } from '../../util/shared-secret.ts';
import type { CommandRegistration } from './types.ts';

interface MasterFlags {
  id: string;
  listen: string;
  peers: string;
  dataDir: string;
  zone?: string;
  clusterSecretFile?: string;
  timing: string;
  tickMs?: string;
  electionTicks?: string;
  heartbeatTicks?: string;
  join?: boolean;
  snapshotEntries: string;
  agentPingIntervalMs: string;
  agentMaxMissedPings: string;
  agentReregistrationGraceMs: string;
  allocationBatchMs: string;
  offerTimeoutMs: string;
  minAllocatableResources: string;
}

export const registerMasterCommand: CommandRegistration = (program: Command) => {
  program
    .command('master')
    .description('run a master: Raft replica of the cluster state, operator and key-value HTTP API')
    .requiredOption('--id <id>', "this master's stable name, e.g. m1")
    .requiredOption('--listen <host:port>', 'address for HTTP, Raft peers and agents (one port)')
    .requiredOption('--peers <list>', 'every initial master: m1=host:port,m2=host:port,… (self included)')
    .requiredOption('--data-dir <dir>', 'where the Raft log and snapshots live')
    .option('--zone <zone>', 'zone or data centre of this master')
    .option('--cluster-secret-file <file>', 'file holding the secret shared by all masters')
    .option('--timing <profile>', `timing profile: ${Object.keys(timingProfiles).join(' or ')}`, 'lan')
    .option('--tick-ms <ms>', 'Raft tick interval (overrides the profile)')
    .option('--election-ticks <n>', 'minimum election timeout in ticks (overrides the profile)')
    .option('--heartbeat-ticks <n>', 'heartbeat interval in ticks (overrides the profile)')
    .option('--join', 'start empty and wait to be added with ADD_MASTER')
    .option('--snapshot-entries <n>', 'take a snapshot and compact the log every n applied entries', '10000')
    .option('--agent-ping-interval-ms <ms>', 'the leader pings every agent this often', '5000')
    .option(
      '--agent-max-missed-pings <n>',
      'an agent silent for this many ping intervals is marked UNREACHABLE (its tasks TASK_LOST/UNREACHABLE)',
      '3',
    )
    .option(
      '--agent-reregistration-grace-ms <ms>',
      'after a failover, how long the new leader waits for agents to re-register before marking any unreachable',
      '30000',
    )
    .option(
      '--allocation-batch-ms <ms>',
      'allocation runs on events (agent added, resources freed, REVIVE…); events within this window share one cycle',
      '50',
    )
    .option(
      '--offer-timeout-ms <ms>',
      'an offer neither accepted nor declined within this long is rescinded (0: never, as Mesos without --offer_timeout)',
      '60000',
    )
    .option(
      '--min-allocatable-resources <list>',
      'offer only what holds at least one of these (Mesos syntax: alternatives split by "|", resources by ";")',
      'cpus:0.01|mem:32',
    )
    .action(async (flags: MasterFlags) => {
      try {
        await runMaster(flags);
      } catch (error) {
        // A corrupt log, a port in use, an unreadable data dir: say what and where, then stop.
        process.stderr.write(`flotilla master ${flags.id}: cannot start: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
};

async function runMaster(flags: MasterFlags): Promise<void> {
  const logger = createLogger({ node: flags.id, component: 'master' });
  const [host, port] = parseAddress(flags.listen, '--listen');
  const peers = parsePeers(flags.peers);
  if (!flags.join && peers[flags.id] === undefined) fail(`--peers must include this master (${flags.id})`);
  const timing = parseTiming(flags);
  let secret = developmentSecret;
  if (flags.clusterSecretFile === undefined) {
    logger.warn(
      {},
      'no --cluster-secret-file: using the development secret; every master must use a real one in production',
    );
  } else {
    try {
      secret = readSecretFile(flags.clusterSecretFile);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const master = await Master.start({
    id: flags.id,
    host,
    port,
    peers,
    dataDir: flags.dataDir,
    zone: flags.zone ?? null,
    secret,
    timing,
    join: flags.join ?? false,
    logger,
    snapshotEntries: parseSnapshotEntries(flags.snapshotEntries),
    agentPingIntervalMs: parseWhole(flags.agentPingIntervalMs, '--agent-ping-interval-ms', 10),
    agentMaxMissedPings: parseWhole(flags.agentMaxMissedPings, '--agent-max-missed-pings', 1),
    agentReregistrationGraceMs: parseWhole(flags.agentReregistrationGraceMs, '--agent-reregistration-grace-ms', 0),
    allocationBatchMs: parseWhole(flags.allocationBatchMs, '--allocation-batch-ms', 0),
    offerTimeoutMs: parseWhole(flags.offerTimeoutMs, '--offer-timeout-ms', 0),
    minAllocatableResources: flags.minAllocatableResources,
    flags: {
      id: flags.id,
      listen: flags.listen,
      peers: flags.peers,
      data_dir: flags.dataDir,
      zone: flags.zone ?? '',
      timing: flags.timing,
      tick_ms: String(timing.tickMs),
      election_ticks: String(timing.electionTicks),
      heartbeat_ticks: String(timing.heartbeatTicks),
      join: String(flags.join ?? false),
      snapshot_entries: flags.snapshotEntries,
      agent_ping_interval_ms: flags.agentPingIntervalMs,
      agent_max_missed_pings: flags.agentMaxMissedPings,
      agent_reregistration_grace_ms: flags.agentReregistrationGraceMs,
      allocation_batch_ms: flags.allocationBatchMs,
      offer_timeout_ms: flags.offerTimeoutMs,
      min_allocatable_resources: flags.minAllocatableResources,
    },
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void master.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ error: error.message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export function parseAddress(text: string, flag: string): [string, number] {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) fail(`${flag} must be host:port, got "${text}"`);
  return [match![1]!, port];
}

export function parsePeers(text: string): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const pair of text.split(',').filter((part) => part !== '')) {
    const [id, address] = pair.split('=');
    if (!id || !address || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) fail(`--peers: "${pair}" is not id=host:port`);
    parseAddress(address!, `--peers (${id})`);
    if (peers[id!] !== undefined) fail(`--peers names ${id} twice`);
    peers[id!] = address!;
  }
  if (Object.keys(peers).length === 0) fail('--peers is empty');
  return peers;
}

function parseWhole(value: string, flag: string, minimum: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < minimum)
    fail(`${flag} must be a whole number of at least ${minimum}, got "${value}"`);
  return Number(value);
}

function parseSnapshotEntries(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 10)
    fail(`--snapshot-entries must be an integer of at least 10, got "${value}"`);
  return Number(value);
}

function parseTiming(flags: MasterFlags): TimingProfile {
  const profile = timingProfiles[flags.timing as keyof typeof timingProfiles];
  if (profile === undefined)
    fail(`--timing must be one of ${Object.keys(timingProfiles).join(', ')}, got "${flags.timing}"`);
  const integer = (value: string | undefined, fallback: number, flag: string): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) fail(`${flag} must be a positive integer, got "${value}"`);
    return Number(value);
  };
  const timing = {
    tickMs: integer(flags.tickMs, profile!.tickMs, '--tick-ms'),
    electionTicks: integer(flags.electionTicks, profile!.electionTicks, '--election-ticks'),
    heartbeatTicks: integer(flags.heartbeatTicks, profile!.heartbeatTicks, '--heartbeat-ticks'),
  };
  try {
    validateTiming(timing);
  } catch (error) {
    fail((error as Error).message);
  }
  return timing;
}

function fail(message: string): never {
  process.stderr.write(`flotilla master: ${message}\n`);
  process.exit(2);
}
