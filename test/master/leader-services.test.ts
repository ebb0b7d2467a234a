// Which leader services run, and in which term, as an operator sees it on a real single-voter
// master: GET_RAFT's leader_services and the /metrics gauges; a stopped master runs none.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LeaderServicesView } from '../../src/master/leadership/view.ts';
import { startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';

const serviceOrder = [
  'history-limits',
  'agent-gateway',
  'scheduler-sessions',
  'framework-failover',
  'allocation-loop',
  'agent-drains',
  'learner-promoter',
  'master-zones',
  'zone-preference',
];

async function leaderServices(url: string): Promise<LeaderServicesView & { readonly raftTerm: number }> {
  const response = await fetch(`${url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_RAFT' }),
  });
  assert.is(response.status, 200);
  const body = (await response.json()) as { get_raft: { term: number; leader_services: LeaderServicesView } };
  return { ...body.get_raft.leader_services, raftTerm: body.get_raft.term };
}

test('GET_RAFT and /metrics show every leader service running in the leader term, in start order', async () => {
  const cluster = await startSingleMaster();
  try {
    const view = await waitFor(
      async () => {
        const current = await leaderServices(cluster.url);
        return current.state === 'leading' && current;
      },
      { timeoutMs: 10_000, what: 'the leader services to run' },
    );
    assert.is(view.term, view.raftTerm);
    assert.equal(
      view.services,
      serviceOrder.map((name) => ({ name, running: true })),
    );
    const metrics = await (await fetch(`${cluster.url}/metrics`)).text();
    for (const name of serviceOrder)
      assert.match(metrics, new RegExp(`flotilla_leader_service_running\\{service="${name}",master="m1"\\} 1`));
    assert.match(metrics, new RegExp(`flotilla_leader_services_term\\{master="m1"\\} ${view.term}\\b`));
    // Shutdown stops them (in reverse), as any loss of leadership does.
    cluster.master.leadership.shutDown();
    assert.equal(cluster.master.facade.leaderServices(), {
      term: null,
      state: 'idle',
      services: serviceOrder.map((name) => ({ name, running: false })),
    });
  } finally {
    await cluster.stop();
  }
});

test.run();
