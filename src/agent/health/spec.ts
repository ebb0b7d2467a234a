// A task's health check as the agent receives it in a launch (the wire's shape: src/agent may
// not import src/state-machine), with Mesos' defaults. COMMAND runs `sh -c` where the task runs;
// HTTP and TCP probe a port on 127.0.0.1 (HTTP path "/" when null); consecutiveFailures after
// the grace period make the agent kill the task; failures within gracePeriodMs of the start are
// ignored until the first success.
import type { WireHealthCheck } from '../../protocol/agent.ts';

export type HealthCheckSpec = WireHealthCheck;

/** Mesos' defaults (HealthCheck in mesos.proto: delay 15 s, interval 10 s, timeout 20 s, 3 failures, grace 10 s). */
export const healthCheckDefaults = {
  delayMs: 15_000,
  intervalMs: 10_000,
  timeoutMs: 20_000,
  consecutiveFailures: 3,
  gracePeriodMs: 10_000,
} as const;

const maxPort = 65_535;

/** What is wrong with a spec, in plain words; empty when it can run. */
export function healthCheckSpecProblems(spec: HealthCheckSpec): string[] {
  const problems: string[] = [];
  if (spec.type === 'COMMAND' && (spec.command === null || spec.command.trim() === ''))
    problems.push('a COMMAND check needs a command');
  if (
    spec.type !== 'COMMAND' &&
    (spec.port === null || !Number.isInteger(spec.port) || spec.port < 1 || spec.port > maxPort)
  ) {
    problems.push(`a ${spec.type} check needs a port from 1 to ${maxPort}`);
  }
  if (spec.type === 'HTTP' && spec.path !== null && !spec.path.startsWith('/'))
    problems.push('an HTTP check path must start with "/"');
  for (const [name, value] of [
    ['delayMs', spec.delayMs],
    ['gracePeriodMs', spec.gracePeriodMs],
  ] as const) {
    if (!(Number.isFinite(value) && value >= 0)) problems.push(`${name} must be zero or more`);
  }
  for (const [name, value] of [
    ['intervalMs', spec.intervalMs],
    ['timeoutMs', spec.timeoutMs],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) problems.push(`${name} must be positive`);
  }
  if (!(Number.isInteger(spec.consecutiveFailures) && spec.consecutiveFailures >= 1))
    problems.push('consecutiveFailures must be a whole number of at least 1');
  return problems;
}
