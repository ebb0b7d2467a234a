// Submitting a command from a route: a rejection becomes the HTTP answer its stable code asks
// for (master-errors.ts); the master's own failures are answered at the edge (server.ts).
import type { MasterCore } from '../master/interface.ts';
import type { Command } from '../state-machine/commands.ts';
import type { Success } from '../state-machine/errors.ts';
import { rejectionToHttp } from './master-errors.ts';

export async function submitOrFail(master: MasterCore, command: Command): Promise<Success> {
  const { result } = await master.submit(command);
  if (result.ok) return result;
  throw rejectionToHttp(result);
}
