// etcd under test: Debian's etcd-server (3.4), three members on loopback with default timings
// (heartbeat 100 ms, election 1000 ms) and real fsync, written through the v3 JSON gateway
// (POST /v3/kv/put) of the leader. A follower forwards proposals to the leader itself, so
// failover writes go to any survivor.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort } from '../../test/raft/support/process-cluster.ts';
import { waitFor } from '../../test/support/wait.ts';
import { KeepAliveJsonClient, openJsonClient } from './http-client.ts';
import { clientKey, type WriteClient } from './load.ts';
import { MemberProcess } from './processes.ts';
import type { Availability, MemberView, PeerSystem } from './system.ts';

const etcdBinary = '/usr/bin/etcd';

interface StatusAnswer {
  header?: { member_id?: string; raft_term?: string };
  leader?: string;
}

export function etcdAvailability(): Availability {
  try {
    execFileSync(etcdBinary, ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'etcd is not installed (Debian package etcd-server)';
  }
}

export class EtcdSystem implements PeerSystem {
  readonly name = 'etcd' as const;
  private readonly members: MemberProcess[] = [];
  private readonly clientAddresses: string[] = [];
  private leaderIndex = 0;

  constructor(private readonly dataRoot: string) {}

  async start(): Promise<void> {
    const peerUrls: string[] = [];
    for (let index = 0; index < 3; index++) {
      this.clientAddresses.push(`127.0.0.1:${await freePort()}`);
      peerUrls.push(`http://127.0.0.1:${await freePort()}`);
    }
    const initialCluster = peerUrls.map((url, index) => `e${index + 1}=${url}`).join(',');
    for (let index = 0; index < 3; index++) {
      const name = `e${index + 1}`;
      const directory = path.join(this.dataRoot, name);
      mkdirSync(directory, { recursive: true });
      const clientUrl = `http://${this.clientAddresses[index]}`;
      const args = [
        ...['--name', name, '--data-dir', directory],
        ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
        ...['--listen-peer-urls', peerUrls[index]!, '--initial-advertise-peer-urls', peerUrls[index]!],
        ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new'],
        ...['--initial-cluster-token', 'flotilla-bench', '--logger', 'zap', '--log-level', 'warn'],
      ];
      this.members.push(new MemberProcess(name, etcdBinary, args, `${directory}.log`));
    }
    for (const member of this.members) member.start();
    await this.waitHealthy(60_000);
  }

  async waitHealthy(timeoutMs: number): Promise<MemberView[]> {
    return waitFor(
      async () => {
        const answers = await Promise.all(this.clientAddresses.map((address) => status(address)));
        if (answers.some((answer) => answer?.leader === undefined || answer.header?.member_id === undefined))
          return null;
        const leader = answers[0]!.leader!;
        if (leader === '0' || answers.some((answer) => answer!.leader !== leader)) return null;
        const leaderIndex = answers.findIndex((answer) => answer!.header!.member_id === leader);
        if (leaderIndex < 0) return null;
        this.leaderIndex = leaderIndex;
        return answers.map((answer, index) => ({
          index,
          leader: index === leaderIndex,
          term: Number(answer!.header!.raft_term ?? 0),
        }));
      },
      { timeoutMs, what: 'three etcd members agreeing on a leader', intervalMs: 50 },
    );
  }

  async openClient(client: number): Promise<WriteClient> {
    const http = openJsonClient(this.clientAddresses[this.leaderIndex]!);
    const key = Buffer.from(clientKey(client)).toString('base64');
    return {
      async write(value: string): Promise<void> {
        const answer = await http.request('POST', '/v3/kv/put', { key, value: Buffer.from(value).toString('base64') });
        if (answer.status !== 200) throw new Error(`etcd put: HTTP ${answer.status} ${answer.body}`);
      },
      async close(): Promise<void> {
        http.close();
      },
    };
  }

  async attemptWrite(index: number, value: string, timeoutMs: number): Promise<boolean> {
    const http = KeepAliveJsonClient.forAddress(this.clientAddresses[index]!);
    try {
      const body = { key: Buffer.from('failover').toString('base64'), value: Buffer.from(value).toString('base64') };
      const answer = await http.request('POST', '/v3/kv/put', body, timeoutMs);
      return answer.status === 200 && !answer.body.includes('"error"');
    } catch {
      return false;
    } finally {
      http.close();
    }
  }

  member(index: number): MemberProcess {
    return this.members[index]!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.stop()));
  }
}

async function status(address: string): Promise<StatusAnswer | null> {
  const http = KeepAliveJsonClient.forAddress(address);
  try {
    const answer = await http.request('POST', '/v3/maintenance/status', {}, 1000);
    return answer.status === 200 ? (JSON.parse(answer.body) as StatusAnswer) : null;
  } catch {
    return null;
  } finally {
    http.close();
  }
}
