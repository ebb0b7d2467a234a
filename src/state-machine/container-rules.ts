// What makes a task's container impossible for any Flotilla agent, known from the definition
// alone: Docker-only fields on a MESOS container, port mappings outside BRIDGE networking or
// outside the task's own port resources (Mesos docker.md: the host ports of BRIDGE mappings
// come from the task's `ports`), a hostname on HOST networking (Docker refuses it), volume paths
// that climb out of the sandbox. The scheduler API answers 400 with the problem; the state
// machine rejects a launch that bypassed it with INVALID_TASK. What only an agent knows (its
// volume allow-list, its users, its images) the agent refuses at launch.
import type { Resources } from './resources.ts';
import type { ExecutorDefinition, TaskContainer, TaskDefinition } from './values.ts';

/** A problem: the field it is about (relative to the TaskInfo) and why. */
export interface ContainerProblem {
  readonly field: string;
  readonly message: string;
}

function portRanges(resources: Resources): { begin: number; end: number }[] {
  return resources.flatMap((resource) =>
    resource.name === 'ports' && resource.type === 'RANGES' ? resource.ranges : [],
  );
}

function climbsOut(relativePath: string): boolean {
  return relativePath.split('/').includes('..');
}

function dockerOnlyProblem(container: TaskContainer): ContainerProblem | null {
  if (container.portMappings.length > 0)
    return { field: 'container.docker.port_mappings', message: 'port mappings need a DOCKER container' };
  if (container.volumes.length > 0)
    return {
      field: 'container.volumes',
      message: 'volumes need a DOCKER container (the process containerizer has no mount namespace)',
    };
  if (container.privileged) return { field: 'container.docker.privileged', message: 'needs a DOCKER container' };
  if (container.parameters.length > 0)
    return { field: 'container.docker.parameters', message: 'need a DOCKER container' };
  if (container.hostname !== null)
    return { field: 'container.hostname', message: 'needs a DOCKER container (MESOS tasks share the host UTS)' };
  return null;
}

function portMappingProblem(container: TaskContainer, resources: Resources, owner: string): ContainerProblem | null {
  if (container.portMappings.length > 0 && container.network !== 'BRIDGE') {
    return {
      field: 'container.docker.port_mappings',
      message: `port mappings need BRIDGE networking, the ${owner} has ${container.network}`,
    };
  }
  const ranges = portRanges(resources);
  const seen = new Set<string>();
  for (const [position, mapping] of container.portMappings.entries()) {
    const field = `container.docker.port_mappings[${position}]`;
    if (!ranges.some((range) => range.begin <= mapping.hostPort && mapping.hostPort <= range.end)) {
      return {
        field: `${field}.host_port`,
        message: `host port ${mapping.hostPort} is not one of the ${owner}'s port resources`,
      };
    }
    const key = `${mapping.hostPort}/${mapping.protocol}`;
    if (seen.has(key)) return { field: `${field}.host_port`, message: `host port ${key} is mapped twice` };
    seen.add(key);
  }
  return null;
}

function volumeProblem(container: TaskContainer): ContainerProblem | null {
  const containerPaths = new Set<string>();
  for (const [position, volume] of container.volumes.entries()) {
    const field = `container.volumes[${position}]`;
    if (!volume.hostPath.startsWith('/') && climbsOut(volume.hostPath))
      return { field: `${field}.host_path`, message: 'a sandbox-relative host path must not contain ".."' };
    if (climbsOut(volume.containerPath)) return { field: `${field}.container_path`, message: 'must not contain ".."' };
    if (containerPaths.has(volume.containerPath))
      return { field: `${field}.container_path`, message: `${volume.containerPath} is mounted twice` };
    containerPaths.add(volume.containerPath);
  }
  return null;
}

function problemOf(container: TaskContainer, resources: Resources, owner: string): ContainerProblem | null {
  if (container.type === 'MESOS') return dockerOnlyProblem(container);
  if (container.hostname !== null && container.network === 'HOST') {
    return { field: 'container.hostname', message: 'Docker cannot set a hostname on HOST networking' };
  }
  return portMappingProblem(container, resources, owner) ?? volumeProblem(container);
}

export function containerProblem(task: TaskDefinition): ContainerProblem | null {
  return task.container === null ? null : problemOf(task.container, task.resources, 'task');
}

/**
 * The same rules for an executor's container (field relative to the ExecutorInfo), and one more:
 * an executor must reach the agent's HTTP API (MESOS_AGENT_ENDPOINT), which NONE networking cuts off.
 * A DEFAULT executor runs inside the agent: it can have no image.
 */
export function executorContainerProblem(executor: ExecutorDefinition): ContainerProblem | null {
  const container = executor.container;
  if (container === null) return null;
  if (executor.type === 'DEFAULT' && (container.type === 'DOCKER' || container.image !== null))
    return { field: 'container', message: 'the DEFAULT executor runs inside the agent; it takes no image' };
  if (container.type === 'DOCKER' && container.image === null)
    return { field: 'container.docker.image', message: 'a DOCKER container needs an image' };
  if (container.network === 'NONE')
    return {
      field: 'container.docker.network',
      message:
        "NONE would cut the executor off from the agent's executor API (MESOS_AGENT_ENDPOINT); use HOST or BRIDGE",
    };
  return problemOf(container, executor.resources, 'executor');
}
