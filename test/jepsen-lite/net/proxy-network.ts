// The network when the harness may not touch the kernel's: every master listens on its own
// loopback port, and every master's --peers names, for each other master, a proxy port made
// for that ordered pair. The bootstrap membership is local to each master (src/raft/node.ts),
// so each master keeps its own view until a membership change; after one, every master uses
// the leader's address table and the proxies tell connections apart by the Raft handshake
// (net/proxy.ts). ADD_MASTER is given a proxy of its own for the new master for that reason.
// Clients talk to masters directly: faults are between masters, as in Jepsen.
import { freePort } from '../../raft/support/process-cluster.ts';
import type { AddressBook, Endpoint } from '../client/endpoint.ts';
import { FaultTable } from './faults.ts';
import type { AgentPlacement, Network, NodePlacement } from './network.ts';
import { LinkProxy } from './proxy.ts';

const host = '127.0.0.1';

export class ProxyNetwork implements Network {
  readonly kind = 'proxy' as const;
  readonly latencyStyle = 'delay' as const;
  readonly faults = new FaultTable();
  private readonly realPorts = new Map<string, number>();
  /** `${from}>${to}` → the proxy `from` uses to reach `to`. */
  private readonly pairProxies = new Map<string, LinkProxy>();
  /** The proxy in front of each master for addresses handed out by ADD_MASTER. */
  private readonly sharedProxies = new Map<string, LinkProxy>();
  /** Proxy port → the master behind it (also for proxies already closed: old addresses linger). */
  private readonly portOwners = new Map<number, string>();

  readonly book: AddressBook = {
    nodeAt: (address) => {
      const [addressHost, port] = address.split(':');
      if (addressHost !== host) return undefined;
      return this.portOwners.get(Number(port));
    },
    endpoint: (node): Endpoint => {
      const port = this.realPorts.get(node);
      if (port === undefined) throw new Error(`proxy network: no master ${node}`);
      return { kind: 'tcp', host, port };
    },
  };

  constructor(private readonly random: () => number = Math.random) {}

  async addNode(id: string): Promise<NodePlacement> {
    if (this.realPorts.has(id)) throw new Error(`proxy network: ${id} is already placed`);
    const port = await freePort();
    this.realPorts.set(id, port);
    this.portOwners.set(port, id);
    for (const other of this.realPorts.keys()) {
      if (other === id) continue;
      await this.openProxy(this.pairProxies, `${id}>${other}`, id, other);
      await this.openProxy(this.pairProxies, `${other}>${id}`, other, id);
    }
    await this.openProxy(this.sharedProxies, id, '*', id);
    return { id, listen: `${host}:${port}`, commandPrefix: [] };
  }

  async placeAgent(id: string): Promise<AgentPlacement> {
    const port = await freePort();
    return {
      id,
      listen: `${host}:${port}`,
      commandPrefix: [],
      masterAddress: (master) => `${host}:${this.realPorts.get(master) ?? 0}`,
    };
  }

  peersFlag(id: string, members: readonly string[]): string {
    return members
      .map((member) => {
        if (member === id) return `${member}=${host}:${this.realPorts.get(member)}`;
        const proxy = this.pairProxies.get(`${id}>${member}`);
        if (proxy === undefined) throw new Error(`proxy network: no proxy from ${id} to ${member}`);
        return `${member}=${host}:${proxy.port}`;
      })
      .join(',');
  }

  advertisedAddress(id: string): string {
    const proxy = this.sharedProxies.get(id);
    if (proxy === undefined) throw new Error(`proxy network: no master ${id}`);
    return `${host}:${proxy.port}`;
  }

  async apply(): Promise<void> {
    // The proxies follow the fault table as it changes.
  }

  /**
   * Keeps every proxy: after a membership change all masters use the address table of the
   * leader that proposed it, so the proxies made for the removed master's own view (its
   * `m1>m3`, say) may now carry everyone's traffic to m3. They go at close().
   */
  async removeNode(id: string): Promise<void> {
    void id;
  }

  async close(): Promise<void> {
    this.faults.healAll();
    const proxies = [...this.pairProxies.values(), ...this.sharedProxies.values()];
    this.pairProxies.clear();
    this.sharedProxies.clear();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  }

  describe(): string {
    return `userspace fault proxy (${this.pairProxies.size} directed links on ${host})`;
  }

  private async openProxy(into: Map<string, LinkProxy>, key: string, from: string, to: string): Promise<void> {
    const targetPort = this.realPorts.get(to)!;
    const proxy = new LinkProxy({ from, to, targetHost: host, targetPort }, this.faults, this.random);
    const port = await proxy.listen(host);
    this.portOwners.set(port, to);
    into.set(key, proxy);
  }
}
