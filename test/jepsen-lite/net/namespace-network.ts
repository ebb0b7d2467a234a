// The network when running as root with ip and iptables: every master in its own network
// namespace with one veth to a bridge that lives in a namespace of its own, on 10.77.0.0/24 —
// addresses that exist only inside those namespaces, so no packet leaves the machine and the
// host's own network is untouched. Faults are iptables rules in the receiving master's
// namespace (DROP, or REJECT with a reset for a cut) and, for latency, netem where the kernel
// has it, else random packet loss (iptables statistic), which TCP turns into delays.
// Clients reach the masters through the forwarder (net/forwarder.ts) in the bridge namespace.
//
// Everything is removed at exit, also when the run fails (a synchronous exit handler), and a
// new run first removes the namespaces of runs whose runner died (net/netns.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AddressBook, Endpoint } from '../client/endpoint.ts';
import { FaultTable, type LinkState } from './faults.ts';
import type { AgentPlacement, Network, NodePlacement } from './network.ts';
import {
  destroyNamespaceSync,
  inNamespace,
  namespacePrefix,
  netemAvailable,
  removeLeftoverNamespaces,
  run,
} from './netns.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const forwarderProgram = path.join(repoRoot, 'test/jepsen-lite/net/forwarder.ts');
const subnet = '10.77.0';
const bridgeAddress = `${subnet}.254`;
const agentBasePort = 5055;
const masterPort = 5050;
const chain = 'FJL';
const forwarderReplyMs = 10_000;

export class NamespaceNetwork implements Network {
  readonly kind = 'namespace' as const;
  readonly faults = new FaultTable();
  latencyStyle: 'delay' | 'loss' = 'loss';
  readonly removedLeftovers: string[];
  private readonly addresses = new Map<string, string>();
  private readonly namespaces = new Map<string, string>();
  private readonly sockets = new Map<string, string>();
  private forwarder: ChildProcess | null = null;
  private forwarderReplies: ((line: string) => void)[] = [];
  private nextHost = 1;
  private agentsPlaced = 0;
  private closed = false;
  private readonly exitHandler = (): void => this.destroySync();

  readonly book: AddressBook = {
    nodeAt: (address) => {
      for (const [id, ip] of this.addresses) if (address === `${ip}:${masterPort}`) return id;
      return undefined;
    },
    endpoint: (node): Endpoint => {
      const socketPath = this.sockets.get(node);
      if (socketPath === undefined) throw new Error(`namespace network: no master ${node}`);
      return { kind: 'unix', socketPath };
    },
  };

  private constructor(private readonly socketDir: string) {
    this.removedLeftovers = removeLeftoverNamespaces();
    process.on('exit', this.exitHandler);
  }

  get bridgeNamespace(): string {
    return `${namespacePrefix}${process.pid}-br`;
  }

  static async create(runDir: string): Promise<NamespaceNetwork> {
    const socketDir = path.join(runDir, 'sockets');
    mkdirSync(socketDir, { recursive: true });
    const network = new NamespaceNetwork(socketDir);
    try {
      await network.createBridge();
      network.latencyStyle = (await netemAvailable(network.bridgeNamespace)) ? 'delay' : 'loss';
      network.startForwarder();
    } catch (error) {
      network.destroySync();
      throw error;
    }
    return network;
  }

  async addNode(id: string): Promise<NodePlacement> {
    if (this.addresses.has(id)) throw new Error(`namespace network: ${id} is already placed`);
    if (this.nextHost >= 250) throw new Error('namespace network: out of addresses');
    const ip = `${subnet}.${this.nextHost++}`;
    const namespace = `${namespacePrefix}${process.pid}-${id}`;
    this.namespaces.set(id, namespace);
    this.addresses.set(id, ip);
    await run('ip', ['netns', 'add', namespace]);
    const bridgeSide = `v${id}`.slice(0, 15);
    await run('ip', [
      'link',
      'add',
      'eth0',
      'netns',
      namespace,
      'type',
      'veth',
      'peer',
      'name',
      bridgeSide,
      'netns',
      this.bridgeNamespace,
    ]);
    await run('ip', ['-n', this.bridgeNamespace, 'link', 'set', bridgeSide, 'master', 'br0', 'up']);
    await run('ip', ['-n', namespace, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    await inNamespace(namespace, 'iptables', ['-N', chain]);
    await inNamespace(namespace, 'iptables', ['-I', 'INPUT', '-j', chain]);
    const socket = path.join(this.socketDir, `${id}.sock`);
    await this.forwarderCommand({ op: 'listen', socket, target: `${ip}:${masterPort}` });
    this.sockets.set(id, socket);
    return { id, listen: `${ip}:${masterPort}`, commandPrefix: ['ip', 'netns', 'exec', namespace] };
  }

  /**
   * Agents run in the bridge namespace, where every master's address routes and no fault rule
   * applies (rules match masters' addresses): the nemeses fault masters, agents stay reachable.
   */
  async placeAgent(id: string): Promise<AgentPlacement> {
    const port = agentBasePort + this.agentsPlaced++;
    return {
      id,
      listen: `${bridgeAddress}:${port}`,
      commandPrefix: ['ip', 'netns', 'exec', this.bridgeNamespace],
      masterAddress: (master) => this.advertisedAddress(master),
    };
  }

  peersFlag(id: string, members: readonly string[]): string {
    void id;
    return members.map((member) => `${member}=${this.addresses.get(member)}:${masterPort}`).join(',');
  }

  advertisedAddress(id: string): string {
    return `${this.addresses.get(id)}:${masterPort}`;
  }

  /** Rewrites every namespace's rules (and delays) from the fault table. */
  async apply(): Promise<void> {
    await Promise.all(
      [...this.namespaces.keys()].map(async (id) => {
        await inNamespace(this.namespaces.get(id)!, 'iptables-restore', ['--noflush'], this.rulesFor(id));
        if (this.latencyStyle === 'delay') await this.applyDelays(id);
      }),
    );
  }

  async removeNode(id: string): Promise<void> {
    const socket = this.sockets.get(id);
    if (socket !== undefined) await this.forwarderCommand({ op: 'close', socket });
    this.sockets.delete(id);
    const namespace = this.namespaces.get(id);
    if (namespace !== undefined) destroyNamespaceSync(namespace);
    this.namespaces.delete(id);
  }

  async close(): Promise<void> {
    this.destroySync();
  }

  describe(): string {
    return `network namespaces ${namespacePrefix}${process.pid}-* on ${subnet}.0/24, iptables faults, latency as ${this.latencyStyle === 'delay' ? 'netem delay' : 'packet loss (no netem in this kernel)'}`;
  }

  /** iptables-restore input: our chain in `id`'s namespace, flushed and refilled. */
  private rulesFor(id: string): string {
    const lines = ['*filter', `:${chain} - [0:0]`];
    for (const [from, ip] of this.addresses) {
      if (from === id) continue;
      const link = this.faults.link(from, id);
      if (link.mode === 'drop') lines.push(`-A ${chain} -s ${ip} -j DROP`);
      else if (link.mode === 'cut')
        lines.push(`-A ${chain} -p tcp -s ${ip} -j REJECT --reject-with tcp-reset`, `-A ${chain} -s ${ip} -j DROP`);
      else if (link.delayMs > 0 && this.latencyStyle === 'loss') {
        lines.push(`-A ${chain} -s ${ip} -m statistic --mode random --probability ${lossFor(link).toFixed(3)} -j DROP`);
      }
    }
    lines.push('COMMIT', '');
    return lines.join('\n');
  }

  /** netem on the sender's veth, for the destinations its links delay (one delay per node). */
  private async applyDelays(id: string): Promise<void> {
    const namespace = this.namespaces.get(id)!;
    await inNamespace(namespace, 'tc', ['qdisc', 'del', 'dev', 'eth0', 'root']).catch(() => '');
    const delayed = [...this.addresses.entries()].filter(([to]) => to !== id && this.faults.link(id, to).delayMs > 0);
    if (delayed.length === 0) return;
    const link = this.faults.link(id, delayed[0]![0]);
    await inNamespace(namespace, 'tc', [
      'qdisc',
      'add',
      'dev',
      'eth0',
      'root',
      'handle',
      '1:',
      'prio',
      'bands',
      '4',
      'priomap',
      ...Array(16).fill('0'),
    ]);
    await inNamespace(namespace, 'tc', [
      'qdisc',
      'add',
      'dev',
      'eth0',
      'parent',
      '1:4',
      'handle',
      '40:',
      'netem',
      'delay',
      `${link.delayMs}ms`,
      `${link.jitterMs}ms`,
    ]);
    for (const [, ip] of delayed) {
      await inNamespace(namespace, 'tc', [
        'filter',
        'add',
        'dev',
        'eth0',
        'parent',
        '1:',
        'protocol',
        'ip',
        'prio',
        '1',
        'u32',
        'match',
        'ip',
        'dst',
        `${ip}/32`,
        'flowid',
        '1:4',
      ]);
    }
  }

  private async createBridge(): Promise<void> {
    const namespace = this.bridgeNamespace;
    await run('ip', ['netns', 'add', namespace]);
    await run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', namespace, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', namespace, 'addr', 'add', `${bridgeAddress}/24`, 'dev', 'br0']);
    await run('ip', ['-n', namespace, 'link', 'set', 'br0', 'up']);
  }

  private startForwarder(): void {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.bridgeNamespace, process.execPath, '--import', 'tsx', forwarderProgram],
      {
        cwd: repoRoot,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.forwarder = child;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.forwarderReplies.shift()?.(line));
  }

  private forwarderCommand(command: object): Promise<void> {
    const forwarder = this.forwarder;
    if (forwarder === null) return Promise.reject(new Error('namespace network: no forwarder'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`forwarder did not answer ${JSON.stringify(command)}`)),
        forwarderReplyMs,
      );
      this.forwarderReplies.push((line) => {
        clearTimeout(timer);
        const reply = JSON.parse(line) as { ok: boolean; error?: string };
        if (reply.ok) resolve();
        else reject(new Error(`forwarder: ${reply.error}`));
      });
      forwarder.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Synchronous so it can run in an exit handler: forwarder, masters, namespaces all go. */
  private destroySync(): void {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.exitHandler);
    this.forwarder?.kill('SIGKILL');
    for (const namespace of this.namespaces.values()) destroyNamespaceSync(namespace);
    destroyNamespaceSync(this.bridgeNamespace);
    this.namespaces.clear();
  }
}

/** Packet loss that costs TCP about as much as the delay would: retransmissions every RTO. */
function lossFor(link: LinkState): number {
  return Math.min(0.4, 0.05 + link.delayMs / 1000);
}
