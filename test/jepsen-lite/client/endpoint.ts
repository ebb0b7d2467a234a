// Where a client's request for one master goes: its real TCP address (proxy mode: clients talk
// to masters directly, never through the fault proxy), or a unix socket of the forwarder that
// runs inside the namespaces (namespace mode: the masters' addresses exist only in there).

export type Endpoint =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly socketPath: string };

/** What the harness knows about addresses: which master an address names, and how to reach it. */
export interface AddressBook {
  /** The master that `host:port` designates — its real address or any proxy in front of it. */
  nodeAt(address: string): string | undefined;
  endpoint(node: string): Endpoint;
}

export function describeEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === 'tcp' ? `${endpoint.host}:${endpoint.port}` : `unix:${endpoint.socketPath}`;
}
