// Asks every master for its own GET_RAFT at once (a local call: it answers without a leader,
// and shows that master's term, role and indexes), then the members those answers name that
// were not asked yet. A master that does not answer within probeTimeoutMs is reported down.
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { addressesToAsk, type MasterProbe, type RaftView } from '../views/masters.ts';
import type { ClusterClient } from './cluster-client.ts';
import { parseErrorBody } from './cluster-client.ts';
import { CliError } from './errors.ts';
import { TransportError } from './http.ts';
import { operatorPath } from './operator.ts';

export const probeTimeoutMs = 3_000;

async function probe(client: ClusterClient, address: MasterAddress): Promise<MasterProbe> {
  try {
    const answer = await client.requestAt(address, {
      method: 'POST',
      path: operatorPath,
      body: { type: 'GET_RAFT' },
      timeoutMs: probeTimeoutMs,
    });
    if (answer.status !== 200) {
      const { code, message } = parseErrorBody(answer.body);
      return { address, view: null, error: `answered ${answer.status} ${code ?? ''}: ${message}` };
    }
    const view = (JSON.parse(answer.body) as { get_raft?: RaftView }).get_raft;
    if (view === undefined || typeof view.term !== 'number') return { address, view: null, error: 'not a master' };
    return { address, view, error: null };
  } catch (error) {
    if (error instanceof TransportError)
      return { address, view: null, error: error.message.replace(`${address}: `, '') };
    if (error instanceof SyntaxError) return { address, view: null, error: 'answered something that is not JSON' };
    throw error;
  }
}

/** Every master's own view; throws NO_MASTER when none answered. */
export async function surveyMasters(client: ClusterClient): Promise<MasterProbe[]> {
  const first = await Promise.all(client.masters.map((address) => probe(client, address)));
  const more = addressesToAsk(
    client.masters,
    first.map((answer) => answer.view),
  ).filter((address) => !client.masters.includes(address));
  const probes = [...first, ...(await Promise.all(more.map((address) => probe(client, address))))];
  if (probes.every((answer) => answer.view === null)) {
    const tried = probes.map((answer) => `${answer.address} (${answer.error})`).join(', ');
    throw new CliError(
      'NO_MASTER',
      `no master answers at ${tried}`,
      'is the cluster running? Start one with `npm start`, or point --masters / FLOTILLA_MASTERS at it',
    );
  }
  return probes;
}
