// JobSpec from JSON, following Metronome's v1 schema (api/.../v1/schema/jobspec.schema.json)
// and its readers (api/v1/models: defaults for everything the schema leaves optional). The
// schema requires run.cpus, run.mem and run.disk; everything else has Metronome's default.
// Fields Metronome accepts but Flotilla cannot honour (secrets, ucr, networks, gpus, artifact URIs
// the agent cannot fetch, volumes without a Docker image, docker parameters the agents cannot
// express) are refused with a 422 naming them rather than silently dropped or refused by the
// master at every launch.
import { uriValueProblem } from '../../protocol/command-uris.ts';
import { DockerParameterError, parseDockerParameter } from '../../protocol/docker-parameters.ts';
import { maxDependenciesPerJob, maxJobIdLength, maxJobSpecBytes, maxSecondsValue } from './limits.ts';
import {
  type Artifact,
  type Constraint,
  constraintOperators,
  type DockerSpec,
  type JobId,
  type JobSpec,
  restartPolicies,
  type RunSpec,
  type Volume,
} from './model.ts';
import { defaultMaxLaunchDelaySeconds } from './limits.ts';
import {
  isObject,
  type Json,
  Problems,
  readBoolean,
  readEnum,
  readList,
  readNumber,
  readObject,
  readString,
  readStringMap,
  rejectUnknownFields,
} from './validation.ts';

/** Metronome's pathType: dot-separated names of a-z 0-9 and inner dashes. */
const jobIdPattern = /^([a-z0-9]+(-[a-z0-9]+)*)(\.([a-z0-9]+(-[a-z0-9]+)*))*$/;
const jobFields = ['id', 'description', 'labels', 'run', 'schedules', 'dependencies'];
const runFields = [
  'args',
  'artifacts',
  'cmd',
  'cpus',
  'gpus',
  'disk',
  'networks',
  'ucr',
  'docker',
  'env',
  'maxLaunchDelay',
  'mem',
  'placement',
  'user',
  'taskKillGracePeriodSeconds',
  'restart',
  'volumes',
  'secrets',
];

export function isValidJobId(id: string): boolean {
  return id.length <= maxJobIdLength && jobIdPattern.test(id);
}

export function checkJobId(id: string, path: string, problems: Problems): void {
  if (id.length > maxJobIdLength) problems.add(path, `must be at most ${maxJobIdLength} characters`);
  else if (!jobIdPattern.test(id)) {
    problems.add(
      path,
      'must be names of a-z, 0-9 and dashes, separated by dots; a name neither starts nor ends with a dash',
    );
  }
}

export interface ParsedJob {
  readonly spec: JobSpec;
  /** The raw `schedules` array, when given (read by schedule-spec.ts). */
  readonly schedules: readonly unknown[] | undefined;
}

/** The JobSpec in `body`, or the problems; `pathId` (PUT /v1/jobs/{id}) replaces the body's id. */
export function parseJobSpec(body: unknown, pathId?: string): ParsedJob | Problems {
  const problems = new Problems();
  if (!isObject(body)) {
    problems.add('', 'a JobSpec must be a JSON object');
    return problems;
  }
  if (JSON.stringify(body).length > maxJobSpecBytes) {
    problems.add('', `a JobSpec is at most ${maxJobSpecBytes} bytes of JSON`);
    return problems;
  }
  rejectUnknownFields(body, jobFields, '', problems);
  const id = pathId ?? readString(body, 'id', '', problems, { required: true, minLength: 1 });
  if (id !== undefined) checkJobId(id, '/id', problems);
  const description = readString(body, 'description', '', problems);
  const labels = readStringMap(body, 'labels', '', problems);
  const runObject = readObject(body, 'run', '', problems);
  if (runObject === undefined && body.run === undefined) problems.add('/run', 'is required');
  const run = runObject === undefined ? undefined : readRunSpec(runObject, problems);
  const dependencies = readDependencies(body, id, problems);
  const schedules = body.schedules;
  if (schedules !== undefined && !Array.isArray(schedules)) problems.add('/schedules', 'must be an array');
  if (!problems.empty || id === undefined || run === undefined) return problems;
  const spec: JobSpec = {
    id: id as JobId,
    ...(description === undefined ? {} : { description }),
    labels,
    run,
    dependencies,
  };
  return { spec, schedules: Array.isArray(schedules) ? schedules : undefined };
}

function readDependencies(body: Json, ownId: string | undefined, problems: Problems): { id: JobId }[] {
  const dependencies = readList(body, 'dependencies', '', problems, (item, path) => {
    if (!isObject(item)) {
      problems.add(path, 'must be an object {"id": "<job id>"}');
      return undefined;
    }
    const id = readString(item, 'id', path, problems, { required: true, minLength: 1 });
    if (id === undefined) return undefined;
    checkJobId(id, `${path}/id`, problems);
    if (id === ownId) problems.add(`${path}/id`, 'a job cannot depend on itself');
    return { id: id as JobId };
  });
  if (dependencies.length > maxDependenciesPerJob)
    problems.add('/dependencies', `a job has at most ${maxDependenciesPerJob} dependencies`);
  const ids = dependencies.map((dependency) => dependency.id);
  if (new Set(ids).size !== ids.length) problems.add('/dependencies', 'a dependency is listed twice');
  return dependencies;
}

function readRunSpec(run: Json, problems: Problems): RunSpec | undefined {
  rejectUnknownFields(run, runFields, '/run', problems);
  const cpus = readNumber(run, 'cpus', '/run', problems, { required: true, minimum: 0.01 });
  const mem = readNumber(run, 'mem', '/run', problems, { required: true, minimum: 32 });
  const disk = readNumber(run, 'disk', '/run', problems, { required: true, minimum: 0 });
  const gpus = readNumber(run, 'gpus', '/run', problems, { integer: true, minimum: 0 }) ?? 0;
  if (gpus > 0) problems.add('/run/gpus', 'Flotilla agents offer no GPUs');
  const cmd = readString(run, 'cmd', '/run', problems, { minLength: 1 });
  const args = run.args === undefined ? undefined : readStrings(run, 'args', problems);
  const user = readString(run, 'user', '/run', problems);
  const maxLaunchDelay =
    readNumber(run, 'maxLaunchDelay', '/run', problems, { integer: true, minimum: 1, maximum: maxSecondsValue }) ??
    defaultMaxLaunchDelaySeconds;
  const grace = readNumber(run, 'taskKillGracePeriodSeconds', '/run', problems, { minimum: 0, maximum: 3600 });
  const docker = readDocker(run, problems);
  refuseUnsupported(run, problems);
  if (cmd !== undefined && args !== undefined)
    problems.add('/run', 'It is invalid to supply both cmd and args in the same job');
  if (cmd === undefined && args === undefined && docker === undefined)
    problems.add('/run', 'Cmd, docker or ucr image must be specified');
  const restart = readRestart(run, problems);
  const env = readEnvironment(run, problems);
  const placement = readPlacement(run, problems);
  const artifacts = readList(run, 'artifacts', '/run', problems, readArtifact(problems));
  const volumes = readList(run, 'volumes', '/run', problems, readVolume(problems));
  if (artifacts.length > 0 && cmd === undefined && args === undefined)
    problems.add('/run/artifacts', 'artifacts are fetched for a cmd or args; an image entrypoint gets none');
  checkVolumes(volumes, docker !== undefined, problems);
  if (cpus === undefined || mem === undefined || disk === undefined) return undefined;
  return {
    cpus,
    mem,
    disk,
    gpus,
    ...(cmd === undefined ? {} : { cmd }),
    ...(args === undefined ? {} : { args }),
    ...(user === undefined ? {} : { user }),
    env,
    placement,
    artifacts,
    maxLaunchDelay,
    ...(docker === undefined ? {} : { docker }),
    volumes,
    restart,
    ...(grace === undefined ? {} : { taskKillGracePeriodSeconds: grace }),
  };
}

function readStrings(run: Json, field: string, problems: Problems): string[] {
  return readList(run, field, '/run', problems, (item, path) => {
    if (typeof item === 'string') return item;
    problems.add(path, 'must be a string');
    return undefined;
  });
}

/** Secrets, UCR and CNI networks need machinery Flotilla agents do not have: say so. */
function refuseUnsupported(run: Json, problems: Problems): void {
  if (run.secrets !== undefined && !(isObject(run.secrets) && Object.keys(run.secrets).length === 0))
    problems.add('/run/secrets', 'secrets are not supported by Flotilla (no secret store)');
  if (run.ucr !== undefined) problems.add('/run/ucr', 'the UCR containerizer is not supported; use docker');
  if (run.networks !== undefined && !(Array.isArray(run.networks) && run.networks.length === 0))
    problems.add('/run/networks', 'networks are not supported; tasks use the host network');
}

function readRestart(run: Json, problems: Problems): RunSpec['restart'] {
  const restart = readObject(run, 'restart', '/run', problems);
  if (restart === undefined) return { policy: 'NEVER' };
  rejectUnknownFields(restart, ['policy', 'activeDeadlineSeconds'], '/run/restart', problems);
  const policy = readEnum(restart, 'policy', restartPolicies, '/run/restart', problems) ?? 'NEVER';
  const deadline = readNumber(restart, 'activeDeadlineSeconds', '/run/restart', problems, {
    integer: true,
    minimum: 0,
    maximum: maxSecondsValue,
  });
  return { policy, ...(deadline === undefined ? {} : { activeDeadlineSeconds: deadline }) };
}

function readEnvironment(run: Json, problems: Problems): Record<string, string> {
  const env = readObject(run, 'env', '/run', problems);
  if (env === undefined) return {};
  for (const [name, value] of Object.entries(env)) {
    if (isObject(value)) problems.add(`/run/env/${name}`, 'secrets are not supported by Flotilla (no secret store)');
  }
  return readStringMap(run, 'env', '/run', problems);
}

function readDocker(run: Json, problems: Problems): DockerSpec | undefined {
  const docker = readObject(run, 'docker', '/run', problems);
  if (docker === undefined) return undefined;
  rejectUnknownFields(docker, ['image', 'forcePullImage', 'privileged', 'parameters'], '/run/docker', problems);
  const image = readString(docker, 'image', '/run/docker', problems, { required: true, minLength: 1 });
  const parameters = readList(docker, 'parameters', '/run/docker', problems, (item, path) => {
    if (!isObject(item)) return void problems.add(path, 'must be an object {"key","value"}');
    const key = readString(item, 'key', path, problems, { required: true });
    const value = readString(item, 'value', path, problems, { required: true });
    if (key === undefined || value === undefined) return undefined;
    try {
      // Job tasks run on the host network (buildTaskInfo's default).
      parseDockerParameter(key, value, 'HOST');
    } catch (error) {
      if (!(error instanceof DockerParameterError)) throw error;
      problems.add(path, error.message);
    }
    return { key, value };
  });
  if (image === undefined) return undefined;
  return {
    image,
    forcePullImage: readBoolean(docker, 'forcePullImage', '/run/docker', problems) ?? false,
    privileged: readBoolean(docker, 'privileged', '/run/docker', problems) ?? false,
    parameters,
  };
}

function readPlacement(run: Json, problems: Problems): RunSpec['placement'] {
  const placement = readObject(run, 'placement', '/run', problems);
  if (placement === undefined) return { constraints: [] };
  rejectUnknownFields(placement, ['constraints'], '/run/placement', problems);
  const constraints = readList(placement, 'constraints', '/run/placement', problems, (item, path) => {
    if (!isObject(item)) return void problems.add(path, 'must be an object');
    rejectUnknownFields(item, ['attribute', 'operator', 'value'], path, problems);
    const attribute = readString(item, 'attribute', path, problems, { required: true, minLength: 1 });
    const operator = readEnum(item, 'operator', constraintOperators, path, problems);
    if (item.operator === undefined) problems.add(`${path}/operator`, 'is required');
    const value = readString(item, 'value', path, problems);
    if (value === undefined) problems.add(`${path}/value`, 'is required for this operator');
    if (value !== undefined && (operator === 'LIKE' || operator === 'UNLIKE') && !isRegularExpression(value))
      problems.add(`${path}/value`, 'is not a valid regular expression');
    if (attribute === undefined || operator === undefined || value === undefined) return undefined;
    return { attribute, operator, value } satisfies Constraint;
  });
  return { constraints };
}

function isRegularExpression(text: string): boolean {
  try {
    new RegExp(`^(?:${text})$`);
    return true;
  } catch {
    return false;
  }
}

function readArtifact(problems: Problems): (item: unknown, path: string) => Artifact | undefined {
  return (item, path) => {
    if (!isObject(item)) return void problems.add(path, 'must be an object');
    rejectUnknownFields(item, ['uri', 'extract', 'executable', 'cache'], path, problems);
    const uri = readString(item, 'uri', path, problems, { required: true, minLength: 1 });
    if (uri === undefined) return undefined;
    // What the agent cannot fetch is refused here, not by the master at every launch.
    const problem = uriValueProblem(uri);
    if (problem !== null) problems.add(`${path}/uri`, `the URI ${problem}`);
    return {
      uri,
      extract: readBoolean(item, 'extract', path, problems) ?? true,
      executable: readBoolean(item, 'executable', path, problems) ?? false,
      cache: readBoolean(item, 'cache', path, problems) ?? false,
    };
  };
}

function readVolume(problems: Problems): (item: unknown, path: string) => Volume | undefined {
  return (item, path) => {
    if (!isObject(item)) return void problems.add(path, 'must be an object');
    rejectUnknownFields(item, ['containerPath', 'hostPath', 'mode', 'secret'], path, problems);
    if (item.secret !== undefined) problems.add(`${path}/secret`, 'secret volumes are not supported');
    const containerPath = readString(item, 'containerPath', path, problems, { required: true, minLength: 1 });
    const hostPath = readString(item, 'hostPath', path, problems, { required: true, minLength: 1 });
    const mode = readEnum(item, 'mode', ['RO', 'RW'] as const, path, problems);
    if (containerPath === undefined) return undefined;
    return { containerPath, ...(hostPath === undefined ? {} : { hostPath }), ...(mode === undefined ? {} : { mode }) };
  };
}

/** ":" and "," separate the parts of a Docker bind; ".." would climb out of the sandbox. */
function badBindPath(value: string): string | null {
  if (/[:,\0]/.test(value)) return 'must not contain ":", "," or NUL';
  if (!value.startsWith('/') && value.split('/').includes('..')) return 'a relative path must not contain ".."';
  return null;
}

/** What the masters and agents check of container.volumes, checked once when the job is written. */
function checkVolumes(volumes: readonly Volume[], hasDocker: boolean, problems: Problems): void {
  if (volumes.length > 0 && !hasDocker)
    problems.add('/run/volumes', 'volumes need run.docker: Flotilla mounts volumes into Docker containers only');
  const seen = new Set<string>();
  volumes.forEach((volume, index) => {
    const containerProblem = badBindPath(volume.containerPath);
    if (containerProblem !== null) problems.add(`/run/volumes/${index}/containerPath`, containerProblem);
    const hostProblem = volume.hostPath === undefined ? null : badBindPath(volume.hostPath);
    if (hostProblem !== null) problems.add(`/run/volumes/${index}/hostPath`, hostProblem);
    if (seen.has(volume.containerPath))
      problems.add(`/run/volumes/${index}/containerPath`, `${volume.containerPath} is mounted twice`);
    seen.add(volume.containerPath);
  });
}
