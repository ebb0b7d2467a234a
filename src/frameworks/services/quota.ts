// Why an app gets no offers at all: its role's quota. The allocator stops offering a role at its
// quota limit (Mesos quota.md), so no offer ever arrives to be refused and the reject summary
// stays empty, or (Flotilla's allocator) what little is offered is short of cpus or mem. The
// framework asks the masters (the public operator API: GET_QUOTA and
// GET_ROLES) whether one more instance would pass the role's limit, and says so in /v2/queue.
import type { MasterAddress } from '../sdk/masters.ts';

interface ScalarMap {
  readonly [name: string]: { readonly value: number } | undefined;
}

const callTimeoutMs = 5_000;

async function operatorCall<Answer>(masters: readonly MasterAddress[], call: object): Promise<Answer | null> {
  for (const master of masters) {
    try {
      const response = await fetch(`http://${master}/api/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(call),
        redirect: 'manual',
        signal: AbortSignal.timeout(callTimeoutMs),
      });
      if (response.status === 200) return (await response.json()) as Answer;
    } catch {
      // The next master may answer.
    }
  }
  return null;
}

export interface RoleQuota {
  readonly limits: Readonly<Record<string, number>>;
  readonly used: Readonly<Record<string, number>>;
}

/** The role's quota limits and what it holds now, or null without a quota (or an answer). */
export async function roleQuota(masters: readonly MasterAddress[], role: string): Promise<RoleQuota | null> {
  if (role === '*') return null;
  const quota = await operatorCall<{ get_quota: { status: { configs?: { role: string; limits?: ScalarMap }[] } } }>(
    masters,
    { type: 'GET_QUOTA' },
  );
  const configured = quota?.get_quota.status.configs?.find((config) => config.role === role)?.limits;
  if (configured === undefined) return null;
  const roles = await operatorCall<{
    get_roles: { roles?: { name: string; resources?: { name: string; scalar?: { value: number } }[] }[] };
  }>(masters, { type: 'GET_ROLES' });
  if (roles === null) return null;
  const used: Record<string, number> = {};
  for (const resource of roles.get_roles.roles?.find((candidate) => candidate.name === role)?.resources ?? []) {
    used[resource.name] = Math.round(((used[resource.name] ?? 0) + (resource.scalar?.value ?? 0)) * 1000) / 1000;
  }
  const limits: Record<string, number> = {};
  for (const [name, limit] of Object.entries(configured)) if (limit !== undefined) limits[name] = limit.value;
  return { limits, used };
}

/** "cpus 0.2 of 0.2" when one more instance needing `need` would pass a limit; else null. Pure. */
export function quotaShortfall(quota: RoleQuota, need: Readonly<Record<string, number>>): string | null {
  for (const [name, limit] of Object.entries(quota.limits)) {
    const inUse = quota.used[name] ?? 0;
    if (inUse + (need[name] ?? 0) > limit + 0.0005) return `${name} ${inUse} of ${limit}`;
  }
  return null;
}
