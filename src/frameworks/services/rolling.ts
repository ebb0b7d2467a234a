// What one app should do now, given its target and its instances: how many to launch and which
// to kill. Pure, so the rules are tested on their own:
// - steady state and ScaleApplication keep `instances` active, killing the surplus by
//   killSelection (an unreachable instance that came back makes a surplus);
// - RestartApplication replaces old instances while never having fewer than
//   ceil(minimumHealthCapacity × instances) healthy, nor more than
//   floor((1 + maximumOverCapacity) × instances) alive (Marathon's TaskReplaceActor; with
//   minimumHealthCapacity = 1 and maximumOverCapacity = 0 Marathon allows one extra, else no
//   old instance could ever go, and so do we);
// - StopApplication kills everything.
import type { AppDefinition, KillSelection } from './app-definition.ts';
import type { ActionName } from './deployment.ts';
import { type Instance, isHealthyFor, isRunning } from './instance.ts';

export type AppPhase = ActionName | 'Steady' | 'Hold';

export interface AppDecision {
  /** Instances to launch now (0 when waiting). */
  readonly launch: number;
  readonly kill: readonly Instance[];
  /** The phase's action is complete. */
  readonly done: boolean;
}

export interface DecisionInput {
  readonly app: AppDefinition;
  readonly phase: AppPhase;
  /** The app's instances that are not terminal. */
  readonly instances: readonly Instance[];
  readonly nowMs: number;
}

const noDecision: AppDecision = { launch: 0, kill: [], done: false };

/** Unreachable past inactiveAfterSeconds: no longer counted, so a replacement starts. */
export function isInactive(instance: Instance, app: AppDefinition, nowMs: number): boolean {
  if (instance.unreachableSinceMs === null || app.unreachableStrategy === 'disabled') return false;
  return nowMs - instance.unreachableSinceMs >= app.unreachableStrategy.inactiveAfterSeconds * 1000;
}

/** Counted toward the app's instances: alive, not being killed, not given up on. */
export function isActive(instance: Instance, app: AppDefinition, nowMs: number): boolean {
  return !instance.killRequested && !isInactive(instance, app, nowMs);
}

export function decide(input: DecisionInput): AppDecision {
  switch (input.phase) {
    case 'Hold':
      return noDecision;
    case 'StartApplication':
      return { launch: 0, kill: [], done: true };
    case 'StopApplication':
      return {
        launch: 0,
        kill: input.instances.filter((instance) => !instance.killRequested),
        done: input.instances.length === 0,
      };
    case 'Steady':
    case 'ScaleApplication':
      return decideScale(input);
    case 'RestartApplication':
      return decideRestart(input);
  }
}

function decideScale(input: DecisionInput): AppDecision {
  const { app, nowMs } = input;
  const active = input.instances.filter((instance) => isActive(instance, app, nowMs));
  const target = app.instances;
  const surplus = active.length - target;
  const kill = surplus > 0 ? killOrder(active, app.killSelection).slice(0, surplus) : [];
  const hasChecks = app.healthChecks.length > 0;
  const ready = active.filter((instance) => isHealthyFor(instance, hasChecks)).length;
  const stillDying = input.instances.some((instance) => instance.killRequested);
  return {
    launch: Math.max(0, target - active.length),
    kill,
    done: active.length === target && ready === target && !stillDying && kill.length === 0,
  };
}

function decideRestart(input: DecisionInput): AppDecision {
  const { app, nowMs } = input;
  const target = app.instances;
  const hasChecks = app.healthChecks.length > 0;
  const current = app.versionInfo.lastConfigChangeAt;
  const active = input.instances.filter((instance) => isActive(instance, app, nowMs));
  const fresh = active.filter((instance) => instance.configVersion === current);
  const old = active.filter((instance) => instance.configVersion !== current);
  const minimumHealthy = Math.ceil(target * app.upgradeStrategy.minimumHealthCapacity);
  let maximumAlive = Math.floor(target * (1 + app.upgradeStrategy.maximumOverCapacity));
  if (minimumHealthy === maximumAlive && old.length > 0) maximumAlive += 1;
  const alive = input.instances.filter((instance) => !isInactive(instance, app, nowMs)).length;
  let healthy = active.filter((instance) => isHealthyFor(instance, hasChecks)).length;
  const kill: Instance[] = [];
  // Old instances go first where they do not count (not healthy), then while capacity allows.
  for (const instance of killOrder(old, app.killSelection)) {
    const counted = isHealthyFor(instance, hasChecks);
    if (counted && healthy - 1 < minimumHealthy) continue;
    if (counted) healthy -= 1;
    kill.push(instance);
  }
  if (fresh.length > target) kill.push(...killOrder(fresh, app.killSelection).slice(0, fresh.length - target));
  const room = Math.max(0, maximumAlive - alive);
  const launch = Math.max(0, Math.min(target - fresh.length, room));
  const freshReady = fresh.filter((instance) => isHealthyFor(instance, hasChecks)).length;
  const stillDying = input.instances.some((instance) => instance.killRequested);
  return { launch, kill, done: old.length === 0 && freshReady === target && fresh.length === target && !stillDying };
}

/**
 * Which instances go first: the ones not running yet, then by killSelection (YOUNGEST_FIRST:
 * the latest staged first), as Marathon's KillSelection ordering.
 */
export function killOrder(instances: readonly Instance[], selection: KillSelection): Instance[] {
  const sign = selection === 'YOUNGEST_FIRST' ? -1 : 1;
  return [...instances].sort((left, right) => {
    const running = Number(isRunning(left)) - Number(isRunning(right));
    if (running !== 0) return running;
    const healthy = Number(left.healthy === true) - Number(right.healthy === true);
    if (healthy !== 0) return healthy;
    return sign * (left.stagedAtMs - right.stagedAtMs) || left.taskId.localeCompare(right.taskId);
  });
}
