// Which Unix user a task runs as, decided at launch as Mesos' agent decides it (slave.cpp and the
// `--switch_user` flag): the task's user (CommandInfo.user, else FrameworkInfo.user, resolved by
// the master) when the agent runs as root; the agent's own user when the task names none or
// `--no-switch-user` is set. A name this machine does not know, a switch a non-root agent cannot
// make, or root when `--no-root-tasks` forbids it ends the launch with a reason. Names are looked
// up with getent and id, so users from NSS sources (LDAP, sssd) count as local ones do.
import { CommandOutputError, readCommandOutput } from './command-output.ts';
import { maxCachedUsers, userLookupCacheMs } from './limits.ts';

const lookupTimeoutMs = 5_000;
const rootUid = 0;
/** getent's exit status for a key its databases do not have. */
const getentNotFound = 2;

export interface TaskUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Every group the user is in, the primary one first (what `id -G` prints). */
  readonly groups: readonly number[];
}

export interface UserPolicy {
  /** Mesos --switch_user: run tasks as their user (needs a root agent). Off: every task runs as the agent's user. */
  readonly switchUser: boolean;
  /** Off (--no-root-tasks): no task may run as uid 0. */
  readonly allowRootTasks: boolean;
  /** The agent's own uid. */
  readonly agentUid: number;
}

export class TaskUserError extends Error {
  override name = 'TaskUserError';
}

export type UserLookup = (name: string) => Promise<TaskUser | null>;

/**
 * getent passwd NAME, then id -G NAME; null when the name is unknown. Not cached (lookupUser is);
 * `timeoutMs` bounds each of the two programs.
 */
export async function lookupUserUncached(name: string, timeoutMs = lookupTimeoutMs): Promise<TaskUser | null> {
  let passwd: string;
  let stderr: string;
  try {
    ({ stdout: passwd, stderr } = await readCommandOutput('getent', ['passwd', '--', name], timeoutMs));
  } catch (error) {
    if (error instanceof CommandOutputError && error.exitCode === getentNotFound) return null;
    throw new TaskUserError(`could not look up user "${name}": ${(error as Error).message}`);
  }
  const fields = passwd.trim().split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (fields.length < 7 || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid))
    throw new TaskUserError(
      `getent passwd ${name} answered a line that is not a passwd entry: ${JSON.stringify(passwd.slice(0, 200))}` +
        (stderr === '' ? '' : ` (stderr: ${JSON.stringify(stderr.slice(0, 200))})`),
    );
  let groupList: string;
  try {
    groupList = (await readCommandOutput('id', ['-G', '--', fields[0] ?? name], timeoutMs)).stdout;
  } catch (error) {
    throw new TaskUserError(`could not list the groups of user "${name}": ${(error as Error).message}`);
  }
  // Strict: an empty answer once read as [0], the root group, through Number('').
  const words = groupList
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '');
  const groups = words.map(Number);
  if (groups.length === 0 || !groups.every((group) => Number.isSafeInteger(group) && group >= 0))
    throw new TaskUserError(
      `id -G ${name} answered a line that is not a group list: ${JSON.stringify(groupList.slice(0, 200))}`,
    );
  return { name: fields[0] ?? name, uid, gid, groups: [gid, ...groups.filter((group) => group !== gid)] };
}

/**
 * Lookups of one name share one answer for `userLookupCacheMs`: a burst of launches for one
 * framework user spawned two processes (getent, id) per task before the task itself, a third of
 * the agent's launch work. Only found users are kept (an unknown name is asked again), at most
 * `maxCachedUsers` of them; a change to a user shows within the window.
 */
const cachedUsers = new Map<string, { readonly user: Promise<TaskUser | null>; readonly expiresAtMs: number }>();

export const lookupUser: UserLookup = (name) => {
  const nowMs = Date.now();
  const cached = cachedUsers.get(name);
  if (cached !== undefined && cached.expiresAtMs > nowMs) return cached.user;
  if (cachedUsers.size >= maxCachedUsers) cachedUsers.clear();
  const user = lookupUserUncached(name);
  cachedUsers.set(name, { user, expiresAtMs: nowMs + userLookupCacheMs });
  user.then(
    (found) => {
      if (found === null) cachedUsers.delete(name);
    },
    () => cachedUsers.delete(name),
  );
  return user;
};

const forbidRoot = 'this agent runs no tasks as root (--no-root-tasks)';

/**
 * The user to switch to, or null to run as the agent's own user. Throws TaskUserError with the
 * reason when the task cannot run here.
 */
export async function resolveTaskUser(
  name: string | null,
  policy: UserPolicy,
  lookup: UserLookup = lookupUser,
): Promise<TaskUser | null> {
  const agentIsRoot = policy.agentUid === rootUid;
  if (!policy.switchUser || name === null) {
    if (agentIsRoot && !policy.allowRootTasks) {
      throw new TaskUserError(
        policy.switchUser
          ? `the task names no user (neither command.user nor the framework's user), and ${forbidRoot}`
          : `with --no-switch-user tasks run as the agent's user, root, and ${forbidRoot}`,
      );
    }
    return null;
  }
  const user = await lookup(name);
  if (user === null) throw new TaskUserError(`user "${name}" does not exist on this agent`);
  if (!agentIsRoot) {
    if (user.uid === policy.agentUid) return null;
    throw new TaskUserError(
      `the agent runs as uid ${policy.agentUid} and cannot switch to user "${name}" ` +
        '(run the agent as root, or with --no-switch-user to run every task as the agent user)',
    );
  }
  if (user.uid === rootUid && !policy.allowRootTasks)
    throw new TaskUserError(`user "${name}" is root, and ${forbidRoot}`);
  return user;
}

/**
 * A Docker `user` parameter replaces the task's user inside the container (it comes after the
 * agent's own `--user`, as Mesos orders them). Its names resolve in the image, which the agent
 * cannot see, so under --no-root-tasks only a numeric uid other than 0 is accepted.
 */
export function checkDockerUserParameter(value: string, policy: UserPolicy): void {
  if (policy.allowRootTasks) return;
  const uid = value.split(':')[0] ?? '';
  if (!/^\d+$/.test(uid) || Number(uid) === rootUid) {
    throw new TaskUserError(
      `docker parameter user=${value}: ${forbidRoot}, so it must be a numeric uid other than 0 ` +
        '(a name resolves inside the image, where it may be root)',
    );
  }
}

/**
 * The user a container runs as (a task's or a framework executor's): `user` under the policy; with
 * a Docker `user` parameter, that parameter is checked instead (it replaces the user inside the
 * container) and `user` only owns the sandbox.
 */
export async function resolveContainerUser(
  user: string | null,
  parameters: readonly { readonly key: string; readonly value: string }[],
  policy: UserPolicy,
  lookup: UserLookup,
): Promise<TaskUser | null> {
  const dockerUser = parameters.filter((parameter) => parameter.key === 'user').at(-1);
  if (dockerUser === undefined) return resolveTaskUser(user, policy, lookup);
  checkDockerUserParameter(dockerUser.value, policy);
  return resolveTaskUser(user, { ...policy, allowRootTasks: true }, lookup);
}
