// A task spec as the master sends it to an agent: nothing but an id unless a test says otherwise.
import type { WireTaskSpec } from '../../../src/protocol/agent.ts';

export function wireTaskSpec(id: string, overrides: Partial<WireTaskSpec> = {}): WireTaskSpec {
  return {
    id,
    name: id,
    resources: [],
    command: null,
    container: null,
    user: null,
    healthCheck: null,
    killGracePeriodMs: null,
    labels: {},
    executorId: null,
    data: null,
    taskGroup: null,
    ...overrides,
  };
}
