// One instance of an app: a Mesos task the framework launched (Marathon 1.4+ calls it an
// instance; with one task per instance we use the task id for both). What survives a restart of
// the framework is `InstanceRecord`, written to the KV store before the task is launched.
import type { AppId } from './path-id.ts';

export type InstanceState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_UNREACHABLE'
  | 'TASK_UNKNOWN';

export interface InstanceRecord {
  readonly taskId: string;
  readonly appId: AppId;
  /** The app version the instance was launched with, and that version's lastConfigChangeAt. */
  readonly version: string;
  readonly configVersion: string;
  readonly agentId: string;
  readonly host: string;
  readonly ip: string;
  readonly ports: readonly number[];
  /** The values of the fields the app's constraints name, on this instance's agent. */
  readonly fields: Readonly<Record<string, string>>;
  readonly stagedAtMs: number;
  startedAtMs: number | null;
  killRequested: boolean;
  unreachableSinceMs: number | null;
  /** The KV page the record lives in. */
  readonly page: number;
}

export interface Instance extends InstanceRecord {
  state: InstanceState;
  /** When a framework that reloaded the record started waiting for news of it (null: launched here). */
  readonly reloadedAtMs: number | null;
  /** The last `healthy` from the agent; null before any health report (or without checks). */
  healthy: boolean | null;
  /** Health check bookkeeping for healthCheckResults. */
  firstHealthyAtMs: number | null;
  lastHealthyAtMs: number | null;
  lastUnhealthyAtMs: number | null;
  lastUnhealthyCause: string | null;
  consecutiveFailures: number;
}

export function instanceFromRecord(record: InstanceRecord, nowMs: number): Instance {
  return {
    ...record,
    reloadedAtMs: nowMs,
    // The state until the reconciliation after a reload says otherwise.
    state: 'TASK_STAGING',
    healthy: null,
    firstHealthyAtMs: null,
    lastHealthyAtMs: null,
    lastUnhealthyAtMs: null,
    lastUnhealthyCause: null,
    consecutiveFailures: 0,
  };
}

/** The durable part, for the KV page. */
export function recordOf(instance: Instance): InstanceRecord {
  return {
    taskId: instance.taskId,
    appId: instance.appId,
    version: instance.version,
    configVersion: instance.configVersion,
    agentId: instance.agentId,
    host: instance.host,
    ip: instance.ip,
    ports: instance.ports,
    fields: instance.fields,
    stagedAtMs: instance.stagedAtMs,
    startedAtMs: instance.startedAtMs,
    killRequested: instance.killRequested,
    unreachableSinceMs: instance.unreachableSinceMs,
    page: instance.page,
  };
}

export const isRunning = (instance: Instance): boolean => instance.state === 'TASK_RUNNING';

/** Healthy for deployments: running, and healthy by its check when the app has one. */
export function isHealthyFor(instance: Instance, hasHealthChecks: boolean): boolean {
  return isRunning(instance) && (!hasHealthChecks || instance.healthy === true);
}

/** Terminal Mesos states: the task is gone and its instance with it. */
const terminalStates = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function isTerminal(state: string): boolean {
  return terminalStates.has(state);
}
