// Offers to launches. For each offer, apps that want instances take turns (one instance each
// per round, so one app cannot starve the others), each placement checked by offer-match.ts
// against what is left of the offer and where the app's instances already are. The records of
// the new instances are written to the KV store before the ACCEPT is sent (the intent-first
// rule: a framework that dies between the two finds the record and reconciles it; one that
// dies before never launched). Offers that hold nothing are declined, and the reasons counted
// per app for /v2/queue (Marathon's processedOffersSummary).
import type { Offer } from '../../protocol/mesos.ts';
import type { SchedulerClient } from '../sdk/client.ts';
import type { TaskInfo } from '../sdk/wire.ts';
import type { Logger } from '../../util/logger.ts';
import { constrainedFields, type AgentFacts } from './constraints.ts';
import type { Engine } from './engine.ts';
import type { Instance } from './instance.ts';
import {
  declineOfferDurationSeconds,
  declineWhileWaitingSeconds,
  instancesPerPage,
  maxLastUnusedOffers,
  maxLaunchesPerOffer,
} from './limits.ts';
import { agentFactsOf, firstReason, matchApp, type NoMatchReason, subtractResources } from './offer-match.ts';
import { newTaskId } from './path-id.ts';
import type { AppEntry, OfferStatistics } from './state.ts';
import { buildTaskInfo } from './task-builder.ts';

export interface LauncherOptions {
  readonly client: SchedulerClient;
  readonly logger: Logger;
  readonly role: string;
}

interface Placement {
  readonly entry: AppEntry;
  readonly instance: Instance;
  readonly task: TaskInfo;
  readonly newPage: boolean;
}

export class Launcher {
  constructor(
    readonly engine: Engine,
    readonly options: LauncherOptions,
  ) {}

  handleOffers(offers: readonly Offer[]): void {
    for (const offer of offers) {
      void this.#handle(offer).catch((error: Error) => {
        this.options.logger.warn({ offerId: offer.id.value, error: error.message }, 'offer handling failed');
      });
    }
  }

  async #handle(offer: Offer): Promise<void> {
    const agent = agentFactsOf(offer);
    this.#learn(agent);
    const wanting = this.#appsWanting();
    if (wanting.length === 0) {
      this.engine.declinedForLong = true;
      await this.#decline(offer, declineOfferDurationSeconds);
      return;
    }
    const placements = this.#place(offer, agent, wanting);
    if (placements.length === 0) {
      await this.#decline(offer, declineWhileWaitingSeconds);
      return;
    }
    try {
      await this.#persist(placements);
    } catch (error) {
      for (const { instance } of placements) this.engine.state.removeInstance(instance.taskId);
      this.engine.scheduleConverge();
      await this.#decline(offer, declineWhileWaitingSeconds);
      throw error;
    }
    try {
      await this.options.client.launch(
        offer,
        placements.map((placement) => placement.task),
        { refuse_seconds: declineWhileWaitingSeconds },
      );
    } catch (error) {
      // The ACCEPT may or may not have reached the master: ask it about these tasks.
      this.options.logger.warn({ offerId: offer.id.value, error: (error as Error).message }, 'ACCEPT failed');
      const tasks = placements.map(({ instance }) => ({
        task_id: { value: instance.taskId },
        agent_id: { value: instance.agentId },
      }));
      await this.options.client.reconcile(tasks).catch(() => undefined);
    }
  }

  #learn(agent: AgentFacts): void {
    const state = this.engine.state;
    state.noteFieldValue('hostname', agent.hostname);
    state.noteFieldValue('@hostname', agent.hostname);
    if (agent.zone !== null) state.noteFieldValue('@zone', agent.zone);
    if (agent.region !== null) state.noteFieldValue('@region', agent.region);
    for (const [name, value] of Object.entries(agent.attributes)) state.noteFieldValue(name, value);
  }

  #appsWanting(): AppEntry[] {
    const out: AppEntry[] = [];
    for (const [appId, count] of this.engine.demand) {
      const entry = this.engine.state.apps.get(appId);
      if (count > 0 && entry !== undefined && !entry.deleting) out.push(entry);
    }
    return out;
  }

  #place(offer: Offer, agent: AgentFacts, wanting: readonly AppEntry[]): Placement[] {
    const placements: Placement[] = [];
    const refused = new Map<AppEntry, NoMatchReason[]>();
    let resources = offer.resources;
    let progress = true;
    while (progress && placements.length < maxLaunchesPerOffer) {
      progress = false;
      for (const entry of wanting) {
        if (refused.has(entry) || (this.engine.demand.get(entry.definition.id) ?? 0) <= 0) continue;
        const placement = this.#placeOne(offer, agent, entry, resources);
        if ('reasons' in placement) {
          refused.set(entry, placement.reasons);
          continue;
        }
        placements.push(placement);
        resources = subtractResources(resources, placement.task.resources);
        progress = true;
        if (placements.length >= maxLaunchesPerOffer) break;
      }
    }
    this.#count(offer, wanting, placements, refused);
    return placements;
  }

  #placeOne(
    offer: Offer,
    agent: AgentFacts,
    entry: AppEntry,
    resources: Offer['resources'],
  ): Placement | { reasons: NoMatchReason[] } {
    const app = entry.definition;
    const state = this.engine.state;
    const result = matchApp({
      app,
      resources,
      agent,
      placed: state.instancesOf(app.id).map((instance) => instance.fields),
      knownValues: (field) => state.knownValues(field),
      acceptedRoles: app.acceptedResourceRoles ?? ['*', this.options.role],
    });
    if (!result.ok) return { reasons: result.reasons };
    const { page, newPage } = this.#pageFor(entry);
    const taskId = newTaskId(app.id);
    const instance: Instance = {
      taskId,
      appId: app.id,
      version: app.version,
      configVersion: app.versionInfo.lastConfigChangeAt,
      agentId: offer.agent_id.value,
      host: offer.hostname,
      ip: offer.url?.address.ip ?? '',
      ports: result.hostPorts,
      fields: constrainedFields(app.constraints, agent),
      stagedAtMs: this.engine.now(),
      startedAtMs: null,
      killRequested: false,
      unreachableSinceMs: null,
      page,
      state: 'TASK_STAGING',
      reloadedAtMs: null,
      healthy: null,
      firstHealthyAtMs: null,
      lastHealthyAtMs: null,
      lastUnhealthyAtMs: null,
      lastUnhealthyCause: null,
      consecutiveFailures: 0,
    };
    state.addInstance(instance);
    this.engine.demand.set(app.id, (this.engine.demand.get(app.id) ?? 1) - 1);
    const task = buildTaskInfo({ app, taskId, offer, resources: result.resources, hostPorts: result.hostPorts });
    return { entry, instance, task, newPage };
  }

  /** The lowest page with room; a new page when all are full. */
  #pageFor(entry: AppEntry): { page: number; newPage: boolean } {
    const counts = new Array<number>(entry.pages).fill(0);
    for (const instance of this.engine.state.instancesOf(entry.definition.id)) {
      if (instance.page < counts.length) counts[instance.page]! += 1;
    }
    const free = counts.findIndex((count) => count < instancesPerPage);
    if (free >= 0) return { page: free, newPage: false };
    entry.pages += 1;
    return { page: entry.pages - 1, newPage: true };
  }

  async #persist(placements: readonly Placement[]): Promise<void> {
    const persistence = this.engine.persistence;
    const writes: Promise<void>[] = [];
    const pages = new Set<string>();
    for (const { entry, instance, newPage } of placements) {
      if (newPage) writes.push(persistence.saveApp(entry.definition.id));
      const key = `${instance.appId} ${instance.page}`;
      if (pages.has(key)) continue;
      pages.add(key);
      writes.push(persistence.savePage(instance.appId, instance.page));
    }
    await Promise.all(writes);
  }

  #count(
    offer: Offer,
    wanting: readonly AppEntry[],
    placements: readonly Placement[],
    refused: ReadonlyMap<AppEntry, NoMatchReason[]>,
  ): void {
    const nowText = new Date(this.engine.now()).toISOString();
    for (const entry of wanting) {
      const statistics = this.#statisticsOf(entry, nowText);
      statistics.processedOffersCount += 1;
      if (placements.some((placement) => placement.entry === entry)) {
        statistics.lastUsedOfferAt = nowText;
        continue;
      }
      const reasons = refused.get(entry);
      if (reasons === undefined) continue;
      statistics.unusedOffersCount += 1;
      statistics.lastUnusedOfferAt = nowText;
      const first = firstReason(reasons);
      statistics.launchAttempt.set(first, (statistics.launchAttempt.get(first) ?? 0) + 1);
      statistics.lastByAgent.delete(offer.agent_id.value);
      statistics.lastByAgent.set(offer.agent_id.value, {
        offer: unusedOfferJson(offer),
        reason: reasons,
        timestamp: nowText,
      });
      if (statistics.lastByAgent.size > maxLastUnusedOffers) {
        statistics.lastByAgent.delete(statistics.lastByAgent.keys().next().value!);
      }
    }
  }

  #statisticsOf(entry: AppEntry, nowText: string): OfferStatistics {
    const state = this.engine.state;
    const existing = state.offerStatistics.get(entry.definition.id);
    if (existing !== undefined) return existing;
    const created: OfferStatistics = {
      since: nowText,
      processedOffersCount: 0,
      unusedOffersCount: 0,
      lastUnusedOfferAt: null,
      lastUsedOfferAt: null,
      launchAttempt: new Map(),
      lastByAgent: new Map(),
    };
    state.offerStatistics.set(entry.definition.id, created);
    return created;
  }

  async #decline(offer: Offer, refuseSeconds: number): Promise<void> {
    await this.options.client.decline([offer.id], { refuse_seconds: refuseSeconds }).catch(() => undefined);
  }
}

/** offer.raml Offer, as /v2/queue's lastUnusedOffers shows it. */
function unusedOfferJson(offer: Offer): object {
  return {
    id: offer.id.value,
    agentId: offer.agent_id.value,
    hostname: offer.hostname,
    resources: offer.resources.map((resource) => ({
      name: resource.name,
      ...(resource.scalar === undefined ? {} : { scalar: resource.scalar.value }),
      ...(resource.ranges === undefined ? {} : { ranges: resource.ranges.range }),
      role: resource.role ?? '*',
    })),
    attributes: offer.attributes.map((attribute) => ({
      name: attribute.name,
      ...(attribute.text === undefined ? {} : { text: attribute.text.value }),
      ...(attribute.scalar === undefined ? {} : { scalar: attribute.scalar.value }),
    })),
  };
}
