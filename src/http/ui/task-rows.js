// Tasks as the UI keeps them: one frozen record per task, made from Mesos' Task JSON (a
// SUBSCRIBED snapshot or TASK_ADDED) and replaced, never changed, on TASK_UPDATED; so a view can
// tell a changed row by identity. Filtering and ordering for the tasks page. Pure: runs in Node.
import { sumResources } from './resources.js';
import { taskStateNames, terminalTaskStates } from './task-states.js';

export { taskStateNames, terminalTaskStates };

export function isLive(state) {
  return !terminalTaskStates.has(state);
}

/** Status updates kept per task, as the master keeps them (maxStatusHistory). */
export const maxStatusesPerTask = 16;

/** The colour class of a task state (style.css): running green, failing red, waiting amber. */
export function taskStateClass(state) {
  switch (state) {
    case 'TASK_RUNNING':
      return 'state-running';
    case 'TASK_FINISHED':
    case 'TASK_KILLED':
      return 'state-done';
    case 'TASK_STAGING':
    case 'TASK_STARTING':
    case 'TASK_KILLING':
      return 'state-pending';
    case 'TASK_FAILED':
    case 'TASK_ERROR':
    case 'TASK_LOST':
    case 'TASK_DROPPED':
    case 'TASK_GONE':
      return 'state-failed';
    default:
      return 'state-unknown';
  }
}

export const taskKeyOf = (frameworkId, taskId) => `${frameworkId}/${taskId}`;

function statusOf(status) {
  return Object.freeze({
    state: String(status?.state ?? ''),
    timestampMs: typeof status?.timestamp === 'number' ? status.timestamp * 1000 : 0,
    message: typeof status?.message === 'string' ? status.message : '',
    reason: typeof status?.reason === 'string' ? status.reason : '',
    source: typeof status?.source === 'string' ? status.source : '',
    healthy: typeof status?.healthy === 'boolean' ? status.healthy : null,
  });
}

/** Fields that follow from the statuses: health, start and update times, the last message. */
function fromStatuses(statuses) {
  const latest = statuses[statuses.length - 1];
  let healthy = null;
  let startedAtMs = null;
  for (const status of statuses) {
    if (status.healthy !== null) healthy = status.healthy;
    if (startedAtMs === null && status.state === 'TASK_RUNNING') startedAtMs = status.timestampMs;
  }
  return {
    healthy,
    startedAtMs,
    updatedAtMs: latest?.timestampMs ?? 0,
    message: [latest?.message, latest?.reason].filter((part) => part !== undefined && part !== '').join(' — '),
  };
}

function containerOf(task) {
  if (typeof task.container?.docker?.image === 'string') return `docker ${task.container.docker.image}`;
  if (typeof task.container?.mesos?.image?.docker?.name === 'string') {
    return `image ${task.container.mesos.image.docker.name}`;
  }
  return 'process';
}

/** A record from Mesos' Task JSON. */
export function taskRecord(task) {
  const frameworkId = String(task?.framework_id?.value ?? '');
  const id = String(task?.task_id?.value ?? '');
  const statuses = (Array.isArray(task?.statuses) ? task.statuses : []).slice(-maxStatusesPerTask).map(statusOf);
  const amounts = sumResources(task?.resources);
  return Object.freeze({
    key: taskKeyOf(frameworkId, id),
    id,
    name: typeof task?.name === 'string' ? task.name : '',
    frameworkId,
    agentId: String(task?.agent_id?.value ?? ''),
    state: String(task?.state ?? 'TASK_UNKNOWN'),
    amounts,
    hasHealthCheck: task?.health_check !== undefined && task?.health_check !== null,
    container: containerOf(task),
    statuses: Object.freeze(statuses),
    ...fromStatuses(statuses),
  });
}

/** The record after TASK_UPDATED ({framework_id, status, state}). */
export function updatedRecord(record, update) {
  const statuses = [...record.statuses, statusOf(update.status)].slice(-maxStatusesPerTask);
  const derived = fromStatuses(statuses);
  return Object.freeze({
    ...record,
    state: String(update.state ?? update.status?.state ?? record.state),
    statuses: Object.freeze(statuses),
    ...derived,
    // A status lost to the history bound must not forget when the task started, or its health.
    startedAtMs: record.startedAtMs ?? derived.startedAtMs,
    healthy: derived.healthy ?? record.healthy,
  });
}

/**
 * The tasks page's filter: `state` is "", "live", "terminal" or a TASK_* name; `text` matches
 * (case-insensitively) the task's id, name, state, message, framework id and agent id, and the
 * names the lookups give (framework name, agent hostname).
 */
export function taskFilter({ state = '', text = '' }, names = { framework: () => '', agent: () => '' }) {
  const needle = text.trim().toLowerCase();
  const stateMatches =
    state === ''
      ? () => true
      : state === 'live'
        ? (record) => isLive(record.state)
        : state === 'terminal'
          ? (record) => !isLive(record.state)
          : (record) => record.state === state;
  if (needle === '') return stateMatches;
  return (record) =>
    stateMatches(record) &&
    [
      record.id,
      record.name,
      record.state,
      record.message,
      record.frameworkId,
      record.agentId,
      names.framework(record.frameworkId),
      names.agent(record.agentId),
    ].some((field) => field.toLowerCase().includes(needle));
}

/** Newest update first; ties by key, so the order is stable between redraws. */
export function compareTasks(left, right) {
  if (left.updatedAtMs !== right.updatedAtMs) return right.updatedAtMs - left.updatedAtMs;
  return left.key < right.key ? -1 : left.key > right.key ? 1 : 0;
}
