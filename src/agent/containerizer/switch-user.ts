// How a process-containerizer task (and its check commands) becomes its user: the wrapper,
// still root so it can join the task's cgroups and record the exit status, starts the task
// through util-linux's setpriv, which sets the real and effective uid and gid and the
// supplementary groups (Node's own spawn uid/gid drops every supplementary group) and, by
// leaving root, every capability.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { TaskUser } from '../task-user.ts';
import { ContainerLaunchError } from './types.ts';

const setprivCandidates = ['/usr/bin/setpriv', '/bin/setpriv'];

let setprivPath: string | null = null;

function findSetpriv(): string {
  if (setprivPath !== null) return setprivPath;
  const folders = (process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== '');
  for (const candidate of [...setprivCandidates, ...folders.map((folder) => path.join(folder, 'setpriv'))]) {
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new ContainerLaunchError('running a task as another user needs setpriv (util-linux), which is not installed');
}

/** The argv prefix that runs what follows as `user`; empty for null (the agent's own user). */
export function switchUserArgv(user: TaskUser | null): string[] {
  if (user === null) return [];
  return [findSetpriv(), `--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${user.groups.join(',')}`, '--'];
}
