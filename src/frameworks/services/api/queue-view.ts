// /v2/queue entries: apps that want instances launched (or are held back by back-off), with the
// count still to launch, the delay, and why offers did not fit (processedOffersSummary).
import type { ServicesFramework } from '../framework.ts';
import type { AppId } from '../path-id.ts';
import { appDefinitionJson, queueEntryJson } from '../views.ts';

export function queueEntryFor(
  services: ServicesFramework,
  appId: AppId,
  withLastUnused = false,
): Record<string, unknown> | null {
  const engine = services.engine;
  const entry = services.state.apps.get(appId);
  const count = engine.wanted.get(appId) ?? 0;
  if (entry === undefined || entry.deleting || count === 0) return null;
  const statistics = services.state.offerStatistics.get(appId);
  return queueEntryJson(entry, count, statistics, engine.now(), withLastUnused, engine.quotaReached.get(appId));
}

export function queueJson(services: ServicesFramework, withLastUnused: boolean): { queue: Record<string, unknown>[] } {
  const queue: Record<string, unknown>[] = [];
  for (const entry of services.state.visibleApps()) {
    const item = queueEntryFor(services, entry.definition.id, withLastUnused);
    if (item !== null) queue.push({ ...item, app: appDefinitionJson(entry.definition) });
  }
  return { queue };
}
