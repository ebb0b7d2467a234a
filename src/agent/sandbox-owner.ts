// A task's sandbox belongs to the user the task runs as (Mesos chowns it the same way), so the
// task can write its files and a Docker task sees it writable at /mnt/mesos/sandbox. The agent
// creates `stdout` and `stderr` first, so they are the user's too. A sandbox under a folder
// the user cannot search (a 0700 --work-dir) would fail later with a bare EACCES; it is refused
// here, naming the folder.
import { chownSync, closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { TaskUserError, type TaskUser } from './task-user.ts';

const ownerSearch = 0o100;
const groupSearch = 0o010;
const otherSearch = 0o001;

/** POSIX permission classes: the owner's bits for the owner, else the group's for a member, else the others'. */
function canSearch(folder: Stats, user: TaskUser): boolean {
  if (folder.uid === user.uid) return (folder.mode & ownerSearch) !== 0;
  if (user.groups.includes(folder.gid)) return (folder.mode & groupSearch) !== 0;
  return (folder.mode & otherSearch) !== 0;
}

function checkReachable(sandbox: string, user: TaskUser): void {
  for (let folder = path.dirname(sandbox); ; folder = path.dirname(folder)) {
    const stats = statSync(folder);
    if (!canSearch(stats, user)) {
      throw new TaskUserError(
        `user "${user.name}" cannot reach its sandbox: ${folder} is mode ` +
          `${(stats.mode & 0o777).toString(8).padStart(4, '0')} owned by uid ${stats.uid} ` +
          "(make the agent's --work-dir searchable, e.g. chmod o+x)",
      );
    }
    if (folder === path.dirname(folder)) return;
  }
}

/** Makes the sandbox with empty `stdout` and `stderr`, owned by `user` when there is one. */
export function prepareSandbox(sandbox: string, user: TaskUser | null): void {
  mkdirSync(sandbox, { recursive: true });
  const files = ['stdout', 'stderr'].map((name) => path.join(sandbox, name));
  for (const file of files) closeSync(openSync(file, 'a'));
  if (user === null) return;
  checkReachable(sandbox, user);
  try {
    for (const entry of [sandbox, ...files]) chownSync(entry, user.uid, user.gid);
  } catch (error) {
    throw new TaskUserError(`could not give the sandbox to user "${user.name}": ${(error as Error).message}`);
  }
}

/** A folder the agent makes inside the sandbox (a sandbox volume), owned like the sandbox. */
export function makeOwnedFolder(folder: string, user: TaskUser | null): void {
  mkdirSync(folder, { recursive: true });
  if (user !== null) chownSync(folder, user.uid, user.gid);
}
