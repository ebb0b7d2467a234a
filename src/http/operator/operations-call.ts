// GET_OPERATIONS (master.proto GetOperations): the reservation and volume operations Flotilla
// ran, oldest first, from the replicated operations log (state-machine/operations.ts: the last
// maxOperations). Each is a Mesos Operation: its Offer.Operation `info`, its uuid, and its
// OperationStatus (always OPERATION_FINISHED: a refused operation changed nothing and is not
// kept; its caller got the refusal). An operation on a role the caller may not view
// (view_roles) is left out.
import { idValue, mesosResources, nanoseconds } from '../../master/mesos/mesos-json.ts';
import { reservedRoles } from '../../state-machine/resources.ts';
import type { OperationRecord } from '../../state-machine/state.ts';
import type { OperatorCallTable } from './registry.ts';
import { visibilityOf } from './visibility.ts';

/** Offer.Operation: the member named as the type, lower case (`reserve`, `create`…). */
function operationInfo(record: OperationRecord): Record<string, unknown> {
  const resources = mesosResources(record.resources);
  switch (record.type) {
    case 'RESERVE':
      return { type: 'RESERVE', reserve: { resources } };
    case 'UNRESERVE':
      return { type: 'UNRESERVE', unreserve: { resources } };
    case 'CREATE':
      return { type: 'CREATE', create: { volumes: resources } };
    case 'DESTROY':
      return { type: 'DESTROY', destroy: { volumes: resources } };
  }
}

function mesosOperation(record: OperationRecord): Record<string, unknown> {
  const uuid = { value: record.uuid };
  const status = {
    state: record.state,
    uuid,
    agent_id: idValue(record.agentId),
    timestamp: nanoseconds(record.at),
    converted_resources: [],
  };
  return {
    ...(record.frameworkId === null ? {} : { framework_id: idValue(record.frameworkId) }),
    agent_id: idValue(record.agentId),
    info: operationInfo(record),
    latest_status: status,
    statuses: [status],
    uuid,
  };
}

export const operationsCalls: OperatorCallTable = {
  GET_OPERATIONS: {
    write: false,
    async handle({ master, access }) {
      const visibility = visibilityOf(access);
      const records = [...master.state().operations.values()]
        .filter((record) => reservedRoles(record.resources).every((role) => visibility.role(role)))
        .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
      return { type: 'GET_OPERATIONS', get_operations: { operations: records.map(mesosOperation) } };
    },
  },
};
