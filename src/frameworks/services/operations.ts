// What the Marathon API asks of the framework, as operations on the engine: deploy a set of app
// changes (create, update, scale, delete, restart), kill tasks (optionally scaling down),
// cancel or roll back a deployment, reset a back-off. Each checks Marathon's preconditions
// (404, 409 exists, 409 locked unless force, 403 too many deployments), changes the state, and
// resolves only when the change is durable in the KV store.
import { type AppDefinition, isScaleOnlyChange } from './app-definition.ts';
import type { AppSpec } from './app-parse.ts';
import { MarathonApiError, marathonErrors } from './api-error.ts';
import { noBackoff } from './backoff.ts';
import { type AppChange, buildPlan, type Deployment } from './deployment.ts';
import type { Engine } from './engine.ts';
import type { Instance } from './instance.ts';
import { maxApps, maxAppsPerDeployment, maxVersionsPerApp } from './limits.ts';
import type { AppId } from './path-id.ts';
import { assignServicePorts, nextVersion, stampVersion } from './versioning.ts';
import type { AppEntry } from './state.ts';
import { appDefinitionJson, deploymentEventFields } from './views.ts';

export interface DeploymentResult {
  readonly deploymentId: string;
  readonly version: string;
}

/** One app's requested change: its new spec (null: delete), and how it may be applied. */
export interface ChangeRequest {
  readonly appId: AppId;
  readonly spec: AppSpec | null;
  /** 'create': 409 if it exists; 'update': 404 if it does not; 'upsert': either. */
  readonly mode: 'create' | 'update' | 'upsert';
  readonly restart?: boolean;
  /** Rollback: keep this configuration version. */
  readonly configVersion?: string;
}

/**
 * A keyed API write's mark (Idempotency-Key): called once the deployment is decided and the
 * state changed, before anything is written, so the changed apps' entries can remember the
 * answer in the same KV write as the change (src/frameworks/hosting/remembered-requests.ts).
 */
export type DeployStamp = (result: DeploymentResult, entries: readonly AppEntry[]) => void;

export class Operations {
  constructor(
    readonly engine: Engine,
    readonly maxRunningDeployments: number,
  ) {}

  /** Applies the changes as one deployment. */
  async deploy(requests: readonly ChangeRequest[], force: boolean, stamp?: DeployStamp): Promise<DeploymentResult> {
    const state = this.engine.state;
    this.#checkPreconditions(requests, force);
    const version = nextVersion(
      this.engine.now(),
      requests.flatMap((request) => state.apps.get(request.appId)?.versions.slice(0, 1) ?? []),
    );
    const changes = requests.map((request) => this.#change(request, version));
    this.#cancelLocking(requests.map((request) => request.appId));
    const deployment = buildPlan(changes, version);
    await this.#apply(changes, deployment, (entries) => stamp?.({ deploymentId: deployment.id, version }, entries));
    for (const change of changes) {
      this.engine.options.events.publish('api_post_event', {
        clientIp: '',
        uri: `/v2/apps${(change.to ?? change.from)!.id}`,
        appDefinition: change.to === null ? null : appDefinitionJson(change.to),
      });
    }
    this.engine.options.events.publish('group_change_success', { groupId: '/', version });
    this.engine.scheduleConverge();
    return { deploymentId: deployment.id, version };
  }

  #checkPreconditions(requests: readonly ChangeRequest[], force: boolean): void {
    const state = this.engine.state;
    if (requests.length > maxAppsPerDeployment) {
      throw new MarathonApiError(422, `at most ${maxAppsPerDeployment} apps change in one deployment`);
    }
    for (const request of requests) {
      const existing = state.apps.get(request.appId);
      const visible = existing !== undefined && !existing.deleting;
      if (request.mode === 'create' && visible) throw marathonErrors.appExists(request.appId);
      if (request.mode === 'create' && existing?.deleting === true && !force) {
        throw marathonErrors.locked([state.deploymentOf(request.appId)?.id ?? ''].filter(Boolean));
      }
      if (request.mode === 'update' && !visible) throw marathonErrors.appNotFound(request.appId);
    }
    const locking = this.#lockingDeployments(requests.map((request) => request.appId));
    if (locking.length > 0 && !force) throw marathonErrors.locked(locking.map((deployment) => deployment.id));
    const creates = requests.filter((request) => !state.apps.has(request.appId)).length;
    if (state.apps.size + creates > maxApps) throw new MarathonApiError(422, `at most ${maxApps} apps`);
    if (state.deployments.size - locking.length >= this.maxRunningDeployments && !force) {
      throw marathonErrors.tooManyDeployments(this.maxRunningDeployments);
    }
  }

  #lockingDeployments(appIds: readonly AppId[]): Deployment[] {
    return [...this.engine.state.deployments.values()].filter((deployment) =>
      deployment.affectedApps.some((appId) => appIds.includes(appId)),
    );
  }

  /** force=true: the deployments holding these apps are cancelled (Marathon: deployment_failed). */
  #cancelLocking(appIds: readonly AppId[]): void {
    for (const deployment of this.#lockingDeployments(appIds))
      this.engine.finishDeployment(deployment, 'deployment_failed');
  }

  #change(request: ChangeRequest, version: string): AppChange {
    const entry = this.engine.state.apps.get(request.appId);
    const from = entry === undefined || entry.deleting ? null : entry.definition;
    if (request.spec === null) return { from, to: null };
    const used = this.engine.state.usedServicePorts(request.appId);
    const spec = assignServicePorts(request.spec, from, used);
    const to = stampVersion(spec, from, version, {
      ...(request.restart === undefined ? {} : { restart: request.restart }),
      ...(request.configVersion === undefined ? {} : { configVersion: request.configVersion }),
    });
    return { from, to, ...(request.restart === undefined ? {} : { restart: request.restart }) };
  }

  async #apply(
    changes: readonly AppChange[],
    deployment: Deployment,
    stamp: (entries: readonly AppEntry[]) => void,
  ): Promise<void> {
    const state = this.engine.state;
    const persistence = this.engine.persistence;
    const writes: Promise<void>[] = [];
    const changed: AppId[] = [];
    for (const change of changes) {
      if (change.to === null) {
        const entry = state.apps.get(change.from!.id);
        if (entry !== undefined) entry.deleting = true;
        changed.push(change.from!.id);
        continue;
      }
      writes.push(...this.#applyDefinition(change.to, change.from));
      changed.push(change.to.id);
    }
    state.addDeployment(deployment);
    // The entries are written after the stamp, so a keyed answer lands with the change.
    stamp(changed.flatMap((appId) => state.apps.get(appId) ?? []));
    for (const appId of changed) writes.push(persistence.saveApp(appId));
    writes.push(persistence.saveDeployment(deployment.id));
    await Promise.all(writes);
    this.engine.options.events.publish(
      'deployment_info',
      deploymentEventFields(state, deployment, deployment.steps[0]?.actions ?? []),
    );
  }

  #applyDefinition(to: AppDefinition, from: AppDefinition | null): Promise<void>[] {
    const state = this.engine.state;
    const persistence = this.engine.persistence;
    const existing = state.apps.get(to.id);
    const writes: Promise<void>[] = [persistence.saveVersion(to)];
    if (existing === undefined) {
      state.apps.set(to.id, state.newEntry(to));
    } else {
      existing.definition = to;
      existing.deleting = false;
      existing.versions = [to.version, ...existing.versions];
      for (const dropped of existing.versions.splice(maxVersionsPerApp))
        writes.push(persistence.deleteVersion(to.id, dropped));
      // A new configuration starts with a clean back-off (backoff.md).
      if (from === null || !isScaleOnlyChange(from, to)) existing.backoff = noBackoff;
    }
    return writes;
  }

  /** DELETE /v2/deployments/{id}: force cancels; otherwise a new deployment restores the originals. */
  async cancelDeployment(id: string, force: boolean): Promise<DeploymentResult | null> {
    const deployment = this.engine.state.deployments.get(id);
    if (deployment === undefined) throw marathonErrors.deploymentNotFound(id);
    if (force) {
      this.engine.finishDeployment(deployment, 'deployment_failed');
      await this.engine.persistence.saveDeployment(deployment.id);
      return null;
    }
    const requests: ChangeRequest[] = [];
    for (const appId of deployment.affectedApps) {
      const originalVersion = deployment.originalVersions[appId] ?? null;
      if (originalVersion === null) {
        requests.push({ appId, spec: null, mode: 'upsert' });
        continue;
      }
      const original = await this.engine.persistence.readVersion(appId, originalVersion);
      if (original === null)
        throw new MarathonApiError(409, `version ${originalVersion} of ${appId} is no longer kept`);
      const { version: _version, versionInfo, ...spec } = original;
      requests.push({ appId, spec, mode: 'upsert', configVersion: versionInfo.lastConfigChangeAt });
    }
    return this.deploy(requests, true);
  }

  /** Kills tasks; with scale, lowers each app's instances by its killed count in one deployment. */
  async killTasks(instances: readonly Instance[], scale: boolean, force: boolean): Promise<DeploymentResult | null> {
    if (!scale) {
      for (const instance of instances) this.engine.killInstance(instance);
      return null;
    }
    const byApp = new Map<AppId, number>();
    for (const instance of instances) byApp.set(instance.appId, (byApp.get(instance.appId) ?? 0) + 1);
    const requests: ChangeRequest[] = [];
    for (const [appId, killed] of byApp) {
      const entry = this.engine.state.apps.get(appId);
      if (entry === undefined) continue;
      const { version: _version, versionInfo: _versionInfo, ...spec } = entry.definition;
      requests.push({ appId, spec: { ...spec, instances: Math.max(0, spec.instances - killed) }, mode: 'update' });
    }
    // Killed first, so the scale-down does not pick other instances.
    for (const instance of instances) this.engine.killInstance(instance);
    return this.deploy(requests, force);
  }

  /** DELETE /v2/queue/{id}/delay. */
  async resetDelay(appId: AppId): Promise<void> {
    const entry = this.engine.state.apps.get(appId);
    if (entry === undefined || entry.deleting) throw marathonErrors.appNotFound(appId);
    entry.backoff = noBackoff;
    await this.engine.persistence.saveApp(appId);
    this.engine.scheduleConverge();
  }
}
