// The master's state gauges (src/master/metrics/state-gauges.ts) read agent counts and resource
// totals from the derived indexes (state-machine/agent-totals.ts): a scrape walks no agent. The
// state given to the gauges refuses to be walked; the values must still be those of the state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerStateGauges } from '../../src/master/metrics/state-gauges.ts';
import { type AgentId, agentId, offerId, taskId } from '../../src/state-machine/ids.ts';
import type { Agent, ReadonlyState } from '../../src/state-machine/state.ts';
import { MetricRegistry } from '../../src/util/metric-registry.ts';
import {
  accept,
  cpus,
  createOffers,
  Harness,
  launch,
  mem,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
} from '../state-machine/support/fixtures.ts';

/** The agents map, refusing every walk: a gauge that walks it throws. */
class UnwalkableAgents extends Map<AgentId, Agent> {
  constructor(readonly inner: ReadonlyMap<AgentId, Agent>) {
    super();
  }
  override get size(): number {
    return this.inner.size;
  }
  override get(key: AgentId): Agent | undefined {
    return this.inner.get(key);
  }
  override has(key: AgentId): boolean {
    return this.inner.has(key);
  }
  override values(): MapIterator<Agent> {
    throw new Error('a scrape walked the agents');
  }
  override keys(): MapIterator<AgentId> {
    throw new Error('a scrape walked the agents');
  }
  override entries(): MapIterator<[AgentId, Agent]> {
    throw new Error('a scrape walked the agents');
  }
  override [Symbol.iterator](): MapIterator<[AgentId, Agent]> {
    throw new Error('a scrape walked the agents');
  }
  override forEach(): void {
    throw new Error('a scrape walked the agents');
  }
}

function gauges(harness: Harness): () => Promise<Record<string, number>> {
  const metrics = new MetricRegistry({ master: 'm1' });
  registerStateGauges(metrics, {
    state: () => ({ ...harness.state, agents: new UnwalkableAgents(harness.state.agents) }) as ReadonlyState,
    appliedIndex: () => harness.index,
  });
  return () => metrics.snapshot();
}

test('the state gauges count agents and their resources without walking the agents', async () => {
  const harness = new Harness();
  for (let index = 1; index <= 3; index += 1)
    harness.ok(registerAgent(agentId(`a${index}`), { resources: resources(cpus(4), mem(1024)) }));
  harness.ok(subscribe());
  harness.ok({
    type: 'deactivate_agent',
    at: harness.state.agents.get(agentId('a3'))!.registeredAt,
    agentId: agentId('a3'),
  });
  harness.ok({ type: 'update_agent_state', at: 1, agentId: agentId('a2'), state: 'UNREACHABLE' });
  harness.ok(createOffers(offerDefinition(offerId('o1'), resources(cpus(4), mem(1024)), { agentId: agentId('a1') })));
  harness.ok(accept([offerId('o1')], [launch(taskDefinition(taskId('t1'), resources(cpus(1.5), mem(256))))]));
  const read = gauges(harness);
  const values = await read();
  assert.is(values['master/agents_active'], 1);
  assert.is(values['master/agents_inactive'], 1);
  assert.is(values['master/agents_unreachable'], 1);
  assert.is(values['master/cpus_total'], 8, 'a1 and a3: an unreachable agent counts for nothing');
  assert.is(values['master/cpus_used'], 1.5);
  assert.is(values['master/mem_used'], 256);
  assert.is(values['master/cpus_percent'], 1.5 / 8);
  assert.is(values['allocator/mesos/resources/cpus/offered_or_allocated'], 1.5, 'the rest of o1 went back');
  assert.is(values['master/tasks_staging'], 1);
  harness.ok(createOffers(offerDefinition(offerId('o2'), resources(cpus(2.5)), { agentId: agentId('a1') })));
  const later = await read();
  assert.is(later['allocator/mesos/resources/cpus/offered_or_allocated'], 4);
  assert.is(later['master/cpus_used'], 1.5);
});

test.run();
