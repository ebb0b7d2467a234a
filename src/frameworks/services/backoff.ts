// Launch back-off (backoff.md): after each failure of an app's instance the next launch waits
// backoffSeconds × backoffFactor^(failures − 1), at most maxLaunchDelaySeconds. TASK_FAILED,
// TASK_FINISHED and TASK_ERROR count; a kill does not. The delay is reset by a new version, by
// DELETE /v2/queue/{id}/delay, and when no failure came for the delay plus maxLaunchDelaySeconds.
import type { AppDefinition } from './app-definition.ts';

export interface BackoffState {
  readonly failures: number;
  /** No launch before this (ms since the epoch). */
  readonly delayUntilMs: number;
  readonly lastFailureAtMs: number;
}

export const noBackoff: BackoffState = { failures: 0, delayUntilMs: 0, lastFailureAtMs: 0 };

/** A lost agent or a refused launch is the cluster's doing, not the app's: only these count. */
export function countsAsFailure(state: string): boolean {
  return state === 'TASK_FAILED' || state === 'TASK_FINISHED' || state === 'TASK_ERROR';
}

export function delayMs(app: AppDefinition, failures: number): number {
  if (failures <= 0) return 0;
  const seconds = app.backoffSeconds * app.backoffFactor ** Math.min(failures - 1, 1_000);
  return Math.round(Math.min(seconds, app.maxLaunchDelaySeconds) * 1000);
}

export function afterFailure(app: AppDefinition, state: BackoffState, nowMs: number): BackoffState {
  const current = expire(app, state, nowMs);
  const failures = current.failures + 1;
  return { failures, delayUntilMs: nowMs + delayMs(app, failures), lastFailureAtMs: nowMs };
}

/** Forget failures that are old: none for the delay plus maxLaunchDelaySeconds. */
export function expire(app: AppDefinition, state: BackoffState, nowMs: number): BackoffState {
  if (state.failures === 0) return state;
  const quietMs = delayMs(app, state.failures) + app.maxLaunchDelaySeconds * 1000;
  return nowMs - state.lastFailureAtMs > quietMs ? noBackoff : state;
}

export function isDelayed(state: BackoffState, nowMs: number): boolean {
  return state.delayUntilMs > nowMs;
}
