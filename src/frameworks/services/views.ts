// The JSON Marathon 1.x answers, from the framework's state. Field sets follow Marathon's
// output (app.raml, enrichedTask.raml, deployment.raml, queue.raml) and stay within what strict
// clients accept: marathon-python builds its objects with **kwargs, so a field Marathon never
// sends (an `agentId` on a task, say) would break it. Pure functions of the state.
import type { TaskStatus } from '../../protocol/mesos.ts';
import { type AppDefinition, type HealthCheck, servicePorts, usesPortMappings } from './app-definition.ts';
import { currentActions, type Deployment, type DeploymentAction } from './deployment.ts';
import { type Instance, isRunning } from './instance.ts';
import { reasonFunnel } from './offer-match.ts';
import type { AppId } from './path-id.ts';
import type { AppEntry, OfferStatistics, ServicesState } from './state.ts';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function healthCheckJson(check: HealthCheck): Record<string, unknown> {
  const http = check.protocol.includes('HTTP');
  return {
    gracePeriodSeconds: check.gracePeriodSeconds,
    intervalSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    maxConsecutiveFailures: check.maxConsecutiveFailures,
    delaySeconds: check.delaySeconds,
    protocol: check.protocol,
    ...(check.command === null ? {} : { command: { value: check.command } }),
    ...(http ? { path: check.path, ipProtocol: 'IPv4' } : {}),
    ...(check.protocol === 'HTTP' ? { ignoreHttp1xx: check.ignoreHttp1xx } : {}),
    ...(check.port !== null ? { port: check.port } : check.portIndex !== null ? { portIndex: check.portIndex } : {}),
  };
}

function containerJson(app: AppDefinition): Record<string, unknown> | null {
  const container = app.container;
  if (container === null) return null;
  return {
    type: container.type,
    ...(container.docker === null
      ? {}
      : {
          docker: {
            image: container.docker.image,
            forcePullImage: container.docker.forcePullImage,
            privileged: container.docker.privileged,
            parameters: container.docker.parameters,
          },
        }),
    ...(usesPortMappings(app) ? { portMappings: container.portMappings } : {}),
    volumes: container.volumes,
  };
}

/** The definition as Marathon echoes it (GET /v2/apps/{id}'s app, minus the status fields). */
export function appDefinitionJson(app: AppDefinition): Record<string, unknown> {
  return {
    id: app.id,
    cmd: app.cmd,
    args: app.args,
    user: app.user,
    env: app.env,
    instances: app.instances,
    cpus: app.cpus,
    mem: app.mem,
    disk: app.disk,
    gpus: app.gpus,
    executor: app.executor,
    constraints: app.constraints,
    uris: app.uris,
    fetch: app.fetch,
    storeUrls: app.storeUrls,
    backoffSeconds: app.backoffSeconds,
    backoffFactor: app.backoffFactor,
    maxLaunchDelaySeconds: app.maxLaunchDelaySeconds,
    container: containerJson(app),
    healthChecks: app.healthChecks.map(healthCheckJson),
    readinessChecks: [],
    dependencies: app.dependencies,
    upgradeStrategy: app.upgradeStrategy,
    labels: app.labels,
    ...(app.acceptedResourceRoles === null ? {} : { acceptedResourceRoles: app.acceptedResourceRoles }),
    ipAddress: null,
    version: app.version,
    residency: null,
    secrets: {},
    taskKillGracePeriodSeconds: app.taskKillGracePeriodSeconds,
    unreachableStrategy: app.unreachableStrategy,
    killSelection: app.killSelection,
    versionInfo: app.versionInfo,
    ports: usesPortMappings(app) ? [] : app.portDefinitions.map((definition) => definition.port),
    portDefinitions: usesPortMappings(app)
      ? []
      : app.portDefinitions.map((definition) => ({
          port: definition.port,
          protocol: definition.protocol,
          ...(definition.name === null ? {} : { name: definition.name }),
          labels: definition.labels,
        })),
    requirePorts: app.requirePorts,
    networks: app.networks,
    role: app.role,
  };
}

export interface TaskCounts {
  readonly tasksStaged: number;
  readonly tasksRunning: number;
  readonly tasksHealthy: number;
  readonly tasksUnhealthy: number;
}

export function taskCounts(app: AppDefinition, instances: readonly Instance[]): TaskCounts {
  const checked = app.healthChecks.length > 0;
  let staged = 0;
  let running = 0;
  let healthy = 0;
  let unhealthy = 0;
  for (const instance of instances) {
    if (instance.state === 'TASK_STAGING' || instance.state === 'TASK_STARTING') staged += 1;
    if (isRunning(instance)) {
      running += 1;
      if (checked && instance.healthy === true) healthy += 1;
      if (checked && instance.healthy === false) unhealthy += 1;
    }
  }
  return { tasksStaged: staged, tasksRunning: running, tasksHealthy: healthy, tasksUnhealthy: unhealthy };
}

export function healthCheckResults(instance: Instance, app: AppDefinition | undefined): Record<string, unknown>[] {
  if (app === undefined || app.healthChecks.length === 0 || instance.healthy === null) return [];
  return [
    {
      alive: instance.healthy,
      consecutiveFailures: instance.consecutiveFailures,
      firstSuccess: iso(instance.firstHealthyAtMs),
      lastFailure: iso(instance.lastUnhealthyAtMs),
      lastSuccess: iso(instance.lastHealthyAtMs),
      lastFailureCause: instance.lastUnhealthyCause,
      instanceId: instance.taskId,
    },
  ];
}

/** An EnrichedTask (enrichedTask.raml); `slaveId` is Marathon 1.x's name for the agent. */
export function taskJson(instance: Instance, app: AppDefinition | undefined): Record<string, unknown> {
  return {
    id: instance.taskId,
    slaveId: instance.agentId,
    host: instance.host,
    state: instance.state,
    startedAt: iso(instance.startedAtMs),
    stagedAt: iso(instance.stagedAtMs),
    ports: instance.ports,
    version: instance.version,
    ipAddresses: instance.ip === '' ? [] : [{ ipAddress: instance.ip, protocol: 'IPv4' }],
    appId: instance.appId,
    healthCheckResults: healthCheckResults(instance, app),
    servicePorts: app === undefined ? [] : servicePorts(app),
    localVolumes: [],
    role: app?.role ?? '*',
  };
}

export interface AppEmbeds {
  readonly tasks: boolean;
  readonly counts: boolean;
  readonly deployments: boolean;
  readonly lastTaskFailure: boolean;
  readonly readiness: boolean;
  readonly taskStats: boolean;
  /** Flotilla's extension (opt-in): the app's /v2/queue entry, why an instance waits. */
  readonly queue: boolean;
}

export function appJson(
  state: ServicesState,
  entry: AppEntry,
  embeds: AppEmbeds,
  queue: (appId: AppId) => Record<string, unknown> | null,
): Record<string, unknown> {
  const app = entry.definition;
  const instances = state.instancesOf(app.id);
  const deployment = state.deploymentOf(app.id);
  return {
    ...appDefinitionJson(app),
    ...(embeds.counts ? taskCounts(app, instances) : {}),
    ...(embeds.deployments ? { deployments: deployment === undefined ? [] : [{ id: deployment.id }] } : {}),
    ...(embeds.tasks ? { tasks: instances.map((instance) => taskJson(instance, app)) } : {}),
    ...(embeds.lastTaskFailure && entry.lastTaskFailure !== null ? { lastTaskFailure: entry.lastTaskFailure } : {}),
    ...(embeds.readiness ? { readinessCheckResults: [] } : {}),
    ...(embeds.taskStats ? { taskStats: {} } : {}),
    ...(embeds.queue ? { queue: queue(app.id) } : {}),
  };
}

export function deploymentJson(deployment: Deployment): Record<string, unknown> {
  return {
    id: deployment.id,
    version: deployment.version,
    affectedApps: deployment.affectedApps,
    affectedPods: [],
    steps: deployment.steps.map((step) => ({ actions: step.actions.map((action) => ({ ...action })) })),
    currentActions: currentActions(deployment).map((action) => ({ ...action, readinessCheckResults: [] })),
    currentStep: Math.min(deployment.currentStep, deployment.steps.length),
    totalSteps: deployment.steps.length,
  };
}

function rootGroupJson(apps: readonly AppDefinition[], version: string): Record<string, unknown> {
  return { id: '/', apps: apps.map(appDefinitionJson), groups: [], pods: [], dependencies: [], version };
}

/** deployment_info / deployment_step_* fields: the plan (affected apps only; see README) and the step. */
export function deploymentEventFields(
  state: ServicesState,
  deployment: Deployment,
  actions: readonly DeploymentAction[],
): { plan: Record<string, unknown>; currentStep: Record<string, unknown> } {
  const target = deployment.affectedApps.flatMap((appId) => {
    const entry = state.apps.get(appId);
    return entry === undefined || entry.deleting ? [] : [entry.definition];
  });
  return {
    plan: {
      id: deployment.id,
      original: rootGroupJson([], deployment.version),
      target: rootGroupJson(target, deployment.version),
      steps: deployment.steps.map((step) => ({ actions: step.actions.map((action) => ({ ...action })) })),
      version: deployment.version,
    },
    currentStep: { actions: actions.map((action) => ({ ...action })) },
  };
}

export function statusEventFields(
  instance: Instance,
  status: TaskStatus,
  app: AppDefinition | undefined,
): Record<string, unknown> {
  return {
    slaveId: instance.agentId,
    taskId: instance.taskId,
    taskStatus: status.state,
    message: status.message ?? '',
    appId: instance.appId,
    host: instance.host,
    ipAddresses: instance.ip === '' ? [] : [{ ipAddress: instance.ip, protocol: 'IPv4' }],
    ports: instance.ports,
    version: app?.version ?? instance.version,
  };
}

/** DeclinedOfferStep list in funnel order (Marathon's QueueResource "declinedOfferSteps"). */
function declinedOfferSteps(processed: number, summary: ReadonlyMap<string, number>): Record<string, unknown>[] {
  let left = processed;
  return reasonFunnel.map((reason) => {
    const declined = summary.get(reason) ?? 0;
    const step = { reason, declined, processed: left };
    left -= declined;
    return step;
  });
}

export function offersSummaryJson(statistics: OfferStatistics | undefined): Record<string, unknown> {
  if (statistics === undefined) {
    return {
      processedOffersCount: 0,
      unusedOffersCount: 0,
      rejectSummaryLastOffers: declinedOfferSteps(0, new Map()),
      rejectSummaryLaunchAttempt: declinedOfferSteps(0, new Map()),
    };
  }
  const last = new Map<string, number>();
  for (const unused of statistics.lastByAgent.values()) {
    const reason = reasonFunnel.find((candidate) => unused.reason.includes(candidate));
    if (reason !== undefined) last.set(reason, (last.get(reason) ?? 0) + 1);
  }
  return {
    processedOffersCount: statistics.processedOffersCount,
    unusedOffersCount: statistics.unusedOffersCount,
    ...(statistics.lastUnusedOfferAt === null ? {} : { lastUnusedOfferAt: statistics.lastUnusedOfferAt }),
    ...(statistics.lastUsedOfferAt === null ? {} : { lastUsedOfferAt: statistics.lastUsedOfferAt }),
    rejectSummaryLastOffers: declinedOfferSteps(statistics.lastByAgent.size, last),
    rejectSummaryLaunchAttempt: declinedOfferSteps(statistics.unusedOffersCount, statistics.launchAttempt),
  };
}

/** One /v2/queue entry, without its `app` (the route adds it). */
export function queueEntryJson(
  entry: AppEntry,
  count: number,
  statistics: OfferStatistics | undefined,
  nowMs: number,
  withLastUnused: boolean,
  quotaReached: string | undefined,
): Record<string, unknown> {
  const timeLeftMs = entry.backoff.delayUntilMs - nowMs;
  return {
    count,
    delay: { timeLeftSeconds: Math.max(0, Math.ceil(timeLeftMs / 1000)), overdue: timeLeftMs < 0 },
    since: statistics?.since ?? new Date(nowMs).toISOString(),
    // quotaReached is Flotilla's: no offer comes at all for a role at its quota (README).
    processedOffersSummary: {
      ...offersSummaryJson(statistics),
      ...(quotaReached === undefined ? {} : { quotaReached }),
    },
    ...(withLastUnused ? { lastUnusedOffers: [...(statistics?.lastByAgent.values() ?? [])] } : {}),
  };
}
