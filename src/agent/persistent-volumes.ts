// Persistent volumes on the agent (Mesos "persistent-volume.md"): a volume's data lives in
// <work_dir>/volumes/roles/<role>/<id>, outside every sandbox, so it outlives the task that wrote
// it and the agent's restarts. A task whose resources hold a volume sees it at the volume's
// container path in its sandbox: a Docker task through a bind mount, a process task through a
// symbolic link (Mesos bind-mounts for process tasks too; a link needs no root and no mount
// namespace, and a process task is not confined to its sandbox anyway, so it is honest about
// what it gives: RO cannot be enforced through a link, so a process task is refused a RO volume).
// The data is deleted only when the master says the volume is gone (the `volumes` message).
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { WireResource, WireVolumeRef } from '../protocol/agent.ts';
import { ContainerLaunchError, type PersistentMount } from './containerizer/types.ts';
import { makeOwnedFolder } from './sandbox-owner.ts';
import type { TaskUser } from './task-user.ts';

const rolesFolder = (workDir: string): string => path.join(workDir, 'volumes', 'roles');

/** A role may hold "/" (hierarchical roles): encoded, it stays one folder name. */
const roleFolderName = (role: string): string => encodeURIComponent(role);

/** Persistence ids are letters, digits, "_", "." and "-" (the master checks); never "." or "..". */
const safeId = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function volumePath(workDir: string, role: string, persistenceId: string): string {
  if (!safeId.test(persistenceId)) throw new ContainerLaunchError(`persistent volume id "${persistenceId}" is invalid`);
  return path.join(rolesFolder(workDir), roleFolderName(role), persistenceId);
}

/** The task's volumes, each with the host folder that holds its data. */
export function persistentMounts(workDir: string, resources: readonly WireResource[]): PersistentMount[] {
  return resources.flatMap((resource) =>
    resource.type === 'SCALAR' && resource.disk !== undefined
      ? [
          {
            hostPath: volumePath(workDir, resource.role, resource.disk.persistenceId),
            containerPath: resource.disk.containerPath,
            mode: resource.disk.mode,
          },
        ]
      : [],
  );
}

function insideSandbox(sandbox: string, containerPath: string): string {
  const target = path.resolve(sandbox, containerPath);
  if (path.isAbsolute(containerPath) || !target.startsWith(`${sandbox}${path.sep}`))
    throw new ContainerLaunchError(`persistent volume container path ${containerPath} leaves the sandbox`);
  return target;
}

/**
 * Before launch: each volume's folder exists (a new one owned by the task's user, as the sandbox
 * is). `link`: a process task, whose sandbox gets a symbolic link at the container path.
 */
export function prepareVolumes(
  sandbox: string,
  mounts: readonly PersistentMount[],
  user: TaskUser | null,
  link: boolean,
): void {
  for (const mount of mounts) {
    if (statSync(mount.hostPath, { throwIfNoEntry: false }) === undefined) {
      mkdirSync(path.dirname(mount.hostPath), { recursive: true });
      makeOwnedFolder(mount.hostPath, user);
    }
    if (!link) continue;
    if (mount.mode === 'RO')
      throw new ContainerLaunchError(
        `persistent volume at ${mount.containerPath}: a process task gets a symbolic link, which cannot be read-only; use a Docker task`,
      );
    const target = insideSandbox(sandbox, mount.containerPath);
    if (lstatSync(target, { throwIfNoEntry: false }) !== undefined)
      throw new ContainerLaunchError(`persistent volume container path ${mount.containerPath} exists in the sandbox`);
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(mount.hostPath, target, 'dir');
  }
}

/**
 * The master's list of this agent's volumes: each listed folder is made, every other folder under
 * volumes/roles is deleted with its data (its volume was destroyed, maybe while the agent was
 * away). Returns the paths deleted.
 */
export function reconcileVolumes(workDir: string, volumes: readonly WireVolumeRef[]): string[] {
  const kept = new Set(volumes.map((volume) => volumePath(workDir, volume.role, volume.persistenceId)));
  for (const folder of kept) mkdirSync(folder, { recursive: true });
  const root = rolesFolder(workDir);
  const deleted: string[] = [];
  // An agent that never had a volume has no folder: nothing to delete.
  if (statSync(root, { throwIfNoEntry: false }) === undefined) return deleted;
  for (const role of readdirSync(root, { withFileTypes: true })) {
    const roleFolder = path.join(root, role.name);
    if (!role.isDirectory()) continue;
    for (const entry of readdirSync(roleFolder)) {
      const folder = path.join(roleFolder, entry);
      if (kept.has(folder)) continue;
      rmSync(folder, { recursive: true, force: true });
      deleted.push(folder);
    }
  }
  return deleted;
}
