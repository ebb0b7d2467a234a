// The pure core of health checking, as Mesos' HealthChecker decides (docs/health-checks.md,
// src/checks/health_checker.cpp): a failure while the task is still "initializing" (no success
// yet) and within the grace period is ignored; the first success ends initializing; every other
// failure counts, a success resets the count; at `consecutiveFailures` failures the task is to
// be killed. No clock and no I/O: results come in with the time they were taken at.
import type { HealthCheckSpec } from './spec.ts';

export interface HealthState {
  /** When the checker started (the grace period counts from here, the delay included). */
  readonly startedAtMs: number;
  /** No check has succeeded yet. */
  readonly initializing: boolean;
  readonly consecutiveFailures: number;
  /** The last health reported; null before any report. */
  readonly healthy: boolean | null;
  readonly killRequested: boolean;
}

export type HealthEvent =
  /** Health changed: the agent sends a status update with `healthy`. */
  | {
      readonly kind: 'health_changed';
      readonly healthy: boolean;
      readonly consecutiveFailures: number;
      readonly detail: string;
    }
  /** Too many consecutive failures: the agent kills the task (reported once). */
  | { readonly kind: 'kill'; readonly consecutiveFailures: number; readonly detail: string };

export interface CheckResult {
  readonly ok: boolean;
  readonly atMs: number;
  /** Why it failed or what answered, for the status message and the log. */
  readonly detail: string;
}

export function initialHealthState(startedAtMs: number): HealthState {
  return { startedAtMs, initializing: true, consecutiveFailures: 0, healthy: null, killRequested: false };
}

export function decide(
  state: HealthState,
  spec: Pick<HealthCheckSpec, 'gracePeriodMs' | 'consecutiveFailures'>,
  result: CheckResult,
): { readonly state: HealthState; readonly events: readonly HealthEvent[] } {
  if (result.ok) {
    const next: HealthState = { ...state, initializing: false, consecutiveFailures: 0, healthy: true };
    const events: HealthEvent[] =
      state.healthy === true
        ? []
        : [{ kind: 'health_changed', healthy: true, consecutiveFailures: 0, detail: result.detail }];
    return { state: next, events };
  }
  if (state.initializing && result.atMs - state.startedAtMs <= spec.gracePeriodMs) return { state, events: [] };
  const consecutiveFailures = state.consecutiveFailures + 1;
  const events: HealthEvent[] = [];
  if (state.healthy !== false)
    events.push({ kind: 'health_changed', healthy: false, consecutiveFailures, detail: result.detail });
  const kill = !state.killRequested && consecutiveFailures >= spec.consecutiveFailures;
  if (kill) events.push({ kind: 'kill', consecutiveFailures, detail: result.detail });
  return {
    state: { ...state, consecutiveFailures, healthy: false, killRequested: state.killRequested || kill },
    events,
  };
}
