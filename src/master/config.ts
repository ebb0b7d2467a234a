// Every option of a master, once (src/util/options.ts): `flotilla master` builds its flags and
// --help from this table, the daemon (daemon.ts) takes the checked MasterConfig made from it, and
// GET_FLAGS lists it. Flag names, defaults and bounds are the interface operators script against:
// never rename one (add an alias).
import type { Credential } from '../auth/credentials.ts';
import { AuthFileError } from '../auth/auth-file.ts';
import { authOptions, type AuthSettings, resolveAuthSettings } from '../auth/options.ts';
import { type RateLimits, readRateLimits } from '../auth/rate-limits.ts';
import { defaultMinAllocatable, parseMinAllocatable } from '../offers/allocator.ts';
import { storageWriterModes } from '../raft/storage-writer.ts';
import {
  type ElectionTimer,
  electionTimerOf,
  lanBeacon,
  type TimingProfile,
  timingProfiles,
  validateTiming,
} from '../raft/timing.ts';
import { maxDurationMs, maxHistoryCount } from '../state-machine/limits.ts';
import {
  addressOption,
  choiceOption,
  customOption,
  hiddenOption,
  optionalTextOption,
  optionalWholeOption,
  parseHostPort,
  switchOption,
  textOption,
  wholeOption,
} from '../util/option-kinds.ts';
import {
  checkSchema,
  flagsRecord,
  OptionError,
  type OptionValues,
  optionValues,
  parseOptions,
} from '../util/options.ts';
import { parseMesosDuration, showMesosDuration } from '../util/duration.ts';
import { developmentSecret, readSecretFile, SecretFileError } from '../util/shared-secret.ts';
import type { TlsIdentity } from '../util/tls.ts';
import { resolveTlsIdentity, tlsOptions } from '../util/tls-options.ts';
import * as limits from './limits.ts';
import { maxAllocationBatchMs, maxOperatorSubscribers, maxOperatorSubscribersPerPrincipal } from './limits.ts';

/** The re-registration timeout in force: the older millisecond flag when it is given, else Mesos' one. */
export function reregisterTimeoutMs(options: {
  readonly agentReregistrationGraceMs: number | null;
  readonly agentReregisterTimeoutMs: number;
}): number {
  return options.agentReregistrationGraceMs ?? options.agentReregisterTimeoutMs;
}

const masterIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** "m1=host:port,m2=host:port": every initial master by id, in the order given. */
function parsePeers(text: string): Readonly<Record<string, string>> {
  const peers: Record<string, string> = {};
  for (const pair of text.split(',').filter((part) => part !== '')) {
    const [id, address, ...rest] = pair.split('=');
    if (id === undefined || !masterIdPattern.test(id) || address === undefined || rest.length > 0)
      throw new Error(`"${pair}" is not id=host:port`);
    if (parseHostPort(address) === null) throw new Error(`${id}'s address must be host:port, got "${address}"`);
    if (peers[id] !== undefined) throw new Error(`${id} is named twice`);
    peers[id] = address;
  }
  if (Object.keys(peers).length === 0) throw new Error('no master is listed');
  return peers;
}

/** "dc1,dc2": zones in order of preference; "" is none. */
function parseZoneList(text: string): readonly string[] {
  const zones = text
    .split(',')
    .map((zone) => zone.trim())
    .filter((zone) => zone !== '');
  for (const zone of zones) {
    if (!zonePattern.test(zone)) throw new Error(`"${zone}" is not a zone name (1–64 of A-Z a-z 0-9 . _ -)`);
  }
  if (new Set(zones).size !== zones.length) throw new Error('a zone is named twice');
  return zones;
}

const zonePattern = /^[A-Za-z0-9._-]{1,64}$/;

const showPeers = (peers: Readonly<Record<string, string>>): string =>
  Object.entries(peers)
    .map(([id, address]) => `${id}=${address}`)
    .join(',');

export const masterOptions = {
  id: textOption({
    flag: 'id',
    placeholder: '<id>',
    required: true,
    description: "this master's stable name, e.g. m1",
  }),
  listen: addressOption({
    flag: 'listen',
    placeholder: '<host:port>',
    required: true,
    description: 'address for HTTP, Raft peers and agents (one port)',
  }),
  peers: customOption({
    flag: 'peers',
    placeholder: '<list>',
    required: true,
    description: 'every initial master: m1=host:port,m2=host:port,… (self included)',
    absent: {},
    parse: parsePeers,
    show: showPeers,
  }),
  dataDir: textOption({
    flag: 'data-dir',
    placeholder: '<dir>',
    required: true,
    description: 'where the Raft log and snapshots live',
  }),
  zone: optionalTextOption({ flag: 'zone', placeholder: '<zone>', description: 'zone or data centre of this master' }),
  preferredLeaderZones: customOption({
    flag: 'preferred-leader-zones',
    placeholder: '<zones>',
    description:
      'zones the leader should be in, e.g. dc1,dc2: a leader elsewhere hands leadership to a healthy, caught-up voter in the first of them that has one (give every master the same list)',
    absent: [],
    parse: parseZoneList,
    show: (zones) => zones.join(','),
  }),
  clusterSecretFile: optionalTextOption({
    flag: 'cluster-secret-file',
    placeholder: '<file>',
    description: 'file holding the secret shared by all masters',
  }),
  ...authOptions,
  ...tlsOptions,
  rateLimits: optionalTextOption({
    flag: 'rate-limits',
    placeholder: '<file|json>',
    description:
      'scheduler calls per framework principal, Mesos JSON {"limits":[{"principal","qps","capacity"}],' +
      '"aggregate_default_qps","aggregate_default_capacity"} (a file, or the JSON itself); over capacity: 429',
  }),
  maxAgentConnections: wholeOption({
    flag: 'max-agent-connections',
    placeholder: '<n>',
    default: limits.maxAgentConnections,
    minimum: 1,
    maximum: 1_000_000,
    description: 'agent sockets this master holds at once, registered or not; one more is refused 503',
  }),
  maxSchedulerStreams: wholeOption({
    flag: 'max-scheduler-streams',
    placeholder: '<n>',
    default: limits.maxSchedulerStreams,
    minimum: 1,
    maximum: 1_000_000,
    description: 'scheduler SUBSCRIBE streams the leader holds at once; one more is answered 429',
  }),
  maxSchedulerStreamsPerPrincipal: wholeOption({
    flag: 'max-scheduler-streams-per-principal',
    placeholder: '<n>',
    default: limits.maxSchedulerStreamsPerPrincipal,
    minimum: 1,
    maximum: 1_000_000,
    description: 'scheduler streams of frameworks of one principal at once; one more is answered 429',
  }),
  maxOperatorSubscribers: wholeOption({
    flag: 'max-operator-subscribers',
    placeholder: '<n>',
    default: maxOperatorSubscribers,
    minimum: 1,
    maximum: 100_000,
    description: 'operator API SUBSCRIBE streams this master holds at once; one more is answered 429',
  }),
  maxOperatorSubscribersPerPrincipal: wholeOption({
    flag: 'max-operator-subscribers-per-principal',
    placeholder: '<n>',
    default: maxOperatorSubscribersPerPrincipal,
    minimum: 1,
    maximum: 100_000,
    description: 'operator SUBSCRIBE streams of one authenticated principal at once; one more is answered 429',
  }),
  timing: choiceOption({
    flag: 'timing',
    placeholder: '<profile>',
    choices: Object.keys(timingProfiles) as (keyof typeof timingProfiles)[],
    default: 'lan',
    description: `timing profile: ${Object.keys(timingProfiles).join(' or ')}`,
  }),
  tickMs: optionalWholeOption({
    flag: 'tick-ms',
    placeholder: '<ms>',
    minimum: 1,
    maximum: 60_000,
    description: 'Raft tick interval (overrides the profile)',
  }),
  electionTicks: optionalWholeOption({
    flag: 'election-ticks',
    placeholder: '<n>',
    minimum: 2,
    maximum: 10_000,
    description: 'minimum election timeout in ticks (overrides the profile)',
  }),
  heartbeatTicks: optionalWholeOption({
    flag: 'heartbeat-ticks',
    placeholder: '<n>',
    minimum: 1,
    maximum: 10_000,
    description: 'heartbeat interval in ticks (overrides the profile)',
  }),
  electionTimer: customOption<ElectionTimer | null>({
    flag: 'election-timer',
    placeholder: '<mode>',
    absent: null,
    parse: (text) => {
      if (text !== 'randomized' && text !== 'fixed') throw new Error(`must be randomized or fixed, got "${text}"`);
      return text;
    },
    show: (value) => value ?? '',
    description:
      "when a follower that hears a leader campaigns (overrides the profile: lan fixed, wan randomized): fixed after exactly the election timeout of the leader's " +
      'silence, randomized after 1-2x it (a stalled leader is deposed less often, a frozen one replaced later)',
  }),
  enableProfiling: switchOption({
    flag: 'enable-profiling',
    description:
      "serve the master's CPU profile at /debug/pprof (V8 .cpuprofile; ACL action profile_masters), as etcd's --enable-pprof",
  }),
  raftBeacon: choiceOption({
    flag: 'raft-beacon',
    placeholder: '<mode>',
    choices: ['auto', 'on', 'off'],
    default: 'auto',
    description:
      'liveness beacon (UDP, from a worker thread): a frozen leader is replaced after 8 ticks of silence, a leader whose process lives but stalls is kept (up to 2 s); auto: on with --timing lan, off with wan; members without it fall back to the election timer',
  }),
  join: switchOption({ flag: 'join', description: 'start empty and wait to be added with ADD_MASTER' }),
  snapshotEntries: wholeOption({
    flag: 'snapshot-entries',
    placeholder: '<n>',
    default: 10_000,
    minimum: 10,
    maximum: 100_000_000,
    description: 'take a snapshot and compact the log every n applied entries',
  }),
  raftStorageWriter: choiceOption({
    flag: 'raft-storage-writer',
    placeholder: '<mode>',
    choices: [...storageWriterModes],
    default: 'inline',
    description: 'who writes the Raft log: inline (the event loop, before the messages leave) or thread (a worker)',
  }),
  agentPingIntervalMs: wholeOption({
    flag: 'agent-ping-interval-ms',
    placeholder: '<ms>',
    default: 5_000,
    minimum: 10,
    maximum: 3_600_000,
    description: 'the leader pings every agent this often',
  }),
  agentMaxMissedPings: wholeOption({
    flag: 'agent-max-missed-pings',
    placeholder: '<n>',
    default: 3,
    minimum: 1,
    maximum: 1_000,
    description: 'an agent silent for this many ping intervals is marked UNREACHABLE (its tasks TASK_LOST/UNREACHABLE)',
  }),
  // Mesos' flag and default. A new leader has not heard from any agent: one it marks unreachable
  // too soon has its tasks lost, and each it still runs is killed when the agent comes back
  // (agent-registration.ts `reconcile`); at 10,000 agents a failover's re-registrations took
  // 28-55 s, past the 30 s this once was (lost13).
  agentReregisterTimeoutMs: customOption({
    flag: 'agent-reregister-timeout',
    aliases: ['agent_reregister_timeout'],
    placeholder: '<duration>',
    default: '10mins',
    description:
      'after a failover, how long the new leader waits for agents to re-register before marking any unreachable (e.g. 10mins, 90secs)',
    absent: 10 * 60 * 1000,
    parse: (text) => parseMesosDuration(text, maxDurationMs),
    show: showMesosDuration,
  }),
  agentReregistrationGraceMs: optionalWholeOption({
    flag: 'agent-reregistration-grace-ms',
    placeholder: '<ms>',
    minimum: 0,
    maximum: 86_400_000,
    description: '--agent-reregister-timeout in milliseconds (the older flag); wins when given',
  }),
  allocationBatchMs: wholeOption({
    flag: 'allocation-batch-ms',
    placeholder: '<ms>',
    default: 50,
    minimum: 0,
    maximum: maxAllocationBatchMs,
    description:
      'allocation runs on events (agent added, resources freed, REVIVE…); events within this window share one cycle',
  }),
  offerTimeoutMs: wholeOption({
    flag: 'offer-timeout-ms',
    placeholder: '<ms>',
    default: 60_000,
    minimum: 0,
    maximum: maxDurationMs,
    description:
      'an offer neither accepted nor declined within this long is rescinded (0: never, as Mesos without --offer_timeout)',
  }),
  minAllocatableResources: customOption({
    flag: 'min-allocatable-resources',
    placeholder: '<list>',
    default: defaultMinAllocatable,
    description:
      'offer only what holds at least one of these (Mesos syntax: alternatives split by "|", resources by ";")',
    absent: defaultMinAllocatable,
    parse: (text) => {
      parseMinAllocatable(text);
      return text;
    },
    show: (text) => text,
  }),
  // Bounded history (Mesos' flags and defaults). Replicated: the leading master's values apply
  // to every replica (history-limits.ts proposes them when it starts leading).
  maxCompletedFrameworks: wholeOption({
    flag: 'max-completed-frameworks',
    aliases: ['max_completed_frameworks'],
    placeholder: '<n>',
    default: 50,
    minimum: 0,
    maximum: maxHistoryCount,
    description: 'torn-down frameworks kept (with their tasks) for the operator views; older ones are forgotten',
  }),
  maxCompletedTasksPerFramework: wholeOption({
    flag: 'max-completed-tasks-per-framework',
    aliases: ['max_completed_tasks_per_framework'],
    placeholder: '<n>',
    default: 1000,
    minimum: 0,
    maximum: maxHistoryCount,
    description:
      'finished tasks (terminal and acknowledged) kept per framework; older ones are forgotten and reconcile as unknown',
  }),
  registryMaxAgentAgeMs: customOption({
    flag: 'registry-max-agent-age',
    aliases: ['registry_max_agent_age'],
    placeholder: '<duration>',
    default: '2weeks',
    description: 'unreachable and gone agents are forgotten this long after their removal (e.g. 2weeks, 1days, 10mins)',
    absent: 14 * 24 * 60 * 60 * 1000,
    parse: (text) => parseMesosDuration(text, maxDurationMs),
    show: showMesosDuration,
  }),
  registryMaxAgentCount: wholeOption({
    flag: 'registry-max-agent-count',
    aliases: ['registry_max_agent_count'],
    placeholder: '<n>',
    default: 102_400,
    minimum: 0,
    maximum: maxHistoryCount,
    description: 'unreachable agents kept, and gone agents kept (each); the oldest removal is forgotten first',
  }),
  services: choiceOption({
    flag: 'services',
    placeholder: '<hosted|off>',
    choices: ['hosted', 'off'],
    default: 'hosted',
    description:
      'the services framework (Marathon API on /v2): hosted by the leading master, or off (run `flotilla services` instead)',
  }),
  jobs: choiceOption({
    flag: 'jobs',
    placeholder: '<hosted|off>',
    choices: ['hosted', 'off'],
    default: 'hosted',
    description:
      'the jobs framework (Metronome API on /v1/jobs): hosted by the leading master, or off (run `flotilla jobs` instead)',
  }),
  frameworksPrincipal: optionalTextOption({
    flag: 'frameworks-principal',
    placeholder: '<principal>',
    description:
      'with --credentials: the principal (one of the credentials file) the hosted services and jobs frameworks authenticate as',
  }),
  jobsTestClockFile: hiddenOption(
    optionalTextOption({
      flag: 'jobs-test-clock-file',
      placeholder: '<file>',
      description: 'tests only: the hosted jobs framework reads the time (epoch ms) from this file',
    }),
  ),
};
checkSchema(masterOptions);

export type MasterOptionValues = OptionValues<typeof masterOptions>;

/** What the master daemon takes: every option checked, and what they mean together. */
export interface MasterConfig {
  /** Every option; the tick options hold the effective timing (the profile's where not given). */
  readonly options: MasterOptionValues;
  readonly timing: TimingProfile;
  /** The cluster secret from --cluster-secret-file, or the development secret without one. */
  readonly secret: string;
  /** --credentials and --acls read, and the listen address judged (src/auth/options.ts). */
  readonly auth: AuthSettings;
  /** --tls-cert, --tls-key, --tls-ca read and checked; null: plain HTTP and WebSocket. */
  readonly tls: TlsIdentity | null;
  /** What the hosted frameworks authenticate with: null when the masters take anonymous requests. */
  readonly frameworksCredential: Credential | null;
  /** --rate-limits read and checked; null: scheduler calls are not throttled. */
  readonly rateLimits: RateLimits | null;
  /** GET_FLAGS. */
  readonly flags: Readonly<Record<string, string>>;
}

/** From `flotilla master`'s flags (`given[key]`: a flag's text, true for a switch, undefined when absent). */
export function parseMasterFlags(given: Readonly<Record<string, string | boolean | undefined>>): MasterConfig {
  return resolveMasterConfig(parseOptions(masterOptions, given));
}

/** From values given in code (tests, scripts): checked as flags are, the rest defaulted. */
export function masterConfig(given: Partial<MasterOptionValues>): MasterConfig {
  return resolveMasterConfig(optionValues(masterOptions, given));
}

/**
 * The beacon's values are the LAN's (8 ticks of 30 ms, fresh for 200 ms): on by default there, where
 * it halved a frozen leader's failover p99 without a false election more (README, Raft timing);
 * across data centres a datagram's path is not the peers' connection's, so only when asked.
 */
function beaconWanted(mode: 'auto' | 'on' | 'off', timing: keyof typeof timingProfiles): boolean {
  return mode === 'on' || (mode === 'auto' && timing === 'lan');
}

/** What no single option can check: the options together, and the secret file. */
function resolveMasterConfig(values: MasterOptionValues): MasterConfig {
  if (!values.join && values.peers[values.id] === undefined)
    throw new OptionError('peers', `--peers must include this master (${values.id})`);
  const profile = timingProfiles[values.timing];
  const timing: TimingProfile = {
    tickMs: values.tickMs ?? profile.tickMs,
    electionTicks: values.electionTicks ?? profile.electionTicks,
    heartbeatTicks: values.heartbeatTicks ?? profile.heartbeatTicks,
    electionTimer: values.electionTimer ?? electionTimerOf(profile),
    ...(beaconWanted(values.raftBeacon, values.timing) ? { beacon: lanBeacon } : {}),
  };
  try {
    validateTiming(timing);
  } catch (error) {
    throw new OptionError('heartbeat-ticks', `--heartbeat-ticks and --election-ticks: ${(error as Error).message}`);
  }
  let secret = developmentSecret;
  if (values.clusterSecretFile !== null) {
    try {
      secret = readSecretFile(values.clusterSecretFile);
    } catch (error) {
      if (!(error instanceof SecretFileError)) throw error;
      throw new OptionError('cluster-secret-file', `--cluster-secret-file ${error.message}`);
    }
  }
  const auth = resolveAuthSettings(values, values.listen.host);
  const frameworksCredential = resolveFrameworksCredential(values, auth);
  const tls = resolveTlsIdentity(values);
  const rateLimits = resolveRateLimits(values.rateLimits);
  const options: MasterOptionValues = { ...values, ...timing };
  return {
    options,
    timing,
    secret,
    auth,
    tls,
    frameworksCredential,
    rateLimits,
    flags: flagsRecord(masterOptions, options),
  };
}

function resolveRateLimits(text: string | null): RateLimits | null {
  if (text === null) return null;
  try {
    return readRateLimits(text);
  } catch (error) {
    if (!(error instanceof AuthFileError)) throw error;
    throw new OptionError('rate-limits', `--rate-limits: ${error.message}`);
  }
}

/**
 * The hosted frameworks reach this master through its public API like any framework, so with
 * --credentials they need a principal of their own (as Marathon takes --mesos_authentication_principal);
 * its secret is the one the credentials file holds for it, so no second secret file can disagree.
 */
function resolveFrameworksCredential(values: MasterOptionValues, auth: AuthSettings): Credential | null {
  const principal = values.frameworksPrincipal;
  if (auth.credentials === null) {
    if (principal !== null)
      throw new OptionError(
        'frameworks-principal',
        '--frameworks-principal needs --credentials, which holds its secret',
      );
    return null;
  }
  const hosting = values.services === 'hosted' || values.jobs === 'hosted';
  if (principal === null) {
    if (!hosting) return null;
    throw new OptionError(
      'frameworks-principal',
      'with --credentials the hosted frameworks need --frameworks-principal <principal> (one of the credentials ' +
        'file), or --services off --jobs off',
    );
  }
  const found = auth.credentials.find((credential) => credential.principal === principal);
  if (found === undefined)
    throw new OptionError(
      'frameworks-principal',
      `--frameworks-principal ${principal} is not in the --credentials file`,
    );
  return found;
}
