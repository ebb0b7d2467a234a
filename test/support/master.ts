// A real single-master cluster in this process (Raft with one voter, real SQLite, real HTTP on
// an ephemeral port), for route tests that need no other process.
import { developmentSecret } from '../../src/util/shared-secret.ts';
import { Master, type MasterOptions } from '../../src/master/master.ts';
import { timingProfiles } from '../../src/raft/timing.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from './tmp.ts';
import { waitFor } from './wait.ts';

export interface SingleMaster {
  readonly master: Master;
  readonly url: string;
  stop(): Promise<void>;
}

/** `overrides`: master options a test needs other than these defaults (a longer agent grace, …). */
export async function startSingleMaster(overrides: Partial<MasterOptions> = {}): Promise<SingleMaster> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const master = await Master.start({
    id: 'm1',
    host: '127.0.0.1',
    port,
    peers: { m1: address },
    dataDir: makeTempDir('master-'),
    zone: null,
    secret: developmentSecret,
    timing: { ...timingProfiles.lan, tickMs: 10 },
    join: false,
    flags: { id: 'm1' },
    logger: silentLogger,
    ...overrides,
  });
  await waitFor(() => master.raft.status().role === 'leader' && master.raft.status().commit > 0, {
    timeoutMs: 5000,
    what: 'm1 to lead',
  });
  return { master, url: `http://${address}`, stop: () => master.stop() };
}
