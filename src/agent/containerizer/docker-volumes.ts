// A Docker task's binds: its sandbox at /mnt/mesos/sandbox, then its volumes (Mesos Volume with a
// host_path). An absolute host path must exist and lie, symbolic links resolved, inside a folder
// of the agent's --docker-volume-allowlist, so a task cannot mount the host's / or the agent's
// own state. A relative one is a folder of the sandbox, made (and given to the task's user) when
// missing; it may not resolve outside the sandbox. A relative container path is relative to the
// sandbox mount, as the Volume comment in mesos.proto has it.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeOwnedFolder } from '../sandbox-owner.ts';
import type { TaskUser } from '../task-user.ts';
import { ContainerLaunchError, type ContainerSpec } from './types.ts';

/** Where the sandbox appears inside the container, as in Mesos. */
export const containerSandboxPath = '/mnt/mesos/sandbox';

function isInside(candidate: string, folder: string): boolean {
  return candidate === folder || candidate.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

function realpathOrNull(target: string): string | null {
  try {
    return realpathSync(target);
  } catch {
    return null;
  }
}

function allowedHostPath(hostPath: string, allowlist: readonly string[], field: string): string {
  const real = realpathOrNull(hostPath);
  if (real === null) throw new ContainerLaunchError(`${field}: ${hostPath} does not exist on this agent`);
  const allowed = allowlist.map((entry) => realpathOrNull(entry)).filter((entry): entry is string => entry !== null);
  if (!allowed.some((entry) => isInside(real, entry))) {
    const list = allowlist.length === 0 ? 'none is set' : allowlist.join(',');
    throw new ContainerLaunchError(
      `${field}: ${hostPath} is outside the agent's --docker-volume-allowlist (${list}); ` +
        'a relative host_path mounts a folder of the sandbox instead',
    );
  }
  return real;
}

/** Makes each missing folder from the sandbox down to `target`, owned by the task's user. */
function sandboxFolder(sandbox: string, relativePath: string, user: TaskUser | null, field: string): string {
  const target = path.join(sandbox, relativePath);
  const missing: string[] = [];
  for (let folder = target; isInside(folder, sandbox) && folder !== sandbox; folder = path.dirname(folder)) {
    if (statSync(folder, { throwIfNoEntry: false }) !== undefined) break;
    missing.unshift(folder);
  }
  for (const folder of missing) makeOwnedFolder(folder, user);
  const real = realpathOrNull(target);
  const realSandbox = realpathSync(sandbox);
  if (real === null || !isInside(real, realSandbox))
    throw new ContainerLaunchError(`${field}: ${relativePath} does not stay inside the sandbox`);
  return real;
}

/** Docker `Binds` for the task: `host:container:ro|rw`, the sandbox first. */
export function containerBinds(spec: ContainerSpec, allowlist: readonly string[]): string[] {
  const binds = [`${spec.sandbox}:${containerSandboxPath}`];
  spec.volumes.forEach((volume, position) => {
    const field = `container.volumes[${position}].host_path`;
    const hostPath = path.isAbsolute(volume.hostPath)
      ? allowedHostPath(volume.hostPath, allowlist, field)
      : sandboxFolder(spec.sandbox, volume.hostPath, spec.user, field);
    const containerPath = path.posix.isAbsolute(volume.containerPath)
      ? volume.containerPath
      : path.posix.join(containerSandboxPath, volume.containerPath);
    binds.push(`${hostPath}:${containerPath}:${volume.mode === 'RO' ? 'ro' : 'rw'}`);
  });
  // Persistent volumes: folders the agent made under its work dir, at their sandbox-relative path.
  for (const mount of spec.persistentVolumes) {
    const containerPath = path.posix.join(containerSandboxPath, mount.containerPath);
    binds.push(`${mount.hostPath}:${containerPath}:${mount.mode === 'RO' ? 'ro' : 'rw'}`);
  }
  return binds;
}
