// The framework's state in memory while it leads: apps (the current definition of each, its
// recent versions, its back-off), instances, deployments, and what offers taught it (agents'
// facts for constraints, and per-app statistics of unused offers for /v2/queue). Everything but
// the statistics is also in the KV store (persistence.ts); this is the working copy.
import type { AppDefinition } from './app-definition.ts';
import { type BackoffState, noBackoff } from './backoff.ts';
import type { Deployment } from './deployment.ts';
import type { Instance } from './instance.ts';
import type { NoMatchReason } from './offer-match.ts';
import type { AppId } from './path-id.ts';
import type { RememberedRequest } from '../hosting/remembered-requests.ts';

export interface TaskFailure {
  readonly appId: AppId;
  readonly host: string;
  readonly message: string;
  readonly state: string;
  readonly taskId: string;
  readonly timestamp: string;
  readonly version: string;
  readonly slaveId: string;
}

export interface AppEntry {
  definition: AppDefinition;
  /** Versions kept, newest first. */
  versions: string[];
  backoff: BackoffState;
  lastTaskFailure: TaskFailure | null;
  /** KV pages holding this app's instance records. */
  pages: number;
  /** Deleted by the API: hidden from it while its StopApplication runs. */
  deleting: boolean;
  /** The answers of the last keyed API writes to this app (Idempotency-Key; absent in older entries). */
  requests?: RememberedRequest[];
}

export interface UnusedOffer {
  readonly offer: object;
  readonly reason: readonly NoMatchReason[];
  readonly timestamp: string;
}

/** Marathon's OfferMatchStatistics for one app's current launch attempt. */
export interface OfferStatistics {
  since: string;
  processedOffersCount: number;
  unusedOffersCount: number;
  lastUnusedOfferAt: string | null;
  lastUsedOfferAt: string | null;
  /** First reason per unused offer since the attempt began. */
  readonly launchAttempt: Map<NoMatchReason, number>;
  /** The last unused offer per agent (its reasons and when). */
  readonly lastByAgent: Map<string, UnusedOffer>;
}

export class ServicesState {
  readonly apps = new Map<AppId, AppEntry>();
  readonly instances = new Map<string, Instance>();
  readonly #byApp = new Map<AppId, Set<string>>();
  /** Running deployments in the order they were made (change them through add/removeDeployment). */
  readonly deployments: ReadonlyMap<string, Deployment> = new Map<string, Deployment>();
  readonly #deploymentByApp = new Map<AppId, Deployment>();
  readonly offerStatistics = new Map<AppId, OfferStatistics>();
  /** Every value seen in offers, per constraint field (GROUP_BY spreads over them). */
  readonly fieldValues = new Map<string, Set<string>>();

  newEntry(definition: AppDefinition): AppEntry {
    return {
      definition,
      versions: [definition.version],
      backoff: noBackoff,
      lastTaskFailure: null,
      pages: 0,
      deleting: false,
    };
  }

  addInstance(instance: Instance): void {
    this.instances.set(instance.taskId, instance);
    const set = this.#byApp.get(instance.appId) ?? new Set<string>();
    set.add(instance.taskId);
    this.#byApp.set(instance.appId, set);
  }

  removeInstance(taskId: string): Instance | undefined {
    const instance = this.instances.get(taskId);
    if (instance === undefined) return undefined;
    this.instances.delete(taskId);
    this.#byApp.get(instance.appId)?.delete(taskId);
    return instance;
  }

  instancesOf(appId: AppId): Instance[] {
    return [...(this.#byApp.get(appId) ?? [])].map((taskId) => this.instances.get(taskId)!);
  }

  /** Apps the API shows (not being deleted). */
  visibleApps(): AppEntry[] {
    return [...this.apps.values()].filter((entry) => !entry.deleting);
  }

  /** The deployment that holds the app, if any (an app is in at most one). */
  deploymentOf(appId: AppId): Deployment | undefined {
    return this.#deploymentByApp.get(appId);
  }

  addDeployment(deployment: Deployment): void {
    (this.deployments as Map<string, Deployment>).set(deployment.id, deployment);
    for (const appId of deployment.affectedApps) this.#deploymentByApp.set(appId, deployment);
  }

  removeDeployment(id: string): void {
    const deployment = this.deployments.get(id);
    if (deployment === undefined) return;
    (this.deployments as Map<string, Deployment>).delete(id);
    for (const appId of deployment.affectedApps) {
      if (this.#deploymentByApp.get(appId) === deployment) this.#deploymentByApp.delete(appId);
    }
  }

  noteFieldValue(field: string, value: string): void {
    const set = this.fieldValues.get(field) ?? new Set<string>();
    set.add(value);
    this.fieldValues.set(field, set);
  }

  knownValues(field: string): ReadonlySet<string> {
    return this.fieldValues.get(field) ?? new Set();
  }

  /** Service ports used by every app but `except`. */
  usedServicePorts(except: AppId | null): Set<number> {
    const used = new Set<number>();
    for (const [id, entry] of this.apps) {
      if (id === except) continue;
      for (const definition of entry.definition.portDefinitions) if (definition.port !== 0) used.add(definition.port);
      for (const mapping of entry.definition.container?.portMappings ?? []) used.add(mapping.servicePort);
    }
    return used;
  }

  clear(): void {
    this.apps.clear();
    this.instances.clear();
    this.#byApp.clear();
    (this.deployments as Map<string, Deployment>).clear();
    this.#deploymentByApp.clear();
    this.offerStatistics.clear();
  }
}
