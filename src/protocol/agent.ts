// The agent↔master wire: JSON text frames over one WebSocket the agent dials at
// `agentWebSocketPath` on any master. Every message carries `v` (agentProtocolVersion) and a
// `type`; each side validates what it receives with `parseAgentMessage`/`parseMasterMessage` and
// answers a malformed frame with an `error` message instead of acting on it (or crashing).
//
// Conversation:
//   agent → register {agentId|null, info, tasks}      (a null id asks for a new one)
//   master → not_leader {leader, masters} and closes    (a follower; the agent dials `leader`)
//   master → registered {agentId, …}                    (the (re-)registration is committed)
//   master → ping / agent → pong                        (liveness, leader-driven)
//   master → launch / kill                              (after the command is committed)
//   agent → status_update / master → status_ack         (at-least-once; in order per task)
//   agent → usage                                       (per-task resource usage, best effort)
//   master → launch_group                               (a task group on its DEFAULT executor)
//   master → shutdown_executor / framework_message      (scheduler SHUTDOWN and MESSAGE, best effort)
//   agent → executor_exited / executor_message          (an executor is gone; a message for its scheduler)
// This layer imports nothing of the project: resources and tasks travel as plain JSON in the
// state machine's shapes, and the master converts them (canonical resources) on receipt.
import { type CommandUri, commandUriProblem, maxCommandUris, maxOutputFileChars, maxUriChars } from './command-uris.ts';
import { agentProtocolLimits } from './limits.ts';
import { isTaskState, type TaskState } from './task-states.ts';
import type { ResourceStatistics } from './mesos.ts';

/**
 * 2: launch specs carry the task's resolved `user` and the container's port mappings, volumes,
 * privileged flag, docker parameters and hostname. An agent of version 1 would drop them, so it
 * is refused at the handshake.
 * 3: executors: launches name the task's executor and framework, task groups, executor messages
 * both ways, SHUTDOWN, executors in `register`; specs carry executorId, data and taskGroup.
 * 4: `kill` carries `maxGracePeriodMs` (a drain's DrainConfig.max_grace_period). An agent of
 * version 3 would kill with the task's full grace period, so it is refused at the handshake.
 * 5: resources may carry `disk` (a persistent volume), and the master sends `volumes`. An agent of
 * version 4 would mount no volume and never delete a destroyed one's data, so it is refused.
 * 6: executor infos carry their `container`; an agent of version 5 would run a Docker executor as a process.
 * 7: commands carry `uris` to fetch; an agent of version 6 would start tasks without their files.
 */
export const agentProtocolVersion = 7;
export const agentWebSocketPath = '/api/v1/agent/ws';
/**
 * An agent that sends this header (any value) at the handshake follows a follower's HTTP 307 to
 * the leader (`Location`: the agent path on the leader) instead of an upgraded socket that only
 * carries `not_leader`: one HTTP exchange instead of a WebSocket handshake, a register frame and a
 * close on the follower. Opt-in, so agents that do not send it keep getting `not_leader`.
 */
export const agentRedirectHeader = 'x-flotilla-follow-redirect';

// ---------------------------------------------------------------- shared shapes

export interface WireRange {
  readonly begin: number;
  readonly end: number;
}

/** A persistent volume's DiskInfo, as the state machine keeps it. */
export interface WireDiskInfo {
  readonly persistenceId: string;
  readonly principal: string | null;
  readonly containerPath: string;
  readonly mode: 'RW' | 'RO';
}

/** The state machine's Resource, as plain JSON (role "*" when unreserved; `disk` on a persistent volume only). */
export type WireResource =
  | {
      readonly name: string;
      readonly role: string;
      readonly type: 'SCALAR';
      readonly scalar: number;
      readonly disk?: WireDiskInfo;
    }
  | { readonly name: string; readonly role: string; readonly type: 'RANGES'; readonly ranges: readonly WireRange[] };

/** A persistent volume on an agent: unique by role and id. */
export interface WireVolumeRef {
  readonly role: string;
  readonly persistenceId: string;
}

export interface WireAgentInfo {
  readonly hostname: string;
  readonly address: { readonly ip: string; readonly port: number };
  readonly zone: string | null;
  readonly resources: readonly WireResource[];
  readonly attributes: Readonly<Record<string, string>>;
}

export interface WireTaskRef {
  readonly frameworkId: string;
  readonly taskId: string;
}

/** A task an agent reports on (re-)registration, with its latest state there (null from older agents). */
export interface WireReportedTask extends WireTaskRef {
  readonly state: TaskState | null;
}

export interface WireHealthCheck {
  readonly type: 'COMMAND' | 'HTTP' | 'TCP';
  readonly command: string | null;
  readonly port: number | null;
  readonly path: string | null;
  readonly delayMs: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly consecutiveFailures: number;
  readonly gracePeriodMs: number;
}

export interface WirePortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface WireVolume {
  /** Absolute, or relative to the sandbox inside the container. */
  readonly containerPath: string;
  /** Absolute (the agent checks its allow-list), or relative to the sandbox. */
  readonly hostPath: string;
  readonly mode: 'RW' | 'RO';
}

export interface WireContainer {
  readonly type: 'DOCKER' | 'MESOS';
  readonly image: string | null;
  readonly network: 'HOST' | 'BRIDGE' | 'NONE';
  readonly forcePullImage: boolean;
  readonly portMappings: readonly WirePortMapping[];
  readonly volumes: readonly WireVolume[];
  readonly privileged: boolean;
  /** `docker run --key=value` options, in order (docker-parameters.ts says which the agent honours). */
  readonly parameters: readonly { readonly key: string; readonly value: string }[];
  readonly hostname: string | null;
}

export interface WireCommand {
  readonly value: string;
  readonly shell: boolean;
  readonly arguments: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** Fetched into the sandbox before the command starts; absent: none. */
  readonly uris?: readonly CommandUri[];
}

/** The state machine's ExecutorDefinition, with the user it runs as resolved by the master. */
export interface WireExecutorInfo {
  readonly id: string;
  readonly type: 'CUSTOM' | 'DEFAULT';
  readonly name: string | null;
  /** CUSTOM: the program the agent starts; DEFAULT: null (the agent runs it itself). */
  readonly command: WireCommand | null;
  readonly resources: readonly WireResource[];
  readonly shutdownGracePeriodMs: number | null;
  readonly labels: Readonly<Record<string, string>>;
  /** Its command's user, else its framework's; null: the agent's own. */
  readonly user: string | null;
  /** CUSTOM only: DOCKER (or MESOS with an image) runs the executor in that image; null: a process. */
  readonly container: WireContainer | null;
}

/** What an executor is told of its framework (SUBSCRIBED's framework_info). */
export interface WireFrameworkInfo {
  readonly id: string;
  readonly name: string;
  readonly user: string | null;
  readonly roles: readonly string[];
  readonly principal: string | null;
  readonly hostname: string | null;
  readonly capabilities: readonly string[];
}

export interface WireExecutorRef {
  readonly frameworkId: string;
  readonly executorId: string;
}

/** The state machine's Task definition, as plain JSON: what the agent runs and checkpoints. */
export interface WireTaskSpec {
  readonly id: string;
  readonly name: string;
  readonly resources: readonly WireResource[];
  readonly command: WireCommand | null;
  readonly container: WireContainer | null;
  /** The Unix user the task runs as (its command's, else its framework's); null: the agent's own. */
  readonly user: string | null;
  readonly healthCheck: WireHealthCheck | null;
  readonly killGracePeriodMs: number | null;
  readonly labels: Readonly<Record<string, string>>;
  /** The executor it runs on; null: the agent's command executor (named after the task). */
  readonly executorId: string | null;
  /** TaskInfo.data, base64; null: none. */
  readonly data: string | null;
  /** LAUNCH_GROUP: the id of the group's first task; null otherwise. */
  readonly taskGroup: string | null;
}

/** A Mesos TaskStatus as the agent reports it; state/reason/source use the Mesos enum names. */
export interface WireStatus {
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
  readonly source: 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  /** Base64 of 16 random bytes, made by the agent; the master records each uuid once. */
  readonly uuid: string;
  readonly timestampMs: number;
  readonly healthy: boolean | null;
  /** TaskStatus.data from the executor, base64; null: none. */
  readonly data: string | null;
}

export interface WireUsage {
  readonly cpusUserTimeSecs: number;
  readonly cpusSystemTimeSecs: number;
  readonly cpuPercent: number;
  readonly memRssBytes: number;
  readonly memLimitBytes: number | null;
  readonly cpusLimit: number | null;
  readonly timestampMs: number;
}

/** Mesos' ResourceStatistics of one sample (an unknown limit is left out, not 0). */
export function resourceStatistics(usage: WireUsage): ResourceStatistics {
  return {
    timestamp: usage.timestampMs / 1000,
    cpus_user_time_secs: usage.cpusUserTimeSecs,
    cpus_system_time_secs: usage.cpusSystemTimeSecs,
    mem_rss_bytes: usage.memRssBytes,
    ...(usage.cpusLimit === null ? {} : { cpus_limit: usage.cpusLimit }),
    ...(usage.memLimitBytes === null ? {} : { mem_limit_bytes: usage.memLimitBytes }),
  };
}

export interface WireMaster {
  readonly address: string;
  readonly zone: string | null;
}

// ---------------------------------------------------------------- messages

interface Versioned {
  readonly v: number;
}

export type AgentMessage =
  | (Versioned & {
      readonly type: 'register';
      readonly agentId: string | null;
      readonly info: WireAgentInfo;
      readonly tasks: readonly WireReportedTask[];
      /** Its live executors (frameworks' and task groups'): the master removes the others once idle. */
      readonly executors: readonly WireExecutorRef[];
    })
  | (Versioned &
      WireExecutorRef & {
        readonly type: 'executor_exited';
        /** Its exit status (a wait status, as Mesos reports it); null: unknown. */
        readonly status: number | null;
      })
  | (Versioned & WireExecutorRef & { readonly type: 'executor_message'; readonly data: string })
  | (Versioned & { readonly type: 'pong'; readonly nonce: number })
  | (Versioned & {
      readonly type: 'status_update';
      readonly frameworkId: string;
      readonly taskId: string;
      readonly status: WireStatus;
    })
  | (Versioned & { readonly type: 'usage'; readonly tasks: readonly (WireTaskRef & { readonly usage: WireUsage })[] })
  | (Versioned & { readonly type: 'error'; readonly code: string; readonly message: string });

export type MasterMessage =
  | (Versioned & {
      readonly type: 'not_leader';
      readonly leader: string | null;
      readonly masters: readonly WireMaster[];
    })
  | (Versioned & {
      readonly type: 'registered';
      readonly agentId: string;
      readonly master: WireMaster;
      readonly masters: readonly WireMaster[];
      readonly pingIntervalMs: number;
      readonly maxMissedPings: number;
    })
  | (Versioned & { readonly type: 'ping'; readonly nonce: number })
  | (Versioned & {
      readonly type: 'launch';
      readonly frameworkId: string;
      readonly task: WireTaskSpec;
      /** The framework's executor the task runs on; null: the command executor. */
      readonly executor: WireExecutorInfo | null;
      readonly framework: WireFrameworkInfo | null;
    })
  | (Versioned & {
      readonly type: 'launch_group';
      readonly frameworkId: string;
      readonly executor: WireExecutorInfo;
      readonly framework: WireFrameworkInfo;
      readonly tasks: readonly WireTaskSpec[];
    })
  | (Versioned & WireExecutorRef & { readonly type: 'shutdown_executor' })
  | (Versioned & WireExecutorRef & { readonly type: 'framework_message'; readonly data: string })
  | (Versioned & {
      readonly type: 'kill';
      readonly frameworkId: string;
      readonly taskId: string;
      readonly message: string;
      /** Caps the task's kill grace period (an agent being drained); null: the task's own. */
      readonly maxGracePeriodMs: number | null;
    })
  | (Versioned & {
      readonly type: 'status_ack';
      readonly frameworkId: string;
      readonly taskId: string;
      readonly uuid: string;
    })
  /**
   * Every persistent volume the agent has, by the replicated state: sent when it registers and
   * whenever a volume is created or destroyed. The agent deletes the data of any other volume.
   */
  | (Versioned & { readonly type: 'volumes'; readonly volumes: readonly WireVolumeRef[] })
  | (Versioned & { readonly type: 'error'; readonly code: string; readonly message: string });

type Distribute<T> = T extends unknown ? Omit<T, 'v'> : never;
export type AgentMessageBody = Distribute<AgentMessage>;
export type MasterMessageBody = Distribute<MasterMessage>;

/**
 * Stable codes of the socket's `error` messages, either way (docs/errors.md "Agent socket";
 * test/http/errors.test.ts checks the two agree both ways).
 */
export const agentProtocolErrors = {
  MALFORMED_MESSAGE: { meaning: 'the frame is not JSON, too large, of an unknown type, or a field is wrong' },
  UNSUPPORTED_VERSION: { meaning: "the frame's protocol version `v` is not one this side speaks" },
  NOT_REGISTERED: { meaning: 'an agent sent a message other than registration before it registered' },
  AGENT_GONE: {
    meaning: 'the agent was marked gone (MARK_AGENT_GONE, a drain with mark_gone): it may not register again and stops',
  },
  REGISTRATION_FAILED: {
    meaning: 'the registration did not commit (leadership moved) or the socket registered twice: dial again',
  },
} as const satisfies Record<string, { readonly meaning: string }>;

export type AgentProtocolErrorCode = keyof typeof agentProtocolErrors;

export function encodeMessage(body: AgentMessageBody | MasterMessageBody): string {
  return JSON.stringify({ v: agentProtocolVersion, ...body });
}

export type Parsed<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly code: AgentProtocolErrorCode; readonly problem: string };

// ---------------------------------------------------------------- validation

class Invalid extends Error {}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Invalid(`${where} must be an object`);
  return value as Json;
}

function string(value: unknown, where: string, maxLength: number = agentProtocolLimits.maxTextLength): string {
  if (typeof value !== 'string' || value.length > maxLength)
    throw new Invalid(`${where} must be a string of at most ${maxLength} characters`);
  return value;
}

function nullable<T>(value: unknown, read: (value: unknown) => T): T | null {
  return value === null || value === undefined ? null : read(value);
}

function number(value: unknown, where: string, options: { integer?: boolean; min?: number } = {}): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!options.integer || Number.isSafeInteger(value)) &&
    value >= (options.min ?? 0);
  if (!ok)
    throw new Invalid(`${where} must be a ${options.integer ? 'whole ' : ''}number of at least ${options.min ?? 0}`);
  return value as number;
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new Invalid(`${where} must be true or false`);
  return value;
}

function array<T>(value: unknown, where: string, max: number, read: (item: unknown, where: string) => T): T[] {
  if (!Array.isArray(value) || value.length > max) throw new Invalid(`${where} must be a list of at most ${max} items`);
  return value.map((item, position) => read(item, `${where}[${position}]`));
}

function oneOf<T extends string>(value: unknown, where: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new Invalid(`${where} must be one of ${choices.join(', ')}`);
  return value as T;
}

/** Ids become path components of sandboxes: the state machine's id alphabet, never "/" or "..". */
const idPattern = /^[A-Za-z0-9_][A-Za-z0-9._:@+-]*$/;

export function isValidWireId(value: string): boolean {
  return value.length <= agentProtocolLimits.maxIdLength && idPattern.test(value);
}

function id(value: unknown, where: string): string {
  const text = string(value, where, agentProtocolLimits.maxIdLength);
  if (!idPattern.test(text)) throw new Invalid(`${where} must be an id (letters, digits, . _ : @ + -)`);
  return text;
}

function stringMap(value: unknown, where: string, max: number): Record<string, string> {
  const entries = Object.entries(object(value, where));
  if (entries.length > max) throw new Invalid(`${where} must have at most ${max} entries`);
  return Object.fromEntries(
    entries.map(([key, item]) => [string(key, `${where} key`, 255), string(item, `${where}.${key}`)]),
  );
}

function resource(value: unknown, where: string): WireResource {
  const raw = object(value, where);
  const name = string(raw.name, `${where}.name`, 64);
  const role = raw.role === undefined ? '*' : string(raw.role, `${where}.role`, 255);
  const type = oneOf(raw.type, `${where}.type`, ['SCALAR', 'RANGES'] as const);
  if (type === 'SCALAR') {
    const scalar = number(raw.scalar, `${where}.scalar`);
    if (raw.disk === undefined) return { name, role, type, scalar };
    return { name, role, type, scalar, disk: diskInfo(raw.disk, `${where}.disk`) };
  }
  const ranges = array(raw.ranges, `${where}.ranges`, agentProtocolLimits.maxRanges, (item, at) => {
    const range = object(item, at);
    return {
      begin: number(range.begin, `${at}.begin`, { integer: true }),
      end: number(range.end, `${at}.end`, { integer: true }),
    };
  });
  return { name, role, type, ranges };
}

function diskInfo(value: unknown, where: string): WireDiskInfo {
  const raw = object(value, where);
  return {
    persistenceId: string(raw.persistenceId, `${where}.persistenceId`, 128),
    principal: nullable(raw.principal, (principal) => string(principal, `${where}.principal`, 255)),
    containerPath: string(raw.containerPath, `${where}.containerPath`),
    mode: oneOf(raw.mode, `${where}.mode`, ['RW', 'RO'] as const),
  };
}

function volumeRef(value: unknown, where: string): WireVolumeRef {
  const raw = object(value, where);
  return {
    role: string(raw.role, `${where}.role`, 255),
    persistenceId: string(raw.persistenceId, `${where}.persistenceId`, 128),
  };
}

function resources(value: unknown, where: string): WireResource[] {
  return array(value, where, agentProtocolLimits.maxResources, resource);
}

function agentInfo(value: unknown, where: string): WireAgentInfo {
  const raw = object(value, where);
  const address = object(raw.address, `${where}.address`);
  return {
    hostname: string(raw.hostname, `${where}.hostname`, 255),
    address: {
      ip: string(address.ip, `${where}.address.ip`, 255),
      port: number(address.port, `${where}.address.port`, { integer: true }),
    },
    zone: nullable(raw.zone, (zone) => string(zone, `${where}.zone`, 255)),
    resources: resources(raw.resources, `${where}.resources`),
    attributes: stringMap(raw.attributes ?? {}, `${where}.attributes`, agentProtocolLimits.maxAttributes),
  };
}

function taskRef(value: unknown, where: string): WireTaskRef {
  const raw = object(value, where);
  return { frameworkId: id(raw.frameworkId, `${where}.frameworkId`), taskId: id(raw.taskId, `${where}.taskId`) };
}

function reportedTask(value: unknown, where: string): WireReportedTask {
  const raw = object(value, where);
  const state = nullable(raw.state, (reported) => string(reported, `${where}.state`, 64));
  if (state !== null && !isTaskState(state)) throw new Invalid(`${where}.state must be a task state, got "${state}"`);
  return { ...taskRef(value, where), state };
}

function status(value: unknown, where: string): WireStatus {
  const raw = object(value, where);
  const uuid = string(raw.uuid, `${where}.uuid`, 64);
  if (!/^[A-Za-z0-9+/]{22}==$/.test(uuid)) throw new Invalid(`${where}.uuid must be base64 of 16 bytes`);
  return {
    state: string(raw.state, `${where}.state`, 64),
    reason: nullable(raw.reason, (reason) => string(reason, `${where}.reason`, 128)),
    // COMPAT: agents before status-message.ts checkpointed messages of any length, and a refused
    // frame is resent forever (the task never ends in the master). The frame bounds the text; the
    // master cuts it to maxTextLength (toStatusReport) before it is replicated.
    message: nullable(raw.message, (message) => string(message, `${where}.message`, agentProtocolLimits.maxFrameBytes)),
    source: oneOf(raw.source, `${where}.source`, ['SOURCE_AGENT', 'SOURCE_EXECUTOR'] as const),
    uuid,
    timestampMs: number(raw.timestampMs, `${where}.timestampMs`),
    healthy: nullable(raw.healthy, (healthy) => boolean(healthy, `${where}.healthy`)),
    data: nullable(raw.data, (data) => base64(data, `${where}.data`)),
  };
}

/** Base64 text (TaskInfo.data, TaskStatus.data, framework messages); the frame bounds its size. */
function base64(value: unknown, where: string): string {
  const text = string(value, where, agentProtocolLimits.maxFrameBytes);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Invalid(`${where} must be base64`);
  return text;
}

function usage(value: unknown, where: string): WireUsage {
  const raw = object(value, where);
  return {
    cpusUserTimeSecs: number(raw.cpusUserTimeSecs, `${where}.cpusUserTimeSecs`),
    cpusSystemTimeSecs: number(raw.cpusSystemTimeSecs, `${where}.cpusSystemTimeSecs`),
    cpuPercent: number(raw.cpuPercent, `${where}.cpuPercent`),
    memRssBytes: number(raw.memRssBytes, `${where}.memRssBytes`),
    memLimitBytes: nullable(raw.memLimitBytes, (limit) => number(limit, `${where}.memLimitBytes`)),
    cpusLimit: nullable(raw.cpusLimit, (limit) => number(limit, `${where}.cpusLimit`)),
    timestampMs: number(raw.timestampMs, `${where}.timestampMs`),
  };
}

function healthCheck(value: unknown, where: string): WireHealthCheck {
  const raw = object(value, where);
  const duration = (key: string): number => number(raw[key], `${where}.${key}`, { integer: true });
  return {
    type: oneOf(raw.type, `${where}.type`, ['COMMAND', 'HTTP', 'TCP'] as const),
    command: nullable(raw.command, (command) => string(command, `${where}.command`)),
    port: nullable(raw.port, (port) => number(port, `${where}.port`, { integer: true })),
    path: nullable(raw.path, (path) => string(path, `${where}.path`)),
    delayMs: duration('delayMs'),
    intervalMs: duration('intervalMs'),
    timeoutMs: duration('timeoutMs'),
    consecutiveFailures: duration('consecutiveFailures'),
    gracePeriodMs: duration('gracePeriodMs'),
  };
}

function container(value: unknown, where: string): WireContainer {
  const box = object(value, where);
  const limits = agentProtocolLimits;
  const path = (item: unknown, at: string): string => string(item, at, limits.maxPathLength);
  // COMPAT: a checkpoint written by an agent of protocol 1 has none of the fields after forcePullImage.
  return {
    type: oneOf(box.type, `${where}.type`, ['DOCKER', 'MESOS'] as const),
    image: nullable(box.image, (image) => string(image, `${where}.image`, 1024)),
    network: oneOf(box.network ?? 'HOST', `${where}.network`, ['HOST', 'BRIDGE', 'NONE'] as const),
    forcePullImage: box.forcePullImage === undefined ? false : boolean(box.forcePullImage, `${where}.forcePullImage`),
    portMappings: array(box.portMappings ?? [], `${where}.portMappings`, limits.maxPortMappings, (item, at) => {
      const mapping = object(item, at);
      return {
        hostPort: number(mapping.hostPort, `${at}.hostPort`, { integer: true, min: 1 }),
        containerPort: number(mapping.containerPort, `${at}.containerPort`, { integer: true, min: 1 }),
        protocol: oneOf(mapping.protocol, `${at}.protocol`, ['tcp', 'udp'] as const),
      };
    }),
    volumes: array(box.volumes ?? [], `${where}.volumes`, limits.maxVolumes, (item, at) => {
      const volume = object(item, at);
      return {
        containerPath: path(volume.containerPath, `${at}.containerPath`),
        hostPath: path(volume.hostPath, `${at}.hostPath`),
        mode: oneOf(volume.mode, `${at}.mode`, ['RW', 'RO'] as const),
      };
    }),
    privileged: box.privileged === undefined ? false : boolean(box.privileged, `${where}.privileged`),
    parameters: array(box.parameters ?? [], `${where}.parameters`, limits.maxDockerParameters, (item, at) => {
      const parameter = object(item, at);
      return { key: string(parameter.key, `${at}.key`, 64), value: string(parameter.value, `${at}.value`) };
    }),
    hostname: nullable(box.hostname, (hostname) => string(hostname, `${where}.hostname`, 255)),
  };
}

function wireCommand(item: unknown, where: string): WireCommand {
  const cmd = object(item, where);
  return {
    value: string(cmd.value, `${where}.value`),
    shell: boolean(cmd.shell, `${where}.shell`),
    arguments: array(cmd.arguments ?? [], `${where}.arguments`, agentProtocolLimits.maxArguments, (arg, at) =>
      string(arg, at),
    ),
    environment: stringMap(cmd.environment ?? {}, `${where}.environment`, agentProtocolLimits.maxEnvironmentVariables),
    // COMPAT: a checkpoint of protocol 6 or older has no uris.
    ...(cmd.uris === undefined ? {} : { uris: array(cmd.uris, `${where}.uris`, maxCommandUris, commandUri) }),
  };
}

/** The agent checks a URI again: what it fetches must land inside the sandbox, whoever sent it. */
function commandUri(item: unknown, where: string): CommandUri {
  const raw = object(item, where);
  const uri: CommandUri = {
    value: string(raw.value, `${where}.value`, maxUriChars),
    executable: boolean(raw.executable, `${where}.executable`),
    extract: boolean(raw.extract, `${where}.extract`),
    cache: boolean(raw.cache, `${where}.cache`),
    outputFile: nullable(raw.outputFile, (file) => string(file, `${where}.outputFile`, maxOutputFileChars)),
  };
  const problem = commandUriProblem(uri);
  if (problem !== null) throw new Invalid(`${where}: ${problem}`);
  return uri;
}

export function parseExecutorInfo(value: unknown, where = 'executor'): WireExecutorInfo {
  const raw = object(value, where);
  return {
    id: id(raw.id, `${where}.id`),
    type: oneOf(raw.type, `${where}.type`, ['CUSTOM', 'DEFAULT'] as const),
    name: nullable(raw.name, (name) => string(name, `${where}.name`, 255)),
    command: nullable(raw.command, (item) => wireCommand(item, `${where}.command`)),
    resources: resources(raw.resources, `${where}.resources`),
    shutdownGracePeriodMs: nullable(raw.shutdownGracePeriodMs, (grace) =>
      number(grace, `${where}.shutdownGracePeriodMs`, { integer: true }),
    ),
    labels: stringMap(raw.labels ?? {}, `${where}.labels`, agentProtocolLimits.maxLabels),
    user: nullable(raw.user, (user) => string(user, `${where}.user`, 255)),
    // COMPAT: a checkpoint of protocol 5 or older has no container: its executors are processes.
    container: nullable(raw.container, (item) => container(item, `${where}.container`)),
  };
}

export function parseFrameworkInfo(value: unknown, where = 'framework'): WireFrameworkInfo {
  const raw = object(value, where);
  const names = (item: unknown, at: string): string[] =>
    array(item ?? [], at, 64, (name, path) => string(name, path, 255));
  return {
    id: id(raw.id, `${where}.id`),
    name: string(raw.name, `${where}.name`, 255),
    user: nullable(raw.user, (user) => string(user, `${where}.user`, 255)),
    roles: names(raw.roles, `${where}.roles`),
    principal: nullable(raw.principal, (principal) => string(principal, `${where}.principal`, 255)),
    hostname: nullable(raw.hostname, (hostname) => string(hostname, `${where}.hostname`, 255)),
    capabilities: names(raw.capabilities, `${where}.capabilities`),
  };
}

function executorRef(value: unknown, where: string): WireExecutorRef {
  const raw = object(value, where);
  return {
    frameworkId: id(raw.frameworkId, `${where}.frameworkId`),
    executorId: id(raw.executorId, `${where}.executorId`),
  };
}

export function parseTaskSpec(value: unknown, where = 'task'): WireTaskSpec {
  const raw = object(value, where);
  const command = nullable(raw.command, (item) => wireCommand(item, `${where}.command`));
  return {
    id: id(raw.id, `${where}.id`),
    name: string(raw.name ?? '', `${where}.name`, 255),
    resources: resources(raw.resources, `${where}.resources`),
    command,
    container: nullable(raw.container, (item) => container(item, `${where}.container`)),
    // COMPAT: a checkpoint of protocol 1 has the user in the command.
    user: nullable(raw.user ?? object(raw.command ?? {}, `${where}.command`).user, (user) =>
      string(user, `${where}.user`, 255),
    ),
    healthCheck: nullable(raw.healthCheck, (item) => healthCheck(item, `${where}.healthCheck`)),
    killGracePeriodMs: nullable(raw.killGracePeriodMs, (grace) =>
      number(grace, `${where}.killGracePeriodMs`, { integer: true }),
    ),
    labels: stringMap(raw.labels ?? {}, `${where}.labels`, agentProtocolLimits.maxLabels),
    // COMPAT: a checkpoint of protocol 2 has none of the three: a command task, no data, no group.
    executorId: nullable(raw.executorId, (executor) => id(executor, `${where}.executorId`)),
    data: nullable(raw.data, (data) => base64(data, `${where}.data`)),
    taskGroup: nullable(raw.taskGroup, (group) => id(group, `${where}.taskGroup`)),
  };
}

function master(value: unknown, where: string): WireMaster {
  const raw = object(value, where);
  return {
    address: string(raw.address, `${where}.address`, 255),
    zone: nullable(raw.zone, (zone) => string(zone, `${where}.zone`, 255)),
  };
}

function readAgentBody(raw: Json): AgentMessageBody {
  switch (raw.type) {
    case 'register':
      return {
        type: 'register',
        agentId: nullable(raw.agentId, (value) => id(value, 'agentId')),
        info: agentInfo(raw.info, 'info'),
        tasks: array(raw.tasks, 'tasks', agentProtocolLimits.maxReportedTasks, reportedTask),
        executors: array(raw.executors, 'executors', agentProtocolLimits.maxReportedTasks, executorRef),
      };
    case 'executor_exited':
      return {
        type: 'executor_exited',
        ...executorRef(raw, 'message'),
        status: nullable(raw.status, (exit) => number(exit, 'status', { integer: true, min: -1_000_000 })),
      };
    case 'executor_message':
      return { type: 'executor_message', ...executorRef(raw, 'message'), data: base64(raw.data, 'data') };
    case 'pong':
      return { type: 'pong', nonce: number(raw.nonce, 'nonce', { integer: true }) };
    case 'status_update':
      return {
        type: 'status_update',
        frameworkId: id(raw.frameworkId, 'frameworkId'),
        taskId: id(raw.taskId, 'taskId'),
        status: status(raw.status, 'status'),
      };
    case 'usage':
      return {
        type: 'usage',
        tasks: array(raw.tasks, 'tasks', agentProtocolLimits.maxUsageEntries, (item, at) => ({
          ...taskRef(item, at),
          usage: usage(object(item, at).usage, `${at}.usage`),
        })),
      };
    case 'error':
      return { type: 'error', code: string(raw.code, 'code', 64), message: string(raw.message, 'message') };
    default:
      throw new Invalid(`unknown message type ${JSON.stringify(raw.type)}`);
  }
}

function readMasterBody(raw: Json): MasterMessageBody {
  switch (raw.type) {
    case 'not_leader':
      return {
        type: 'not_leader',
        leader: nullable(raw.leader, (leader) => string(leader, 'leader', 255)),
        masters: array(raw.masters, 'masters', agentProtocolLimits.maxMasters, master),
      };
    case 'registered':
      return {
        type: 'registered',
        agentId: id(raw.agentId, 'agentId'),
        master: master(raw.master, 'master'),
        masters: array(raw.masters, 'masters', agentProtocolLimits.maxMasters, master),
        pingIntervalMs: number(raw.pingIntervalMs, 'pingIntervalMs', { integer: true, min: 1 }),
        maxMissedPings: number(raw.maxMissedPings, 'maxMissedPings', { integer: true, min: 1 }),
      };
    case 'ping':
      return { type: 'ping', nonce: number(raw.nonce, 'nonce', { integer: true }) };
    case 'launch':
      return {
        type: 'launch',
        frameworkId: id(raw.frameworkId, 'frameworkId'),
        task: parseTaskSpec(raw.task),
        executor: nullable(raw.executor, (executor) => parseExecutorInfo(executor)),
        framework: nullable(raw.framework, (framework) => parseFrameworkInfo(framework)),
      };
    case 'launch_group':
      return {
        type: 'launch_group',
        frameworkId: id(raw.frameworkId, 'frameworkId'),
        executor: parseExecutorInfo(raw.executor),
        framework: parseFrameworkInfo(raw.framework),
        tasks: array(raw.tasks, 'tasks', agentProtocolLimits.maxReportedTasks, (task, at) => parseTaskSpec(task, at)),
      };
    case 'shutdown_executor':
      return { type: 'shutdown_executor', ...executorRef(raw, 'message') };
    case 'framework_message':
      return { type: 'framework_message', ...executorRef(raw, 'message'), data: base64(raw.data, 'data') };
    case 'kill':
      return {
        type: 'kill',
        frameworkId: id(raw.frameworkId, 'frameworkId'),
        taskId: id(raw.taskId, 'taskId'),
        message: string(raw.message ?? '', 'message'),
        maxGracePeriodMs: nullable(raw.maxGracePeriodMs, (grace) =>
          number(grace, 'maxGracePeriodMs', { integer: true, min: 0 }),
        ),
      };
    case 'status_ack':
      return {
        type: 'status_ack',
        frameworkId: id(raw.frameworkId, 'frameworkId'),
        taskId: id(raw.taskId, 'taskId'),
        uuid: string(raw.uuid, 'uuid', 64),
      };
    case 'volumes':
      return {
        type: 'volumes',
        volumes: array(raw.volumes, 'volumes', agentProtocolLimits.maxPersistentVolumes, volumeRef),
      };
    case 'error':
      return { type: 'error', code: string(raw.code, 'code', 64), message: string(raw.message, 'message') };
    default:
      throw new Invalid(`unknown message type ${JSON.stringify(raw.type)}`);
  }
}

function parseFrame<T>(frame: string, readBody: (raw: Json) => T): Parsed<T> {
  if (frame.length > agentProtocolLimits.maxFrameBytes)
    return { ok: false, code: 'MALFORMED_MESSAGE', problem: 'frame too large' };
  let raw: Json;
  try {
    raw = object(JSON.parse(frame), 'message');
  } catch (error) {
    return { ok: false, code: 'MALFORMED_MESSAGE', problem: `not a JSON object: ${(error as Error).message}` };
  }
  if (raw.v !== agentProtocolVersion) {
    return {
      ok: false,
      code: 'UNSUPPORTED_VERSION',
      problem: `format version ${JSON.stringify(raw.v)} is not ${agentProtocolVersion}`,
    };
  }
  try {
    return { ok: true, message: { v: agentProtocolVersion, ...readBody(raw) } as T };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, code: 'MALFORMED_MESSAGE', problem: error.message };
    throw error;
  }
}

/** What the master reads from an agent. */
export const parseAgentMessage = (frame: string): Parsed<AgentMessage> =>
  parseFrame(frame, readAgentBody) as Parsed<AgentMessage>;
/** What the agent reads from a master. */
export const parseMasterMessage = (frame: string): Parsed<MasterMessage> =>
  parseFrame(frame, readMasterBody) as Parsed<MasterMessage>;
