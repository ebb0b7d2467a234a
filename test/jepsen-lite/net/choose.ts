// Namespaces when this process may make them (root, ip, iptables), else the userspace proxy.
import { networkNamespacesUnavailableReason } from '../../support/capabilities.ts';
import type { NetworkChoice } from '../options.ts';
import { NamespaceNetwork } from './namespace-network.ts';
import type { Network } from './network.ts';
import { ProxyNetwork } from './proxy-network.ts';

export async function createNetwork(
  choice: NetworkChoice,
  runDir: string,
  random: () => number,
): Promise<{ network: Network; notes: string[] }> {
  const unavailable = networkNamespacesUnavailableReason();
  if (choice === 'namespace' && unavailable !== undefined) throw new Error(`--network namespace: ${unavailable}`);
  if (choice === 'proxy' || (choice === 'auto' && unavailable !== undefined)) {
    const notes = choice === 'auto' ? [`userspace proxy, because ${unavailable}`] : [];
    return { network: new ProxyNetwork(random), notes };
  }
  const network = await NamespaceNetwork.create(runDir);
  const notes =
    network.removedLeftovers.length > 0
      ? [`removed namespaces left by a crashed run: ${network.removedLeftovers.join(', ')}`]
      : [];
  return { network, notes };
}
