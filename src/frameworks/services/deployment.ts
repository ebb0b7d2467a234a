// Deployments (deployments.md, DeploymentPlan.scala): a change of apps becomes a plan of steps,
// each a set of actions run together; the next step starts when every action of the current one
// is done. What is kept is small: app ids and version stamps, so a plan of 250 apps fits one KV
// value; the definitions themselves are in the version keys.
import { randomUUID } from 'node:crypto';
import type { AppDefinition } from './app-definition.ts';
import type { AppId } from './path-id.ts';

export type ActionName = 'StartApplication' | 'StopApplication' | 'ScaleApplication' | 'RestartApplication';

export interface DeploymentAction {
  readonly action: ActionName;
  readonly app: AppId;
}

export interface DeploymentStep {
  readonly actions: readonly DeploymentAction[];
}

export interface Deployment {
  readonly id: string;
  /** The time of the change (also the version of the apps it made). */
  readonly version: string;
  readonly affectedApps: readonly AppId[];
  readonly steps: readonly DeploymentStep[];
  /** 1-based index of the step being run (Marathon's currentStep); steps.length + 1 when done. */
  currentStep: number;
  /** Each affected app's version before the change (null: the app did not exist). */
  readonly originalVersions: Readonly<Record<string, string | null>>;
  /** Each affected app's version after it (null: the app is deleted). */
  readonly targetVersions: Readonly<Record<string, string | null>>;
}

export interface AppChange {
  readonly from: AppDefinition | null;
  readonly to: AppDefinition | null;
  /** POST /restart: replace every instance even though the configuration is the same. */
  readonly restart?: boolean;
}

/** The steps of one app's change (DeploymentPlan.scala: start, then scale; or restart; or stop). */
function actionsFor(change: AppChange): DeploymentAction[][] {
  const { from, to } = change;
  if (to === null) return from === null ? [] : [[{ action: 'StopApplication', app: from.id }]];
  if (from === null) {
    return [[{ action: 'StartApplication', app: to.id }], [{ action: 'ScaleApplication', app: to.id }]];
  }
  if (to.versionInfo.lastConfigChangeAt === from.versionInfo.lastConfigChangeAt && change.restart !== true) {
    return [[{ action: 'ScaleApplication', app: to.id }]];
  }
  return [[{ action: 'RestartApplication', app: to.id }]];
}

/**
 * Apps are ordered by their dependencies (an app starts after what it depends on), then their
 * own steps are merged level by level, so independent apps change in parallel.
 */
export function buildPlan(changes: readonly AppChange[], version: string): Deployment {
  const ordered = orderByDependencies(changes);
  const steps: DeploymentAction[][] = [];
  let offset = 0;
  let lastLevel = -1;
  for (const { change, level } of ordered) {
    if (level !== lastLevel) {
      offset = steps.length;
      lastLevel = level;
    }
    actionsFor(change).forEach((actions, index) => {
      steps[offset + index] = [...(steps[offset + index] ?? []), ...actions];
    });
  }
  const appOf = (change: AppChange): AppId => (change.to ?? change.from)!.id;
  return {
    id: randomUUID(),
    version,
    affectedApps: changes.map(appOf),
    steps: steps.filter((actions) => actions.length > 0).map((actions) => ({ actions })),
    currentStep: 1,
    originalVersions: Object.fromEntries(changes.map((change) => [appOf(change), change.from?.version ?? null])),
    targetVersions: Object.fromEntries(changes.map((change) => [appOf(change), change.to?.version ?? null])),
  };
}

/** Depth in the dependency graph among the changed apps (cycles are broken, not looped on). */
function orderByDependencies(changes: readonly AppChange[]): { change: AppChange; level: number }[] {
  const byId = new Map(changes.map((change) => [(change.to ?? change.from)!.id, change]));
  const levels = new Map<AppId, number>();
  const levelOf = (id: AppId, seen: Set<AppId>): number => {
    const known = levels.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const change = byId.get(id);
    const dependencies = (change?.to ?? change?.from)?.dependencies ?? [];
    let level = 0;
    for (const dependency of dependencies)
      if (byId.has(dependency)) level = Math.max(level, levelOf(dependency, seen) + 1);
    levels.set(id, level);
    return level;
  };
  return changes
    .map((change) => ({ change, level: levelOf((change.to ?? change.from)!.id, new Set()) }))
    .sort((left, right) => left.level - right.level);
}

export function currentActions(deployment: Deployment): readonly DeploymentAction[] {
  return deployment.steps[deployment.currentStep - 1]?.actions ?? [];
}

export function isFinished(deployment: Deployment): boolean {
  return deployment.currentStep > deployment.steps.length;
}
