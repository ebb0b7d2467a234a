// What an executor learns from the agent that started it: the MESOS_* environment variables
// (executor-http-api.md, "Executor Environment Variables"). An executor started by hand (tests,
// debugging) can pass the same values in code instead.
import { parseDuration } from '../../protocol/durations.ts';
import { executorEnvironment } from '../../protocol/executor.ts';

export interface ExecutorIdentity {
  /** host:port of the agent's HTTP API. */
  readonly agentEndpoint: string;
  /** The agent's API speaks HTTPS with a certificate of this PEM CA file (LIBPROCESS_SSL_*); absent or null: HTTP. */
  readonly tlsCaFile?: string | null;
  readonly frameworkId: string;
  readonly executorId: string;
  /** The executor's sandbox (its working directory). */
  readonly sandbox: string;
  /** How long the agent waits for a disconnected executor to subscribe again: give up after it. */
  readonly recoveryTimeoutMs: number;
  /** The longest wait between two subscription attempts. */
  readonly subscriptionBackoffMaxMs: number;
  /** What the agent grants between SHUTDOWN and its kill. */
  readonly shutdownGracePeriodMs: number;
  /**
   * MESOS_EXECUTOR_AUTHENTICATION_TOKEN: sent as `Authorization: Bearer …` with every call, which an
   * agent with --credentials requires. Absent (or null): the calls are anonymous.
   */
  readonly authenticationToken?: string | null;
}

export class ExecutorEnvironmentError extends Error {
  override name = 'ExecutorEnvironmentError';
}

/** Mesos' defaults, for variables an agent left out (an older Mesos sets no backoff). */
const defaultRecoveryTimeoutMs = 15 * 60 * 1000;
const defaultSubscriptionBackoffMaxMs = 2_000;
const defaultShutdownGracePeriodMs = 5_000;

function required(environment: NodeJS.ProcessEnv, name: string): string {
  const value = environment[name];
  if (value === undefined || value === '')
    throw new ExecutorEnvironmentError(`${name} is not set: is this process an executor started by an agent?`);
  return value;
}

function duration(environment: NodeJS.ProcessEnv, name: string, fallbackMs: number): number {
  const value = environment[name];
  if (value === undefined || value === '') return fallbackMs;
  const milliseconds = parseDuration(value);
  if (milliseconds === null) throw new ExecutorEnvironmentError(`${name}="${value}" is not a duration like "15mins"`);
  return milliseconds;
}

function optional(environment: NodeJS.ProcessEnv, name: string): string | null {
  const value = environment[name];
  return value === undefined || value === '' ? null : value;
}

/** LIBPROCESS_SSL_ENABLED as libprocess reads it: "true" or "1". */
function sslEnabled(environment: NodeJS.ProcessEnv): boolean {
  const value = environment[executorEnvironment.sslEnabled];
  return value === 'true' || value === '1';
}

/** The identity in `environment` (default: this process's), or ExecutorEnvironmentError naming what is missing. */
export function executorIdentityFromEnvironment(environment: NodeJS.ProcessEnv = process.env): ExecutorIdentity {
  return {
    agentEndpoint: required(environment, executorEnvironment.agentEndpoint),
    frameworkId: required(environment, executorEnvironment.frameworkId),
    executorId: required(environment, executorEnvironment.executorId),
    sandbox: environment[executorEnvironment.sandbox] ?? environment[executorEnvironment.directory] ?? process.cwd(),
    recoveryTimeoutMs: duration(environment, executorEnvironment.recoveryTimeout, defaultRecoveryTimeoutMs),
    subscriptionBackoffMaxMs: duration(
      environment,
      executorEnvironment.subscriptionBackoffMax,
      defaultSubscriptionBackoffMaxMs,
    ),
    shutdownGracePeriodMs: duration(environment, executorEnvironment.shutdownGracePeriod, defaultShutdownGracePeriodMs),
    authenticationToken: optional(environment, executorEnvironment.authenticationToken),
    tlsCaFile: sslEnabled(environment) ? required(environment, executorEnvironment.sslCaFile) : null,
  };
}
