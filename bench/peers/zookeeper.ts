// ZooKeeper under test: Debian's zookeeper (3.8), three servers started by hand from its jar
// (the manifest names the other jars) with one config file and data directory each, default
// timings (tickTime 2000, initLimit 10, syncLimit 5) and forceSync on, written with setData
// through node-zookeeper-client, one session per client, each connected where the library
// picks among all three servers (how ZooKeeper clients are deployed: followers forward writes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import path from 'node:path';
import zookeeper from 'node-zookeeper-client';
import { freePort } from '../../test/raft/support/process-cluster.ts';
import { waitFor } from '../../test/support/wait.ts';
import { clientKey, type WriteClient } from './load.ts';
import { MemberProcess } from './processes.ts';
import type { Availability, MemberView, PeerSystem } from './system.ts';

const zookeeperJar = '/usr/share/java/zookeeper.jar';
const javaBinary = '/usr/bin/java';
/** The client library's pause between reconnection attempts; its default (1 s) would slow ZooKeeper's failover. */
const reconnectDelayMs = 20;
const sessionTimeoutMs = 10_000;

export function zookeeperAvailability(): Availability {
  if (!existsSync(zookeeperJar)) return 'ZooKeeper is not installed (Debian package zookeeper)';
  try {
    execFileSync(javaBinary, ['-version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'no Java runtime for ZooKeeper';
  }
}

type Client = ReturnType<typeof zookeeper.createClient>;

export class ZookeeperSystem implements PeerSystem {
  readonly name = 'zookeeper' as const;
  private readonly members: MemberProcess[] = [];
  private readonly clientAddresses: string[] = [];
  private readonly failoverClients = new Map<number, Client>();

  constructor(private readonly dataRoot: string) {}

  async start(): Promise<void> {
    const quorumPorts: string[] = [];
    for (let index = 0; index < 3; index++) {
      this.clientAddresses.push(`127.0.0.1:${await freePort()}`);
      quorumPorts.push(`${await freePort()}:${await freePort()}`);
    }
    for (let index = 0; index < 3; index++) {
      const directory = path.join(this.dataRoot, `z${index + 1}`);
      mkdirSync(directory, { recursive: true });
      writeFileSync(path.join(directory, 'myid'), `${index + 1}\n`);
      const configFile = path.join(this.dataRoot, `z${index + 1}.cfg`);
      writeFileSync(configFile, configText(directory, this.clientAddresses[index]!, quorumPorts));
      const args = ['-Xmx512m', '-cp', zookeeperJar, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', configFile];
      this.members.push(new MemberProcess(`z${index + 1}`, javaBinary, args, `${directory}.log`));
    }
    for (const member of this.members) member.start();
    await this.waitHealthy(90_000);
  }

  async waitHealthy(timeoutMs: number): Promise<MemberView[]> {
    return waitFor(
      async () => {
        const answers = await Promise.all(this.clientAddresses.map((address) => serverStatus(address)));
        if (answers.some((answer) => answer === null)) return null;
        if (answers.filter((answer) => answer!.mode === 'leader').length !== 1) return null;
        return answers.map((answer, index) => ({ index, leader: answer!.mode === 'leader', term: answer!.epoch }));
      },
      { timeoutMs, what: 'three ZooKeeper servers with one leader', intervalMs: 100 },
    );
  }

  async openClient(client: number): Promise<WriteClient> {
    const session = await connectSession(this.clientAddresses.join(','));
    const node = `/${clientKey(client)}`;
    await ensureNode(session, node);
    return {
      write: (value: string) => setData(session, node, Buffer.from(value)),
      async close(): Promise<void> {
        session.close();
      },
    };
  }

  /** Writes through a session held to member `index` only, opened before the kill and kept. */
  async attemptWrite(index: number, value: string, timeoutMs: number): Promise<boolean> {
    let session = this.failoverClients.get(index);
    if (session === undefined) {
      session = await connectSession(this.clientAddresses[index]!);
      await ensureNode(session, '/failover');
      this.failoverClients.set(index, session);
    }
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs));
    const written = setData(session, '/failover', Buffer.from(value)).then(
      () => true,
      () => false,
    );
    return Promise.race([written, timeout]);
  }

  /** Sessions for failover writes are opened here, while there is a leader to create them. */
  async beforeKill(survivors: readonly number[]): Promise<void> {
    for (const index of survivors) await this.attemptWrite(index, 'warm', 5_000);
  }

  async afterFailover(): Promise<void> {
    for (const session of this.failoverClients.values()) session.close();
    this.failoverClients.clear();
  }

  member(index: number): MemberProcess {
    return this.members[index]!;
  }

  async stop(): Promise<void> {
    await this.afterFailover();
    await Promise.all(this.members.map((member) => member.stop()));
  }
}

function configText(dataDirectory: string, clientAddress: string, quorumPorts: readonly string[]): string {
  const lines = [
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDirectory}`,
    `clientPortAddress=127.0.0.1`,
    `clientPort=${clientAddress.split(':')[1]}`,
    'maxClientCnxns=0',
    'forceSync=yes',
    'admin.enableServer=false',
    '4lw.commands.whitelist=srvr',
    ...quorumPorts.map((ports, index) => `server.${index + 1}=127.0.0.1:${ports}`),
  ];
  return `${lines.join('\n')}\n`;
}

function connectSession(connectionString: string): Promise<Client> {
  const session = zookeeper.createClient(connectionString, {
    sessionTimeout: sessionTimeoutMs,
    spinDelay: reconnectDelayMs,
    retries: 0,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.close();
      reject(new Error(`no ZooKeeper session with ${connectionString} in 15 s`));
    }, 15_000);
    session.once('connected', () => {
      clearTimeout(timer);
      resolve(session);
    });
    session.connect();
  });
}

function ensureNode(session: Client, node: string): Promise<void> {
  return new Promise((resolve, reject) =>
    session.create(node, Buffer.alloc(0), (error) => {
      if (error === null || (error as { code?: number }).code === zookeeper.Exception.NODE_EXISTS) resolve();
      else reject(error);
    }),
  );
}

function setData(session: Client, node: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    session.setData(node, data, -1, (error) => (error === null || error === undefined ? resolve() : reject(error))),
  );
}

/** The `srvr` four-letter command: "Mode: leader" and "Zxid: 0x<epoch><counter>". */
function serverStatus(address: string): Promise<{ mode: string; epoch: number } | null> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = connectTcp({ host: host!, port: Number(port) });
    let text = '';
    const finish = (value: { mode: string; epoch: number } | null): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => finish(null));
    socket.on('error', () => finish(null));
    socket.on('connect', () => socket.write('srvr'));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
    });
    socket.on('end', () => {
      const mode = /Mode: (\w+)/.exec(text)?.[1];
      const zxid = /Zxid: 0x([0-9a-f]+)/i.exec(text)?.[1];
      if (mode === undefined || zxid === undefined) return finish(null);
      finish({ mode, epoch: Number(BigInt(`0x${zxid}`) >> 32n) });
    });
  });
}
