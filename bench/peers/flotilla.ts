// Flotilla under test: three real `flotilla master` processes (default LAN timing, real fsync),
// written through the KV API (PUT /api/v1/kv/<namespace>/<key>) on the leader, as a client
// that follows the 307 of a follower ends up doing.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../test/raft/support/process-cluster.ts';
import { waitFor } from '../../test/support/wait.ts';
import { KeepAliveJsonClient, openJsonClient } from './http-client.ts';
import { clientKey, type WriteClient } from './load.ts';
import { MemberProcess } from './processes.ts';
import type { MemberView, PeerSystem } from './system.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flotilla.js');
const namespace = 'bench';

interface Health {
  role: string;
  term: number;
  leader: string | null;
}

export class FlotillaSystem implements PeerSystem {
  private readonly members: MemberProcess[] = [];
  private readonly addresses: string[] = [];
  private leaderIndex = 0;

  constructor(
    private readonly dataRoot: string,
    private readonly extraArgs: readonly string[] = [],
    /** Arguments for node itself, before the script (--cpu-prof for bench/peers/profile.ts). */
    private readonly nodeArgs: readonly string[] = [],
    /** Another checkout's bin/flotilla.js, for a before/after comparison (--baseline). */
    private readonly binary = flotillaBin,
    readonly name: 'flotilla' | 'flotilla-baseline' = 'flotilla',
  ) {}

  /** host:port of each member's HTTP API, in member order (m1, m2, m3). */
  memberAddresses(): readonly string[] {
    return [...this.addresses];
  }

  async start(): Promise<void> {
    for (let index = 0; index < 3; index++) this.addresses.push(`127.0.0.1:${await freePort()}`);
    const peers = this.addresses.map((address, index) => `m${index + 1}=${address}`).join(',');
    for (const [index, address] of this.addresses.entries()) {
      const directory = path.join(this.dataRoot, `m${index + 1}`);
      mkdirSync(directory, { recursive: true });
      const args = [
        ...this.nodeArgs,
        this.binary,
        'master',
        '--id',
        `m${index + 1}`,
        '--listen',
        address,
        '--peers',
        peers,
      ];
      args.push('--data-dir', directory, ...this.extraArgs);
      this.members.push(new MemberProcess(`m${index + 1}`, process.execPath, args, `${directory}.log`));
    }
    for (const member of this.members) member.start();
    await this.waitHealthy(60_000);
  }

  async waitHealthy(timeoutMs: number): Promise<MemberView[]> {
    return waitFor(
      async () => {
        const healths = await Promise.all(this.addresses.map((address) => health(address)));
        if (healths.some((answer) => answer === null)) return null;
        const leaders = healths.flatMap((answer, index) => (answer!.role === 'leader' ? [index] : []));
        if (leaders.length !== 1) return null;
        const leaderAddress = this.addresses[leaders[0]!]!;
        if (healths.some((answer) => answer!.role !== 'leader' && answer!.leader !== leaderAddress)) return null;
        this.leaderIndex = leaders[0]!;
        return healths.map((answer, index) => ({ index, leader: index === leaders[0], term: answer!.term }));
      },
      { timeoutMs, what: 'three Flotilla masters agreeing on a leader', intervalMs: 50 },
    );
  }

  async openClient(client: number): Promise<WriteClient> {
    const http = openJsonClient(this.addresses[this.leaderIndex]!);
    const pathName = `/api/v1/kv/${namespace}/${clientKey(client)}`;
    return {
      async write(value: string): Promise<void> {
        const answer = await http.request('PUT', pathName, { value });
        if (answer.status !== 200) throw new Error(`flotilla PUT: HTTP ${answer.status} ${answer.body}`);
      },
      async close(): Promise<void> {
        http.close();
      },
    };
  }

  async attemptWrite(index: number, value: string, timeoutMs: number): Promise<boolean> {
    let address = this.addresses[index]!;
    for (let hop = 0; hop < 2; hop++) {
      const http = KeepAliveJsonClient.forAddress(address);
      try {
        const answer = await http.request('PUT', `/api/v1/kv/${namespace}/failover`, { value }, timeoutMs);
        if (answer.status === 200) return true;
        const redirected = answer.status === 307 ? redirectAddress(answer.location) : null;
        if (redirected === null) return false;
        address = redirected;
      } catch {
        return false;
      } finally {
        http.close();
      }
    }
    return false;
  }

  member(index: number): MemberProcess {
    return this.members[index]!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.stop()));
  }
}

async function health(address: string): Promise<Health | null> {
  try {
    const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(1000) });
    return response.status === 200 ? ((await response.json()) as Health) : null;
  } catch {
    return null;
  }
}

/** A 307's Location is `//host:port/path` (Mesos style) or absolute. */
function redirectAddress(location: string | undefined): string | null {
  if (location === undefined) return null;
  try {
    return new URL(location, 'http://placeholder').host || null;
  } catch {
    return null;
  }
}
