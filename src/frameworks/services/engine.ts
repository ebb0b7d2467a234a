// The scheduler of the services framework while it leads: it turns status updates into instance
// state, keeps every app at its target (converge), runs deployments step by step, and hands
// launch demand to the launcher (launcher.ts). One Engine lives for one leadership term; the
// framework (framework.ts) makes a new one after it re-acquires the lease and reloads the state.
import type { TaskStatus } from '../../protocol/mesos.ts';
import type { SchedulerClient } from '../sdk/client.ts';
import type { MasterAddress } from '../sdk/masters.ts';
import type { Logger } from '../../util/logger.ts';
import type { AppDefinition } from './app-definition.ts';
import { afterFailure, countsAsFailure, expire, isDelayed } from './backoff.ts';
import { currentActions, type Deployment, isFinished } from './deployment.ts';
import type { EventBus } from './events.ts';
import { type Instance, type InstanceState, isTerminal } from './instance.ts';
import {
  convergeBatchMs,
  convergeIntervalMs,
  launchConfirmTimeoutMs,
  quotaCheckIntervalMs,
  reconciliationIntervalMs,
} from './limits.ts';
import type { AppId } from './path-id.ts';
import type { Persistence } from './persistence.ts';
import { quotaShortfall, roleQuota } from './quota.ts';
import { type AppPhase, decide, type AppDecision } from './rolling.ts';
import type { AppEntry, ServicesState } from './state.ts';
import { deploymentEventFields, statusEventFields } from './views.ts';

export interface EngineOptions {
  readonly masters: readonly MasterAddress[];
  readonly state: ServicesState;
  readonly persistence: Persistence;
  readonly client: SchedulerClient;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly role: string;
  readonly maxRunningDeployments: number;
  /** An instance not running after this long is killed (Marathon's --task_launch_timeout). */
  readonly taskLaunchTimeoutMs: number;
  readonly now: () => number;
}

/** A kill not confirmed by a terminal update is sent again after this long. */
const killResendMs = 15_000;
/** A task that never ran and whose kill stays unconfirmed this long is forgotten. */
const killExpungeMs = 60_000;

export class Engine {
  /** Launches wanted now (back-off applied), per app; the launcher takes from it. */
  readonly demand = new Map<AppId, number>();
  /** Launches wanted, back-off ignored (the count /v2/queue shows). */
  readonly wanted = new Map<AppId, number>();
  #convergeScheduled = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  readonly #killSentAt = new Map<string, number>();
  readonly #confirmAskedAt = new Map<string, number>();
  readonly #killFirstAt = new Map<string, number>();
  /** Offers were declined for long: a new demand must REVIVE to get them back. */
  declinedForLong = false;
  /** Apps waiting with no offer at all because their role is at its quota: "cpus 2 of 2". */
  readonly quotaReached = new Map<AppId, string>();

  constructor(readonly options: EngineOptions) {}

  get state(): ServicesState {
    return this.options.state;
  }

  get persistence(): Persistence {
    return this.options.persistence;
  }

  now(): number {
    return this.options.now();
  }

  start(): void {
    this.#timers.push(setInterval(() => this.converge(), convergeIntervalMs));
    this.#timers.push(setInterval(() => void this.reconcileAll(), reconciliationIntervalMs));
    this.#timers.push(setInterval(() => void this.#checkQuota(), quotaCheckIntervalMs));
    void this.reconcileAll();
    this.converge();
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
  }

  /** Explicit reconciliation of every known task, then an implicit one for tasks we do not know. */
  async reconcileAll(): Promise<void> {
    const tasks = [...this.state.instances.values()].map((instance) => ({
      task_id: { value: instance.taskId },
      agent_id: { value: instance.agentId },
    }));
    try {
      for (let start = 0; start < tasks.length; start += 1_000)
        await this.options.client.reconcile(tasks.slice(start, start + 1_000));
      await this.options.client.reconcile([]);
    } catch (error) {
      this.options.logger.warn({ error: (error as Error).message }, 'reconciliation failed; retried on the next round');
    }
  }

  /** Apps that wait: is their role at its quota? (Asked once per round, for the framework's role.) */
  async #checkQuota(): Promise<void> {
    const waiting = [...this.wanted].filter(([, count]) => count > 0).map(([appId]) => appId);
    for (const appId of [...this.quotaReached.keys()]) if (!waiting.includes(appId)) this.quotaReached.delete(appId);
    if (waiting.length === 0) return;
    const quota = await roleQuota(this.options.masters, this.options.role).catch(() => null);
    for (const appId of waiting) {
      const app = this.state.apps.get(appId)?.definition;
      const shortfall =
        app === undefined || quota === null
          ? null
          : quotaShortfall(quota, { cpus: app.cpus, mem: app.mem, disk: app.disk });
      if (shortfall === null) this.quotaReached.delete(appId);
      else this.quotaReached.set(appId, `role ${this.options.role} is at its quota: ${shortfall}`);
    }
  }

  /**
   * Converges soon, at most once per convergeBatchMs: a burst of 10,000 status updates then
   * costs a few passes over the apps, not 10,000.
   */
  /**
   * Converges soon, at most once per convergeBatchMs: a burst of 10,000 status updates then
   * costs a few passes over the apps, not 10,000.
   */
  scheduleConverge(): void {
    if (this.#convergeScheduled || this.#stopped) return;
    this.#convergeScheduled = true;
    setTimeout(() => {
      this.#convergeScheduled = false;
      this.converge();
    }, convergeBatchMs);
  }

  // ---------------------------------------------------------------- status updates

  onUpdate(status: TaskStatus): void {
    if (this.#stopped) return;
    const instance = this.state.instances.get(status.task_id.value);
    if (instance === undefined) {
      this.#onUnknownTask(status);
      return;
    }
    const entry = this.state.apps.get(instance.appId);
    if (isTerminal(status.state) || status.state === 'TASK_UNKNOWN') this.#onTerminal(instance, entry, status);
    else this.#onLive(instance, entry, status);
    this.options.events.publish('status_update_event', statusEventFields(instance, status, entry?.definition));
    this.options.events.publish('instance_changed_event', {
      instanceId: instance.taskId,
      condition: status.state.replace('TASK_', '').toLowerCase(),
      runSpecId: instance.appId,
      agentId: instance.agentId,
      host: instance.host,
      runSpecVersion: instance.version,
    });
    this.scheduleConverge();
  }

  #onUnknownTask(status: TaskStatus): void {
    if (isTerminal(status.state) || status.state === 'TASK_UNKNOWN') return;
    // Marathon kills what it does not know of: a task of a deleted app, or one a failed
    // leader launched without its record (impossible by the intent-first rule, but cheap).
    this.options.logger.warn({ taskId: status.task_id.value, state: status.state }, 'killing an unknown task');
    void this.options.client.kill(status.task_id.value, status.agent_id).catch(() => undefined);
  }

  #onTerminal(instance: Instance, entry: AppEntry | undefined, status: TaskStatus): void {
    this.state.removeInstance(instance.taskId);
    this.#killSentAt.delete(instance.taskId);
    this.#confirmAskedAt.delete(instance.taskId);
    this.#killFirstAt.delete(instance.taskId);
    void this.persistence.savePage(instance.appId, instance.page).catch(() => undefined);
    if (entry === undefined || instance.killRequested) return;
    const nowMs = this.now();
    if (countsAsFailure(status.state)) entry.backoff = afterFailure(entry.definition, entry.backoff, nowMs);
    entry.lastTaskFailure = {
      appId: instance.appId,
      host: instance.host,
      message: status.message ?? '',
      state: status.state,
      taskId: instance.taskId,
      timestamp: new Date((status.timestamp ?? nowMs / 1000) * 1000).toISOString(),
      version: instance.version,
      slaveId: instance.agentId,
    };
    void this.persistence.saveApp(instance.appId).catch(() => undefined);
  }

  #onLive(instance: Instance, entry: AppEntry | undefined, status: TaskStatus): void {
    const previousHealthy = instance.healthy;
    instance.state = status.state as InstanceState;
    const atMs = status.timestamp === undefined ? this.now() : Math.round(status.timestamp * 1000);
    let changed = false;
    // startedAt is kept in memory only (a reloaded instance takes it from its next update):
    // writing it would cost one KV write per launch for a display field.
    if (status.state === 'TASK_RUNNING' && instance.startedAtMs === null) instance.startedAtMs = atMs;
    if (status.state === 'TASK_UNREACHABLE' && instance.unreachableSinceMs === null) {
      instance.unreachableSinceMs = atMs;
      changed = true;
    }
    if (status.state === 'TASK_RUNNING' && instance.unreachableSinceMs !== null) {
      instance.unreachableSinceMs = null;
      changed = true;
    }
    if (changed) void this.persistence.savePage(instance.appId, instance.page).catch(() => undefined);
    if (status.healthy !== undefined)
      this.#onHealth(instance, entry, status.healthy, status.message ?? '', previousHealthy);
  }

  #onHealth(
    instance: Instance,
    entry: AppEntry | undefined,
    healthy: boolean,
    message: string,
    previous: boolean | null,
  ): void {
    const nowMs = this.now();
    instance.healthy = healthy;
    if (healthy) {
      instance.firstHealthyAtMs ??= nowMs;
      instance.lastHealthyAtMs = nowMs;
      instance.consecutiveFailures = 0;
    } else {
      instance.lastUnhealthyAtMs = nowMs;
      instance.lastUnhealthyCause = message;
      instance.consecutiveFailures += 1;
    }
    if (previous === healthy) return;
    this.options.events.publish('health_status_changed_event', {
      appId: instance.appId,
      instanceId: instance.taskId,
      version: entry?.definition.version ?? instance.version,
      alive: healthy,
    });
    if (!healthy && entry !== undefined) {
      this.options.events.publish('failed_health_check_event', {
        appId: instance.appId,
        taskId: instance.taskId,
        instanceId: instance.taskId,
        healthCheck: entry.definition.healthChecks[0] ?? null,
      });
    }
  }

  // ---------------------------------------------------------------- converge

  /** Brings every app toward its target and moves deployments on; idempotent. */
  converge(): void {
    if (this.#stopped) return;
    const nowMs = this.now();
    const finishedActions = new Set<string>();
    for (const [appId, entry] of this.state.apps) {
      const phase = this.phaseOf(appId);
      const instances = this.state.instancesOf(appId);
      const decision = decide({ app: entry.definition, phase, instances, nowMs });
      this.#apply(entry, decision, nowMs);
      if (decision.done && phase !== 'Steady' && phase !== 'Hold') finishedActions.add(appId);
      this.#expungeUnreachable(entry.definition, instances, nowMs);
    }
    for (const deployment of [...this.state.deployments.values()]) this.#advance(deployment, finishedActions);
    this.#resendKills(nowMs);
    this.#confirmLaunches(nowMs);
    const hasDemand = [...this.demand.values()].some((count) => count > 0);
    if (hasDemand && this.declinedForLong) {
      this.declinedForLong = false;
      void this.options.client.revive().catch(() => undefined);
    }
  }

  /** What the app does now: its action in its deployment's current step, or Steady, or Hold. */
  phaseOf(appId: AppId): AppPhase {
    const deployment = this.state.deploymentOf(appId);
    if (deployment === undefined) return 'Steady';
    const action = currentActions(deployment).find((candidate) => candidate.app === appId);
    return action?.action ?? 'Hold';
  }

  #apply(entry: AppEntry, decision: AppDecision, nowMs: number): void {
    const appId = entry.definition.id;
    for (const instance of decision.kill) this.killInstance(instance);
    entry.backoff = expire(entry.definition, entry.backoff, nowMs);
    const launch = decision.launch;
    this.wanted.set(appId, launch);
    this.demand.set(appId, isDelayed(entry.backoff, nowMs) ? 0 : launch);
    if (launch === 0) this.state.offerStatistics.delete(appId);
  }

  #expungeUnreachable(app: AppDefinition, instances: readonly Instance[], nowMs: number): void {
    if (app.unreachableStrategy === 'disabled') return;
    const expungeMs = app.unreachableStrategy.expungeAfterSeconds * 1000;
    for (const instance of instances) {
      if (instance.killRequested || instance.unreachableSinceMs === null) continue;
      if (nowMs - instance.unreachableSinceMs < expungeMs) continue;
      // Expunged (Marathon's unreachable.md): killed, and the kill resent until its agent is
      // back to confirm it, so a returning task cannot linger as a surplus.
      this.options.logger.info({ taskId: instance.taskId }, 'unreachable past expungeAfterSeconds: killed');
      this.killInstance(instance);
    }
  }

  killInstance(instance: Instance): void {
    if (!instance.killRequested) {
      instance.killRequested = true;
      void this.persistence.savePage(instance.appId, instance.page).catch(() => undefined);
    }
    this.#killSentAt.set(instance.taskId, this.now());
    void this.options.client.kill(instance.taskId, { value: instance.agentId }).catch((error: Error) => {
      this.options.logger.warn({ taskId: instance.taskId, error: error.message }, 'KILL failed; resent later');
    });
  }

  /**
   * A launch with no status update after launchConfirmTimeoutMs (Marathon's
   * --task_launch_confirm_timeout) is asked about: if its ACCEPT never reached the master (the
   * call timed out), the master answers TASK_GONE and the instance is replaced. One still not
   * running after taskLaunchTimeoutMs (--task_launch_timeout) is killed and replaced: a launch
   * can also be lost on its way to the agent, which then never reports it.
   */
  #confirmLaunches(nowMs: number): void {
    const unconfirmed: { task_id: { value: string }; agent_id: { value: string } }[] = [];
    for (const instance of this.state.instances.values()) {
      const starting = instance.state === 'TASK_STAGING' || instance.state === 'TASK_STARTING';
      if (!starting || instance.killRequested) continue;
      // A reloaded record waits for the reconciliation's answer, not from its old launch time.
      const ageMs = nowMs - Math.max(instance.stagedAtMs, instance.reloadedAtMs ?? 0);
      if (ageMs >= this.options.taskLaunchTimeoutMs) {
        this.options.logger.warn({ taskId: instance.taskId, ageMs }, 'not running after the launch timeout: killed');
        this.killInstance(instance);
        continue;
      }
      const askedAt = this.#confirmAskedAt.get(instance.taskId) ?? 0;
      if (ageMs < launchConfirmTimeoutMs || nowMs - askedAt < launchConfirmTimeoutMs) continue;
      this.#confirmAskedAt.set(instance.taskId, nowMs);
      unconfirmed.push({ task_id: { value: instance.taskId }, agent_id: { value: instance.agentId } });
    }
    if (unconfirmed.length === 0) return;
    this.options.logger.warn({ tasks: unconfirmed.length }, 'launches without any status update: reconciling them');
    void this.options.client.reconcile(unconfirmed).catch(() => undefined);
  }

  /**
   * Kills are resent until a terminal update comes. A task that never ran and whose kill nobody
   * confirms (its agent never heard of it) is forgotten after killExpungeMs, so a deployment does
   * not wait on it forever; should it ever report, it is an unknown task and killed.
   */
  #resendKills(nowMs: number): void {
    for (const instance of [...this.state.instances.values()]) {
      if (!instance.killRequested) continue;
      const firstAt = this.#killFirstAt.get(instance.taskId) ?? nowMs;
      this.#killFirstAt.set(instance.taskId, firstAt);
      // Never ran: no update but staging since it was launched (or since this reload, long enough
      // for the reconciliation to have answered).
      const neverRan = instance.state === 'TASK_STAGING' && instance.startedAtMs === null;
      if (neverRan && nowMs - Math.max(firstAt, instance.reloadedAtMs ?? 0) >= killExpungeMs) {
        this.options.logger.warn(
          { taskId: instance.taskId },
          'a kill of a task that never ran is unconfirmed: forgotten',
        );
        this.state.removeInstance(instance.taskId);
        this.#killFirstAt.delete(instance.taskId);
        void this.persistence.savePage(instance.appId, instance.page).catch(() => undefined);
        continue;
      }
      const sentAt = this.#killSentAt.get(instance.taskId) ?? 0;
      if (nowMs - sentAt >= killResendMs) this.killInstance(instance);
    }
  }

  // ---------------------------------------------------------------- deployments

  #advance(deployment: Deployment, finishedActions: ReadonlySet<string>): void {
    const actions = currentActions(deployment);
    if (!actions.every((action) => finishedActions.has(action.app) || !this.state.apps.has(action.app))) return;
    for (const action of actions) {
      if (action.action === 'StopApplication') this.#removeApp(action.app);
    }
    deployment.currentStep += 1;
    this.options.events.publish('deployment_step_success', deploymentEventFields(this.state, deployment, actions));
    if (!isFinished(deployment)) {
      void this.persistence.saveDeployment(deployment.id).catch(() => undefined);
      this.options.events.publish('deployment_info', {
        ...deploymentEventFields(this.state, deployment, currentActions(deployment)),
      });
      this.scheduleConverge();
      return;
    }
    this.finishDeployment(deployment, 'deployment_success');
  }

  finishDeployment(deployment: Deployment, outcome: 'deployment_success' | 'deployment_failed'): void {
    this.state.removeDeployment(deployment.id);
    void this.persistence.saveDeployment(deployment.id).catch(() => undefined);
    const fields = deploymentEventFields(this.state, deployment, []);
    this.options.events.publish(outcome, { id: deployment.id, plan: fields.plan });
    this.options.logger.info({ deploymentId: deployment.id, outcome }, 'deployment finished');
    this.scheduleConverge();
  }

  #removeApp(appId: AppId): void {
    const entry = this.state.apps.get(appId);
    if (entry === undefined) return;
    this.state.apps.delete(appId);
    this.demand.delete(appId);
    this.wanted.delete(appId);
    this.state.offerStatistics.delete(appId);
    void this.persistence.saveApp(appId).catch(() => undefined);
    for (const version of entry.versions) void this.persistence.deleteVersion(appId, version).catch(() => undefined);
    for (let page = 0; page < entry.pages; page++) void this.persistence.savePage(appId, page).catch(() => undefined);
    this.options.events.publish('app_terminated_event', { appId });
  }
}
