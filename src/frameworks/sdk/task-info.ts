// TaskInfo for a LAUNCH (mesos.proto): a shell command, an argv, or a Docker image, with the
// resources matched from an offer. Pure, apart from the task id drawn when none is given.
import { randomUUID } from 'node:crypto';
import type { CommandInfo, ContainerInfo, Offer } from '../../protocol/mesos.ts';
import type { OfferMatch } from './offer-matching.ts';
import type { TaskInfo } from './wire.ts';

export type TaskCommand =
  /** Runs through /bin/sh -c (CommandInfo.shell = true). */
  | { readonly kind: 'shell'; readonly line: string }
  /** Runs argv[0] with argv (CommandInfo.shell = false; Mesos passes `arguments` as argv, argv[0] included). */
  | { readonly kind: 'argv'; readonly argv: readonly string[] };

export interface TaskSpec {
  readonly name: string;
  /** Drawn as `<name>.<uuid>` when absent, as Marathon names its tasks. */
  readonly taskId?: string;
  /** Absent: the image's own command (Docker only). */
  readonly command?: TaskCommand;
  readonly dockerImage?: string;
  readonly dockerNetwork?: 'HOST' | 'BRIDGE' | 'NONE';
  readonly environment?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Between SIGTERM and SIGKILL when the task is killed. */
  readonly killGracePeriodSeconds?: number;
}

export class TaskSpecError extends Error {
  override name = 'TaskSpecError';
}

/** Task ids travel in URLs, file names and Docker labels: keep them to a safe alphabet. */
const taskIdPattern = /^[A-Za-z0-9._-]{1,200}$/;

export function newTaskId(name: string): string {
  const safeName = name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100) || 'task';
  return `${safeName}.${randomUUID()}`;
}

export function buildCommandInfo(command: TaskCommand, environment?: Readonly<Record<string, string>>): CommandInfo {
  const variables = Object.entries(environment ?? {}).map(([name, value]) => ({ name, type: 'VALUE' as const, value }));
  const withEnvironment = variables.length === 0 ? {} : { environment: { variables } };
  if (command.kind === 'shell') {
    if (command.line.trim() === '') throw new TaskSpecError('the shell command is empty');
    return { value: command.line, shell: true, ...withEnvironment };
  }
  if (command.argv.length === 0 || command.argv[0] === '') throw new TaskSpecError('the argv is empty');
  return { value: command.argv[0]!, shell: false, arguments: [...command.argv], ...withEnvironment };
}

export function buildContainerInfo(image: string, network: 'HOST' | 'BRIDGE' | 'NONE'): ContainerInfo {
  if (image.trim() === '') throw new TaskSpecError('the Docker image name is empty');
  return { type: 'DOCKER', docker: { image, network, force_pull_image: false } };
}

/** The TaskInfo that launches `spec` on `offer`'s agent with the `match`ed resources. */
export function buildTaskInfo(offer: Offer, match: OfferMatch, spec: TaskSpec): TaskInfo {
  const taskId = spec.taskId ?? newTaskId(spec.name);
  if (!taskIdPattern.test(taskId))
    throw new TaskSpecError(`the task id "${taskId}" must be 1–200 of A-Z a-z 0-9 . _ -`);
  if (spec.command === undefined && spec.dockerImage === undefined)
    throw new TaskSpecError('a task needs a command, a Docker image, or both');
  const labels = Object.entries(spec.labels ?? {}).map(([key, value]) => ({ key, value }));
  const grace = spec.killGracePeriodSeconds;
  if (grace !== undefined && !(grace >= 0))
    throw new TaskSpecError(`the kill grace period must be >= 0 seconds, got ${grace}`);
  return {
    name: spec.name,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: match.resources,
    ...(spec.command === undefined ? {} : { command: buildCommandInfo(spec.command, spec.environment) }),
    ...(spec.dockerImage === undefined
      ? {}
      : { container: buildContainerInfo(spec.dockerImage, spec.dockerNetwork ?? 'HOST') }),
    ...(labels.length === 0 ? {} : { labels: { labels } }),
    ...(grace === undefined ? {} : { kill_policy: { grace_period: { nanoseconds: Math.round(grace * 1e9) } } }),
  };
}
