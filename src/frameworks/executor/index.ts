// The Flotilla executor SDK: a typed client of the Mesos v1 executor HTTP API, for a framework's
// own executor (started by an agent with the MESOS_* environment).
export {
  ExecutorClient,
  type ExecutorConnectionState,
  type ExecutorEventOf,
  type UpdateFields,
} from './client.ts';
export { ExecutorEnvironmentError, type ExecutorIdentity, executorIdentityFromEnvironment } from './environment.ts';
export type { ExecutorEvent, ExecutorEventType, TaskInfoJson } from '../../protocol/executor.ts';
export { isTerminalTaskState, type TaskReason, type TaskState } from '../../protocol/task-states.ts';
export { SchedulerError as ExecutorCallError } from '../sdk/errors.ts';
