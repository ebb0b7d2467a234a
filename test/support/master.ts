// A real single-master cluster in this process (Raft with one voter, real SQLite, real HTTP on
// an ephemeral port), for route tests that need no other process.
import { type MasterOptionValues, masterConfig } from '../../src/master/config.ts';
import { Master } from '../../src/master/daemon.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from './tmp.ts';
import { masterZonesNamespace } from '../../src/master/zones/replicated-zones.ts';
import { kvKey } from '../../src/state-machine/state.ts';
import { waitFor } from './wait.ts';

export interface SingleMaster {
  readonly master: Master;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `overrides`: master options a test needs other than these defaults (a longer agent grace, …).
 * The built-in frameworks are off unless a test asks for them: the other tests count frameworks.
 */
export async function startSingleMaster(overrides: Partial<MasterOptionValues> = {}): Promise<SingleMaster> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const master = await Master.start(
    masterConfig({
      id: 'm1',
      listen: { host: '127.0.0.1', port },
      peers: { m1: address },
      dataDir: makeTempDir('master-'),
      tickMs: 10,
      services: 'off',
      jobs: 'off',
      ...overrides,
    }),
    // These tests put agents in the state by proposing register_agent: no agent process holds a
    // socket to the gateway, so every agent counts as connected for the allocator.
    { logger: silentLogger, agentConnected: () => true },
  );
  // Not only Raft leadership: hints a test sets (suppression) before the allocation loop has
  // started would be cleared by its start, as every new term starts from none.
  await waitFor(() => master.leadership.view().state === 'leading', {
    timeoutMs: 5000,
    what: 'm1 to lead with its leader services running',
  });
  // The zone registry writes this master's zone record in its first round, after it started:
  // tests that compare state hashes must not see that write land between their two readings.
  const id = master.config.options.id;
  await waitFor(() => master.machine.state.kv.has(kvKey(masterZonesNamespace, id)), {
    timeoutMs: 5000,
    what: `${id}'s zone record in the replicated state`,
  });
  return { master, url: `http://${address}`, stop: () => master.stop() };
}
