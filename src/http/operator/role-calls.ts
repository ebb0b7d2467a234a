// Roles and their weights (Mesos "roles.md", "weights.md"; master.proto GetRoles, GetWeights,
// UpdateWeights). A weight scales a role's fair share in the DRF allocator; "*" has none.
// Roles the caller may not view (view_roles) are left out; each weight set is update_weights.
import type * as Operator from '../../protocol/operator.ts';
import type { RoleWeight } from '../../state-machine/values.ts';
import { maxWeightsPerCommand } from '../../state-machine/limits.ts';
import { listRoles, listWeights } from '../../state-machine/queries.ts';
import { roleWeightSchema } from '../../state-machine/value-schema.ts';
import { submitOrFail } from '../submit.ts';
import { asObject, listField, objectField, parseWith } from './fields.ts';
import { idValue, mesosResources } from '../../master/mesos/mesos-json.ts';
import type { OperatorCallTable } from './registry.ts';
import { allowedObjects, requireAllowed } from '../access.ts';

function parseWeightInfo(value: unknown, path: string): RoleWeight {
  const info = asObject(value, path);
  return parseWith(roleWeightSchema, { role: info.role, weight: info.weight }, path);
}

export const roleCalls: OperatorCallTable = {
  GET_ROLES: {
    write: false,
    async handle({ master, access }) {
      const visible = allowedObjects(access, 'view_roles');
      const roles: Operator.Role[] = listRoles(master.state())
        .filter((summary) => visible(summary.role))
        .map((summary) => ({
          name: summary.role,
          weight: summary.weight,
          frameworks: summary.frameworkIds.map(idValue),
          resources: mesosResources(summary.allocated, summary.role),
        }));
      return { type: 'GET_ROLES', get_roles: { roles } };
    },
  },
  GET_WEIGHTS: {
    write: false,
    async handle({ master, access }) {
      const visible = allowedObjects(access, 'view_roles');
      const weightInfos: Operator.WeightInfo[] = listWeights(master.state())
        .filter(({ role }) => visible(role))
        .map(({ role, weight }) => ({ weight, role }));
      return { type: 'GET_WEIGHTS', get_weights: { weight_infos: weightInfos } };
    },
  },
  UPDATE_WEIGHTS: {
    write: true,
    async handle({ master, call, access }) {
      const path = 'update_weights.weight_infos';
      const list = listField(objectField(call, 'update_weights'), 'weight_infos', path, {
        minLength: 1,
        maxLength: maxWeightsPerCommand,
      });
      const weights = list.map((info, position) => parseWeightInfo(info, `${path}[${position}]`));
      for (const { role } of weights) requireAllowed(access, 'update_weights', role);
      await submitOrFail(master, { type: 'update_weights', weights });
      return null;
    },
  },
};
