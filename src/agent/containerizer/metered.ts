// A containerizer that counts its launches, launched or failed, for the agent's metrics
// (`agent/container_launch_errors`, `flotilla_agent_container_launches_total`). Everything else
// passes through unchanged.
import type { AgentMetrics } from '../metrics.ts';
import type { Containerizer, ContainerizerKind } from './types.ts';

export function meteredContainerizer(inner: Containerizer, metrics: AgentMetrics): Containerizer {
  return {
    kind: inner.kind,
    async launch(spec, progress) {
      try {
        const container = await inner.launch(spec, progress);
        metrics.containerLaunched(inner.kind, true);
        return container;
      } catch (error) {
        metrics.containerLaunched(inner.kind, false);
        throw error;
      }
    },
    recover: (handle, spec) => inner.recover(handle, spec),
    removeOrphans: (agentId, knownTasks) => inner.removeOrphans(agentId, knownTasks),
    ...(inner.bridgeGateway === undefined ? {} : { bridgeGateway: () => inner.bridgeGateway!() }),
  };
}

export function meteredContainerizers(
  containerizers: ReadonlyMap<ContainerizerKind, Containerizer>,
  metrics: AgentMetrics,
): Map<ContainerizerKind, Containerizer> {
  return new Map(
    [...containerizers].map(([kind, containerizer]) => [kind, meteredContainerizer(containerizer, metrics)]),
  );
}
