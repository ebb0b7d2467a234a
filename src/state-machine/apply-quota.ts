// UPDATE_QUOTA and UPDATE_WEIGHTS (Mesos "quota.md", "weights.md"): per-role guarantees and
// limits, and the role weights of the DRF allocator. The allocator reads them; apply only
// checks that each update makes sense as a whole and stores it.
import type { UpdateQuota, UpdateWeights } from './commands.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { LogIndex } from './ids.ts';
import { unreservedRole, type Role } from './roles.ts';
import type { State } from './state.ts';
import type { QuotaConfig } from './values.ts';

function firstRepeatedRole(roles: readonly Role[]): Role | null {
  const seen = new Set<Role>();
  for (const role of roles) {
    if (seen.has(role)) return role;
    seen.add(role);
  }
  return null;
}

function checkQuotaConfig(config: QuotaConfig): Rejection | null {
  if (config.role === unreservedRole) return reject('INVALID_QUOTA', 'the role "*" cannot have quota');
  for (const [name, guarantee] of Object.entries(config.guarantees)) {
    const limit = Object.hasOwn(config.limits, name) ? config.limits[name] : undefined;
    if (limit !== undefined && guarantee > limit) {
      return reject(
        'INVALID_QUOTA',
        `role "${config.role}": the guarantee of ${name} (${guarantee}) exceeds its limit (${limit})`,
      );
    }
  }
  return null;
}

export function applyUpdateQuota(state: State, command: UpdateQuota, index: LogIndex): ApplyResult {
  const repeated = firstRepeatedRole(command.configs.map((config) => config.role));
  if (repeated !== null) return reject('INVALID_QUOTA', `role "${repeated}" appears twice`);
  for (const config of command.configs) {
    const problem = checkQuotaConfig(config);
    if (problem !== null) return problem;
  }
  for (const config of command.configs) {
    const cleared = Object.keys(config.guarantees).length === 0 && Object.keys(config.limits).length === 0;
    if (cleared) state.quotas.delete(config.role);
    else
      state.quotas.set(config.role, {
        role: config.role,
        guarantees: config.guarantees,
        limits: config.limits,
        modifyIndex: index,
      });
  }
  return success;
}

export function applyUpdateWeights(state: State, command: UpdateWeights, index: LogIndex): ApplyResult {
  const repeated = firstRepeatedRole(command.weights.map((entry) => entry.role));
  if (repeated !== null) return reject('INVALID_WEIGHTS', `role "${repeated}" appears twice`);
  if (command.weights.some((entry) => entry.role === unreservedRole))
    return reject('INVALID_WEIGHTS', 'the role "*" has no weight');
  for (const entry of command.weights)
    state.weights.set(entry.role, { role: entry.role, weight: entry.weight, modifyIndex: index });
  return success;
}
