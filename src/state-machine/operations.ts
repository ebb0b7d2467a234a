// The operations log behind GET_OPERATIONS: every reservation and volume operation that applied
// (operator RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES, and a
// framework's ACCEPT RESERVE, UNRESERVE, CREATE, DESTROY), newest `maxOperations` kept. Mesos
// tracks operations with feedback on the agent and in the master's memory; here they are part of
// the replicated state, so any master answers alike and a failover keeps them. The uuid is
// derived from the log index and the operation's position in its command: deterministic, and
// unique because a log index is.
import { createHash } from 'node:crypto';
import type { Command } from './commands.ts';
import type { AgentId, FrameworkId, LogIndex } from './ids.ts';
import { maxOperations } from './limits.ts';
import type { Resources } from './resources.ts';
import type { OperationRecord, OperationType, State } from './state.ts';

interface PendingOperation {
  readonly type: OperationType;
  readonly frameworkId: FrameworkId | null;
  readonly agentId: AgentId;
  readonly resources: Resources;
}

const indexDigits = 16;
const positionDigits = 3;
const uuidBytes = 16;

/** Zero-padded, so that string order is apply order (a snapshot's rows come back in key order). */
export function operationKey(index: LogIndex, position: number): string {
  return `${String(index).padStart(indexDigits, '0')}-${String(position).padStart(positionDigits, '0')}`;
}

function operationUuid(key: string): string {
  return createHash('sha256').update(`flotilla-operation:${key}`).digest().subarray(0, uuidBytes).toString('base64');
}

/**
 * The operations `command` would run, read before it applies (an ACCEPT's agent is its offers',
 * which the ACCEPT removes). Nothing for other commands.
 */
export function pendingOperations(state: State, command: Command): PendingOperation[] {
  switch (command.type) {
    case 'reserve_resources':
    case 'unreserve_resources':
      return [
        {
          type: command.type === 'reserve_resources' ? 'RESERVE' : 'UNRESERVE',
          frameworkId: null,
          agentId: command.agentId,
          resources: command.resources,
        },
      ];
    case 'create_volumes':
    case 'destroy_volumes':
      return [
        {
          type: command.type === 'create_volumes' ? 'CREATE' : 'DESTROY',
          frameworkId: null,
          agentId: command.agentId,
          resources: command.volumes,
        },
      ];
    case 'accept_offers': {
      const first = command.offerIds[0];
      const agentId = first === undefined ? undefined : state.offers.get(first)?.agentId;
      if (agentId === undefined) return [];
      return command.operations.flatMap((operation): PendingOperation[] => {
        const frameworkId = command.frameworkId;
        if (operation.type === 'RESERVE' || operation.type === 'UNRESERVE')
          return [{ type: operation.type, frameworkId, agentId, resources: operation.resources }];
        if (operation.type === 'CREATE' || operation.type === 'DESTROY')
          return [{ type: operation.type, frameworkId, agentId, resources: operation.volumes }];
        return [];
      });
    }
    default:
      return [];
  }
}

/** Records the applied operations; forgets the oldest beyond `maxOperations`. */
export function recordOperations(
  state: State,
  pending: readonly PendingOperation[],
  at: number,
  index: LogIndex,
): void {
  pending.forEach((operation, position) => {
    const key = operationKey(index, position);
    const record: OperationRecord = {
      ...operation,
      key,
      uuid: operationUuid(key),
      state: 'OPERATION_FINISHED',
      at,
      index,
    };
    state.operations.set(key, record);
  });
  while (state.operations.size > maxOperations) {
    let oldest: string | null = null;
    for (const key of state.operations.keys()) if (oldest === null || key < oldest) oldest = key;
    if (oldest === null) return;
    state.operations.delete(oldest);
  }
}
