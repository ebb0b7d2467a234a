// Quota (Mesos 1.9+ "quota.md"; master.proto GetQuota / UpdateQuota, quota.proto QuotaConfig):
// per-role guarantees and limits as `map<string, Value.Scalar>`. GET_QUOTA answers the
// `status.configs` of 1.9 and, for older readers, the deprecated `status.infos`. A config with
// neither guarantees nor limits removes the role's quota, as in Mesos. Roles the caller may not
// view (view_roles) are left out of GET_QUOTA; each role set is update_quotas.
import type * as Operator from '../../protocol/operator.ts';
import { maxQuotaConfigsPerCommand, maxResourcesPerList } from '../../state-machine/limits.ts';
import { listQuotas } from '../../state-machine/queries.ts';
import { quotaConfigSchema } from '../../state-machine/value-schema.ts';
import type { QuotaConfig } from '../../state-machine/values.ts';
import { HttpError } from '../errors.ts';
import { submitOrFail } from '../submit.ts';
import {
  asObject,
  listField,
  objectField,
  optionalBooleanField,
  optionalObjectField,
  parseWith,
  type Fields,
} from './fields.ts';
import { mesosScalars, scalarResources } from '../../master/mesos/mesos-json.ts';
import type { OperatorCallTable } from './registry.ts';
import { allowedObjects, requireAllowed } from '../access.ts';

/** `{"cpus": {"value": 1}}` → `{"cpus": 1}`; the schema then checks names and amounts. */
function unwrapScalars(quantities: Fields | null, path: string): Record<string, unknown> {
  if (quantities === null) return {};
  const names = Object.keys(quantities);
  if (names.length > maxResourcesPerList)
    throw new HttpError('INVALID_BODY', `${path} must name at most ${maxResourcesPerList} resources`);
  return Object.fromEntries(names.map((name) => [name, asObject(quantities[name], `${path}.${name}`).value]));
}

function parseQuotaConfig(value: unknown, path: string): QuotaConfig {
  const config = asObject(value, path);
  const guarantees = unwrapScalars(
    optionalObjectField(config, 'guarantees', `${path}.guarantees`),
    `${path}.guarantees`,
  );
  const limits = unwrapScalars(optionalObjectField(config, 'limits', `${path}.limits`), `${path}.limits`);
  return parseWith(quotaConfigSchema, { role: config.role, guarantees, limits }, path);
}

export const quotaCalls: OperatorCallTable = {
  GET_QUOTA: {
    write: false,
    async handle({ master, access }) {
      const visible = allowedObjects(access, 'view_roles');
      const quotas = listQuotas(master.state()).filter((quota) => visible(quota.role));
      const status: Operator.QuotaStatus = {
        infos: quotas.map((quota) => ({ role: quota.role, guarantee: scalarResources(quota.guarantees) })),
        configs: quotas.map((quota) => ({
          role: quota.role,
          guarantees: mesosScalars(quota.guarantees),
          limits: mesosScalars(quota.limits),
        })),
      };
      return { type: 'GET_QUOTA', get_quota: { status } };
    },
  },
  UPDATE_QUOTA: {
    write: true,
    async handle({ master, call, access }) {
      const body = objectField(call, 'update_quota');
      // `force` skips Mesos' check that guarantees fit the cluster; Flotilla makes no such check.
      optionalBooleanField(body, 'force', 'update_quota.force');
      const path = 'update_quota.quota_configs';
      const list = listField(body, 'quota_configs', path, { minLength: 1, maxLength: maxQuotaConfigsPerCommand });
      const configs = list.map((config, position) => parseQuotaConfig(config, `${path}[${position}]`));
      for (const { role } of configs) requireAllowed(access, 'update_quotas', role);
      await submitOrFail(master, { type: 'update_quota', configs });
      return null;
    },
  },
};
