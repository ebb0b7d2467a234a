// Mesos ExecutorInfo JSON (mesos.proto ExecutorInfo) → the state machine's ExecutorDefinition.
// A LAUNCH names a framework's executor (CUSTOM: its command runs on the agent as a process, or,
// with a DOCKER container or a MESOS one with an image, inside that image: the container is read
// as a task's is, parseContainer, and held to the same rules plus the executor's own,
// executorContainerProblem); a LAUNCH_GROUP names the group's DEFAULT executor, which Flotilla's
// agent runs itself. What the agent cannot honour is a 400 naming the field, never dropped:
// ExecutorInfo.data (TaskInfo.data reaches the executor instead), a DEFAULT executor's image.
import { executorContainerProblem } from '../../state-machine/container-rules.ts';
import { executorDefinitionSchema } from '../../state-machine/value-schema.ts';
import type { ExecutorDefinition } from '../../state-machine/values.ts';
import { HttpError } from '../errors.ts';
import { parseWith } from '../operator/fields.ts';
import {
  enumField,
  type Fields,
  isUnset,
  member,
  optionalIdField,
  optionalMessage,
  optionalNumberField,
  optionalString,
  requiredIdField,
} from './json-fields.ts';
import { parseResources } from './parse-resources.ts';
import { parseCommand, parseContainer, parseLabels } from './parse-task.ts';

const nanosecondsPerMillisecond = 1_000_000;

/**
 * `operation`: which executor type the call may name; an unset `type` is taken as that one
 * (Mesos sets CUSTOM for frameworks older than the field; a LAUNCH_GROUP can only mean DEFAULT).
 */
export function parseExecutorInfo(
  executor: Fields,
  path: string,
  frameworkId: string,
  operation: 'LAUNCH' | 'LAUNCH_GROUP',
): ExecutorDefinition {
  const expected = operation === 'LAUNCH' ? 'CUSTOM' : 'DEFAULT';
  const type = enumField(executor, 'type', `${path}.type`, ['CUSTOM', 'DEFAULT'], expected);
  if (type !== expected)
    throw new HttpError('INVALID_BODY', `${path}.type must be '${expected}' for a ${operation} (not '${type}')`);
  const named = optionalIdField(executor, 'framework_id', `${path}.framework_id`);
  if (named !== null && named !== frameworkId)
    throw new HttpError('INVALID_BODY', `${path}.framework_id is not the framework of the call`);
  if (!isUnset(member(executor, 'data')))
    throw new HttpError('INVALID_BODY', `${path}.data: Flotilla does not carry ExecutorInfo.data; use TaskInfo.data`);
  const command = optionalMessage(executor, 'command', `${path}.command`);
  if (type === 'CUSTOM' && command === null)
    throw new HttpError('INVALID_BODY', `${path}.command must be set for a 'CUSTOM' executor`);
  if (type === 'DEFAULT' && command !== null)
    throw new HttpError('INVALID_BODY', `${path}.command must not be set for a 'DEFAULT' executor`);
  const container = optionalMessage(executor, 'container', `${path}.container`);
  const grace = optionalMessage(executor, 'shutdown_grace_period', `${path}.shutdown_grace_period`);
  const nanoseconds =
    grace === null ? null : optionalNumberField(grace, 'nanoseconds', `${path}.shutdown_grace_period.nanoseconds`);
  const candidate: ExecutorDefinition = {
    id: requiredIdField(executor, 'executor_id', `${path}.executor_id`) as ExecutorDefinition['id'],
    type,
    name: optionalString(executor, 'name', `${path}.name`) || null,
    command: command === null ? null : parseCommand(command, `${path}.command`),
    resources: parseResources(executor, 'resources', `${path}.resources`),
    shutdownGracePeriodMs: nanoseconds === null ? null : Math.floor(nanoseconds / nanosecondsPerMillisecond),
    labels: parseLabels(executor, `${path}.labels`),
    container: container === null ? null : parseContainer(container, `${path}.container`),
  };
  if (type === 'CUSTOM' && candidate.command === null)
    throw new HttpError('INVALID_BODY', `${path}.command.value is required: the agent runs it`);
  const definition = parseWith(executorDefinitionSchema, candidate, path);
  const problem = executorContainerProblem(definition);
  if (problem !== null) throw new HttpError('INVALID_BODY', `${path}.${problem.field}: ${problem.message}`);
  return definition;
}
