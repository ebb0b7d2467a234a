// The TaskInfo of one attempt of a job run. Task ids are `<job id>_<run id>.<attempt>`
// (Metronome names tasks `<job id>_<run id>.<uuid>`): unique per framework, so a second
// launch of the same attempt is refused by the master (TASK_ID_ALREADY_USED), and the task
// names its run, which is how status updates find their run after a restart.
import type { Offer } from '../../protocol/mesos.ts';
import type { OfferMatch } from '../sdk/offer-matching.ts';
import { buildTaskInfo, type TaskCommand } from '../sdk/task-info.ts';
import type { TaskInfo } from '../sdk/wire.ts';
import type { JobSpec, RunId } from './model.ts';

export function taskIdFor(jobId: string, runId: RunId, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`taskIdFor: attempt must be >= 1, got ${attempt}`);
  return `${jobId}_${runId}.${attempt}`;
}

/** The job and run a task id names, or null for a task that is not ours. */
export function parseTaskId(taskId: string): { jobId: string; runId: string; attempt: number } | null {
  const match = /^(.+)_([0-9]{14}[A-Za-z0-9]+)\.([0-9]+)$/.exec(taskId);
  if (match === null) return null;
  return { jobId: match[1]!, runId: match[2]!, attempt: Number(match[3]) };
}

function commandOf(spec: JobSpec): TaskCommand | undefined {
  if (spec.run.cmd !== undefined) return { kind: 'shell', line: spec.run.cmd };
  if (spec.run.args !== undefined && spec.run.args.length > 0) return { kind: 'argv', argv: spec.run.args };
  return undefined;
}

export function buildJobTask(offer: Offer, match: OfferMatch, spec: JobSpec, runId: RunId, taskId: string): TaskInfo {
  const command = commandOf(spec);
  const task = buildTaskInfo(offer, match, {
    name: spec.id,
    taskId,
    ...(command === undefined ? {} : { command }),
    ...(spec.run.docker === undefined ? {} : { dockerImage: spec.run.docker.image }),
    environment: spec.run.env,
    labels: { ...spec.labels, 'flotilla.jobs/job': spec.id, 'flotilla.jobs/run': runId },
    ...(spec.run.taskKillGracePeriodSeconds === undefined
      ? {}
      : { killGracePeriodSeconds: spec.run.taskKillGracePeriodSeconds }),
  });
  // mesos.proto CommandInfo.user and .uris (artifacts, which the agent fetches into the sandbox).
  const uris = spec.run.artifacts.map((artifact) => ({
    value: artifact.uri,
    extract: artifact.extract,
    executable: artifact.executable,
    cache: artifact.cache,
  }));
  const commandInfo =
    task.command === undefined
      ? undefined
      : {
          ...task.command,
          ...(spec.run.user === undefined ? {} : { user: spec.run.user }),
          ...(uris.length === 0 ? {} : { uris }),
        };
  const docker = spec.run.docker;
  const container =
    task.container?.docker === undefined || docker === undefined
      ? task.container
      : {
          ...task.container,
          docker: {
            ...task.container.docker,
            force_pull_image: docker.forcePullImage,
            privileged: docker.privileged,
            parameters: docker.parameters.map((parameter) => ({ key: parameter.key, value: parameter.value })),
          },
          // job-spec.ts allows volumes with a Docker image only, each with a hostPath.
          volumes: spec.run.volumes.map((volume) => ({
            container_path: volume.containerPath,
            host_path: volume.hostPath ?? '',
            mode: volume.mode ?? 'RW',
          })),
        };
  return {
    ...task,
    ...(commandInfo === undefined ? {} : { command: commandInfo }),
    ...(container === undefined ? {} : { container }),
  };
}
