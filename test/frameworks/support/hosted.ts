// The built-in frameworks hosted by real master processes (`--services hosted --jobs hosted`):
// which master to talk to, and one call of their APIs on any master's port (a follower forwards
// to the leader), the body parsed when it is JSON.
import type { E2eCluster } from '../../e2e/support/cluster.ts';
import type { ReplicaProcess } from '../../raft/support/process-cluster.ts';
import { waitFor } from '../../support/wait.ts';

/** Master flags that host both frameworks (the test fixtures turn them off by default). */
export const hostBoth = ['--services', 'hosted', '--jobs', 'hosted'] as const;

const requestTimeoutMs = 30_000;

export interface ApiAnswer<Body> {
  readonly status: number;
  readonly body: Body;
  readonly headers: Headers;
}

export async function callApi<Body = unknown>(
  address: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<ApiAnswer<Body>> {
  const response = await fetch(`http://${address}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // text/plain answers stay text
  }
  return { status: response.status, body: parsed as Body, headers: response.headers };
}

/** A running master that does not lead now (any live one but the leader). */
export async function follower(cluster: E2eCluster, excluding: readonly string[] = []): Promise<ReplicaProcess> {
  const leader = await cluster.leader(60_000, [...excluding]);
  const other = cluster.masters.replicas.find(
    (replica) => replica.child !== null && replica.id !== leader.id && !excluding.includes(replica.id),
  );
  if (other === undefined) throw new Error('no live master other than the leader');
  return other;
}

/** Until `route` answers 200 at `address` (the hosted framework on the leader has loaded its state). */
export async function waitForApi(address: string, route: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    async () => {
      const answer = await callApi(address, 'GET', route).catch(() => null);
      return answer?.status === 200;
    },
    { timeoutMs, what: `GET ${route} at ${address} to answer 200`, intervalMs: 100 },
  );
}
