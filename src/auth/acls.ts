// The ACL file (`--acls FILE`), in the spirit of Mesos' local authorizer (authorization.md,
// acls.proto): for each action, a list of rules, each naming its subjects (`principals`) and its
// objects (the member named in `aclActions` below); the first rule whose subjects and objects
// both match decides; when none does, `permissive` decides (true by default, as in Mesos).
//   {"permissive": false,
//    "register_frameworks": [{"principals": {"values": ["web"]}, "roles": {"values": ["web"]}}],
//    "teardown_frameworks": [{"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}
// An entity is {"values": [...]} (Mesos' SOME; "type": "SOME" may be written too), or
// {"type": "ANY"} or {"type": "NONE"}. Unknown actions or members are errors: a typo in a
// security file must not silently allow.
import { AuthFileError, jsonObject, onlyKnownMembers, readJsonFile } from './auth-file.ts';
import { maxAclEntityValues, maxAclRulesPerAction, maxAclValueChars } from './limits.ts';

/**
 * Every action and the name of its object in a rule. Mesos' names where Mesos has the action;
 * the objects differ from Mesos where Flotilla records less: reservations and volumes know their
 * role, not the principal that made them, so unreserving and destroying are judged by role.
 */
export const aclActions = {
  register_frameworks: 'roles',
  run_tasks: 'users',
  reserve_resources: 'roles',
  unreserve_resources: 'roles',
  create_volumes: 'roles',
  destroy_volumes: 'roles',
  update_quotas: 'roles',
  update_weights: 'roles',
  view_roles: 'roles',
  teardown_frameworks: 'framework_principals',
  kill_tasks: 'framework_principals',
  view_frameworks: 'users',
  view_tasks: 'users',
  access_sandboxes: 'users',
  view_flags: 'flags',
  drain_agents: 'agents',
  mark_agents_gone: 'agents',
  update_maintenance_schedules: 'machines',
  start_maintenances: 'machines',
  stop_maintenances: 'machines',
  get_maintenance_schedules: 'machines',
  get_maintenance_statuses: 'machines',
  change_raft_membership: 'masters',
  transfer_leadership: 'masters',
  /** GET /api/v1/backup: the whole state, every KV value included (Flotilla's own; asked with ANY). */
  backup_state: 'masters',
  /** /debug/pprof/*: a master's CPU profile, with --enable-profiling (Flotilla's own; asked with ANY). */
  profile_masters: 'masters',
  read_kv: 'prefixes',
  write_kv: 'prefixes',
} as const;

export type AclAction = keyof typeof aclActions;

export const aclActionNames = Object.keys(aclActions) as AclAction[];

/** Actions whose objects match by prefix ("jobs/" covers "jobs/a/b"), not by equality. */
export const prefixActions: ReadonlySet<AclAction> = new Set(['read_kv', 'write_kv']);

export type AclEntity =
  | { readonly type: 'ANY' }
  | { readonly type: 'NONE' }
  | { readonly type: 'SOME'; readonly values: readonly string[] };

export interface AclRule {
  readonly subjects: AclEntity;
  readonly objects: AclEntity;
}

export interface Acls {
  readonly permissive: boolean;
  readonly rules: Readonly<Record<AclAction, readonly AclRule[]>>;
}

function entityValues(values: unknown, path: string): string[] {
  if (!Array.isArray(values) || values.length === 0 || values.length > maxAclEntityValues)
    throw new AuthFileError(`${path}.values must be a list of 1–${maxAclEntityValues} strings`);
  return values.map((value, position) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxAclValueChars)
      throw new AuthFileError(`${path}.values[${position}] must be a string of 1–${maxAclValueChars} characters`);
    return value;
  });
}

function parseEntity(value: unknown, path: string): AclEntity {
  const entity = jsonObject(value, path);
  onlyKnownMembers(entity, ['type', 'values'], path);
  const type = entity.type ?? 'SOME';
  if (type === 'ANY' || type === 'NONE') {
    if (entity.values !== undefined) throw new AuthFileError(`${path}: type ${type} takes no values`);
    return { type };
  }
  if (type !== 'SOME') throw new AuthFileError(`${path}.type must be ANY, NONE or SOME`);
  return { type: 'SOME', values: entityValues(entity.values, path) };
}

function parseRule(value: unknown, action: AclAction, path: string): AclRule {
  const rule = jsonObject(value, path);
  const objectName = aclActions[action];
  onlyKnownMembers(rule, ['principals', objectName], path);
  if (rule.principals === undefined || rule[objectName] === undefined)
    throw new AuthFileError(`${path} needs "principals" and "${objectName}"`);
  return {
    subjects: parseEntity(rule.principals, `${path}.principals`),
    objects: parseEntity(rule[objectName], `${path}.${objectName}`),
  };
}

export function parseAcls(json: unknown, source: string): Acls {
  const file = jsonObject(json, source);
  onlyKnownMembers(file, ['permissive', ...aclActionNames], source);
  const permissive = file.permissive ?? true;
  if (typeof permissive !== 'boolean') throw new AuthFileError(`${source}: "permissive" must be true or false`);
  const rules = {} as Record<AclAction, readonly AclRule[]>;
  for (const action of aclActionNames) {
    const list = file[action] ?? [];
    if (!Array.isArray(list) || list.length > maxAclRulesPerAction)
      throw new AuthFileError(`${source}: "${action}" must be a list of at most ${maxAclRulesPerAction} rules`);
    rules[action] = list.map((rule, position) => parseRule(rule, action, `${source}: ${action}[${position}]`));
  }
  return { permissive, rules };
}

export function readAclsFile(file: string): Acls {
  return parseAcls(readJsonFile(file, 'ACL'), file);
}
