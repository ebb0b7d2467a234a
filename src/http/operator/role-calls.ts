// Roles and their weights (Mesos "roles.md", "weights.md"; master.proto GetRoles, GetWeights,
// UpdateWeights). A weight scales a role's fair share in the DRF allocator; "*" has none.
import type * as Operator from '../../protocol/operator.ts';
import type { RoleWeight } from '../../state-machine/values.ts';
import { maxWeightsPerCommand } from '../../state-machine/limits.ts';
import { listRoles, listWeights } from '../../state-machine/queries.ts';
import { roleWeightSchema } from '../../state-machine/value-schema.ts';
import { submitOrFail } from '../submit.ts';
import { asObject, listField, objectField, parseWith } from './fields.ts';
import { idValue, mesosResources } from '../../master/mesos/mesos-json.ts';
import type { OperatorCallTable } from './registry.ts';

function parseWeightInfo(value: unknown, path: string): RoleWeight {
  const info = asObject(value, path);
  return parseWith(roleWeightSchema, { role: info.role, weight: info.weight }, path);
}

export const roleCalls: OperatorCallTable = {
  GET_ROLES: {
    write: false,
    async handle({ master }) {
      const roles: Operator.Role[] = listRoles(master.state()).map((summary) => ({
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
    async handle({ master }) {
      const weightInfos: Operator.WeightInfo[] = listWeights(master.state()).map(({ role, weight }) => ({
        weight,
        role,
      }));
      return { type: 'GET_WEIGHTS', get_weights: { weight_infos: weightInfos } };
    },
  },
  UPDATE_WEIGHTS: {
    write: true,
    async handle({ master, call }) {
      const path = 'update_weights.weight_infos';
      const list = listField(objectField(call, 'update_weights'), 'weight_infos', path, {
        minLength: 1,
        maxLength: maxWeightsPerCommand,
      });
      const weights = list.map((info, position) => parseWeightInfo(info, `${path}[${position}]`));
      await submitOrFail(master, { type: 'update_weights', weights });
      return null;
    },
  },
};
