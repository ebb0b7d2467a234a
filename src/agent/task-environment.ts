// What a task is given besides its command: the Mesos environment variables (MESOS_SANDBOX,
// MESOS_TASK_ID, MESOS_FRAMEWORK_ID, MESOS_AGENT_ID, plus PORT0…n, PORTS and PORT as Marathon
// sets them from the task's port ranges) under the command's own environment, and the container
// spec the containerizers take. With Docker BRIDGE port mappings, PORT0… are the mappings' host
// ports in their order (then any other port of the task), and PORT_<containerPort> names the
// host port of each container port, as Marathon sets them for bridged tasks.
import { maxPortVariables } from './limits.ts';
import path from 'node:path';
import type { WireContainer, WireHealthCheck, WireResource, WireTaskSpec } from '../protocol/agent.ts';
import type { ContainerizerKind, ContainerSpec } from './containerizer/types.ts';
import { persistentMounts } from './persistent-volumes.ts';

export function taskPorts(resources: readonly WireResource[]): number[] {
  const ports: number[] = [];
  for (const resource of resources) {
    if (resource.name !== 'ports' || resource.type !== 'RANGES') continue;
    for (const range of resource.ranges) {
      for (let port = range.begin; port <= range.end && ports.length < 65_536; port++) ports.push(port);
    }
  }
  return ports;
}

export function scalarSum(resources: readonly WireResource[], name: string): number | null {
  let total: number | null = null;
  for (const resource of resources)
    if (resource.name === name && resource.type === 'SCALAR') total = (total ?? 0) + resource.scalar;
  return total;
}

export function taskEnvironment(
  agentId: string,
  frameworkId: string,
  spec: WireTaskSpec,
  sandbox: string,
): Record<string, string> {
  const mappings = spec.container?.portMappings ?? [];
  const mapped = [...new Set(mappings.map((mapping) => mapping.hostPort))];
  const ports = [...mapped, ...taskPorts(spec.resources).filter((port) => !mapped.includes(port))];
  const environment: Record<string, string> = {
    MESOS_SANDBOX: sandbox,
    MESOS_TASK_ID: spec.id,
    MESOS_FRAMEWORK_ID: frameworkId,
    MESOS_AGENT_ID: agentId,
    MESOS_SLAVE_ID: agentId,
    MESOS_EXECUTOR_ID: spec.executorId ?? spec.id,
  };
  ports.slice(0, maxPortVariables).forEach((port, position) => {
    environment[`PORT${position}`] = String(port);
  });
  if (ports.length > 0) {
    environment.PORT = String(ports[0]);
    environment.PORTS = ports.join(',');
  }
  for (const mapping of mappings) environment[`PORT_${mapping.containerPort}`] ??= String(mapping.hostPort);
  return { ...environment, ...(spec.command?.environment ?? {}) };
}

/**
 * DOCKER tasks go to the docker containerizer, and so do MESOS tasks with an image (Mesos' unified
 * containerizer runs Docker images itself; here the engine does, rather than the image being
 * ignored); everything else to process.
 */
export function containerizerFor(spec: WireTaskSpec): ContainerizerKind {
  return containerizerOf(spec.container);
}

/** The same rule for any container, a framework executor's too. */
export function containerizerOf(container: WireContainer | null): ContainerizerKind {
  return container?.type === 'DOCKER' || (container?.image ?? null) !== null ? 'docker' : 'process';
}

export function containerSpec(
  agentId: string,
  frameworkId: string,
  spec: WireTaskSpec,
  sandbox: string,
  workDir: string,
): ContainerSpec {
  const command =
    spec.command === null
      ? null
      : { value: spec.command.value, shell: spec.command.shell, arguments: spec.command.arguments };
  return {
    agentId,
    frameworkId,
    taskId: spec.id,
    sandbox,
    command,
    image: spec.container?.image ?? null,
    forcePullImage: spec.container?.forcePullImage ?? false,
    network: spec.container?.network ?? 'HOST',
    portMappings: spec.container?.portMappings ?? [],
    volumes: spec.container?.volumes ?? [],
    persistentVolumes: persistentMounts(workDir, spec.resources),
    privileged: spec.container?.privileged ?? false,
    parameters: spec.container?.parameters ?? [],
    hostname: spec.container?.hostname ?? null,
    user: null,
    environment: taskEnvironment(agentId, frameworkId, spec, sandbox),
    cpus: scalarSum(spec.resources, 'cpus'),
    memMb: scalarSum(spec.resources, 'mem'),
  };
}

export function sandboxPath(workDir: string, frameworkId: string, taskId: string): string {
  return path.join(workDir, 'frameworks', frameworkId, 'tasks', taskId);
}

/**
 * Mesos probes a BRIDGE Docker task's HTTP or TCP check inside the container's network
 * namespace, so the check's port is a container port. The agent probes from the host, so a
 * container port with a mapping becomes its host port; any other port is probed as given.
 */
export function hostSideHealthCheck(spec: WireTaskSpec): WireHealthCheck | null {
  const check = spec.healthCheck;
  if (check === null || check.port === null || spec.container?.network !== 'BRIDGE') return check;
  const mapping = spec.container.portMappings.find(
    (candidate) => candidate.containerPort === check.port && candidate.protocol === 'tcp',
  );
  return mapping === undefined ? check : { ...check, port: mapping.hostPort };
}
