// The web UI's pure half: operator API answers (Mesos v1 JSON, master.proto Response.GetState,
// GET_RAFT, GET_ALLOCATION, /health) turned into plain rows for the view. No DOM, no fetch, no
// clock (the time is passed in), so test/http/ui.test.ts runs these functions in Node.

/** Rows drawn per table at most: a cluster of 100 000 tasks must not freeze the tab. */
export const maxRowsPerTable = 500;

/** Resources drawn as bars, in this order; others are listed as text. */
export const barResources = ['cpus', 'gpus', 'mem', 'disk', 'ports'];

/** Sums an endpoint-format resource list by name: scalars add, ranges count their members. */
export function sumResources(resources) {
  const totals = new Map();
  for (const resource of Array.isArray(resources) ? resources : []) {
    const name = typeof resource?.name === 'string' ? resource.name : null;
    if (name === null) continue;
    totals.set(name, (totals.get(name) ?? 0) + resourceAmount(resource));
  }
  return totals;
}

function resourceAmount(resource) {
  if (resource.type === 'SCALAR' && typeof resource.scalar?.value === 'number') return resource.scalar.value;
  if (resource.type === 'RANGES' && Array.isArray(resource.ranges?.range)) {
    return resource.ranges.range.reduce(
      (count, range) => count + Math.max(0, Number(range.end) - Number(range.begin) + 1),
      0,
    );
  }
  return 0;
}

/** "1.5", "2 GiB", "100 ports": `mem` and `disk` are megabytes in Mesos. */
export function formatAmount(name, amount) {
  if (name === 'mem' || name === 'disk') {
    return amount >= 1024 ? `${trimNumber(amount / 1024)} GiB` : `${trimNumber(amount)} MiB`;
  }
  return trimNumber(amount);
}

function trimNumber(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

/** One bar per resource the agent has: used and offered as fractions of total (0..1). */
export function resourceBars(agent) {
  const total = sumResources(agent.total_resources);
  const used = sumResources(agent.allocated_resources);
  const offered = sumResources(agent.offered_resources);
  const names = [
    ...barResources.filter((name) => total.has(name)),
    ...[...total.keys()].filter((name) => !barResources.includes(name)).sort(),
  ];
  return names.map((name) => {
    const capacity = total.get(name) ?? 0;
    const usedAmount = used.get(name) ?? 0;
    const offeredAmount = offered.get(name) ?? 0;
    return {
      name,
      total: capacity,
      used: usedAmount,
      offered: offeredAmount,
      usedFraction: fraction(usedAmount, capacity),
      offeredFraction: fraction(offeredAmount, capacity),
      label: `${name}: ${formatAmount(name, usedAmount)} used, ${formatAmount(name, offeredAmount)} offered of ${formatAmount(name, capacity)}`,
    };
  });
}

function fraction(part, whole) {
  if (!(whole > 0)) return 0;
  return Math.min(1, Math.max(0, part / whole));
}

/** "rack=r1, generation=3" from Mesos attributes (TEXT, SCALAR, RANGES, SET). */
export function formatAttributes(attributes) {
  return (Array.isArray(attributes) ? attributes : [])
    .map((attribute) => `${attribute.name}=${attributeValue(attribute)}`)
    .join(', ');
}

function attributeValue(attribute) {
  switch (attribute.type) {
    case 'TEXT':
      return String(attribute.text?.value ?? '');
    case 'SCALAR':
      return String(attribute.scalar?.value ?? '');
    case 'RANGES':
      return (attribute.ranges?.range ?? []).map((range) => `[${range.begin}-${range.end}]`).join(',');
    case 'SET':
      return `{${(attribute.set?.item ?? []).join(',')}}`;
    default:
      return '';
  }
}

export function agentRows(getAgents) {
  return (getAgents?.agents ?? []).map((agent) => ({
    id: agent.agent_info?.id?.value ?? '',
    hostname: agent.agent_info?.hostname ?? '',
    state: agent.deactivated ? 'DRAINING' : agent.active ? 'ACTIVE' : 'INACTIVE',
    zone: agent.agent_info?.domain?.fault_domain?.zone?.name ?? '',
    bars: resourceBars(agent),
    attributes: formatAttributes(agent.agent_info?.attributes),
  }));
}

/**
 * Mesos' isTerminalState (src/state-machine/task-states.ts): GetTasks.tasks also holds terminal
 * tasks whose last update is not acknowledged yet, so the list alone does not say "live".
 */
const terminalTaskStates = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/** Live (not terminal) tasks per framework id. */
function liveTaskCounts(getTasks) {
  const counts = new Map();
  for (const task of [...(getTasks?.tasks ?? []), ...(getTasks?.unreachable_tasks ?? [])]) {
    if (terminalTaskStates.has(task.state)) continue;
    const id = task.framework_id?.value ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** `allocation` is GET_ALLOCATION's report, or null when this master cannot give it (a follower). */
export function frameworkRows(getFrameworks, getTasks, allocation) {
  const counts = liveTaskCounts(getTasks);
  const shares = new Map((allocation?.frameworks ?? []).map((report) => [report.frameworkId, report.dominantShare]));
  const row = (framework, completed) => {
    const id = framework.framework_info?.id?.value ?? '';
    const share = shares.get(id);
    return {
      id,
      name: framework.framework_info?.name ?? '',
      roles: (framework.framework_info?.roles ?? []).join(', '),
      state: completed ? 'COMPLETED' : framework.connected ? 'CONNECTED' : 'DISCONNECTED',
      tasks: counts.get(id) ?? 0,
      dominantShare:
        typeof share === 'number' ? `${(share * 100).toFixed(1)}%` : allocation === null ? 'on the leader' : '',
    };
  };
  return [
    ...(getFrameworks?.frameworks ?? []).map((framework) => row(framework, false)),
    ...(getFrameworks?.completed_frameworks ?? []).map((framework) => row(framework, true)),
  ];
}

/** The colour class of a task state (style.css): running green, failing red, waiting amber. */
export function taskStateClass(state) {
  switch (state) {
    case 'TASK_RUNNING':
      return 'state-running';
    case 'TASK_FINISHED':
      return 'state-finished';
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
    case 'TASK_UNREACHABLE':
    case 'TASK_GONE_BY_OPERATOR':
    case 'TASK_UNKNOWN':
      return 'state-unknown';
    case 'TASK_KILLED':
      return 'state-killed';
    default:
      return 'state-unknown';
  }
}

/** Every task, newest update first, with names looked up from the same GET_STATE answer. */
export function taskRows(state) {
  const frameworkNames = new Map(
    [...(state?.get_frameworks?.frameworks ?? []), ...(state?.get_frameworks?.completed_frameworks ?? [])].map(
      (framework) => [framework.framework_info?.id?.value, framework.framework_info?.name ?? ''],
    ),
  );
  const hostnames = new Map(
    (state?.get_agents?.agents ?? []).map((agent) => [agent.agent_info?.id?.value, agent.agent_info?.hostname ?? '']),
  );
  const tasks = state?.get_tasks ?? {};
  const all = [...(tasks.tasks ?? []), ...(tasks.unreachable_tasks ?? []), ...(tasks.completed_tasks ?? [])];
  return all
    .map((task) => taskRow(task, frameworkNames, hostnames))
    .sort((left, right) => right.updatedSeconds - left.updatedSeconds);
}

function taskRow(task, frameworkNames, hostnames) {
  const statuses = Array.isArray(task.statuses) ? task.statuses : [];
  const latest = statuses[statuses.length - 1];
  const frameworkId = task.framework_id?.value ?? '';
  const agentId = task.agent_id?.value ?? '';
  return {
    id: task.task_id?.value ?? '',
    name: task.name ?? '',
    frameworkId,
    frameworkName: frameworkNames.get(frameworkId) ?? '',
    agentId,
    hostname: hostnames.get(agentId) ?? '',
    state: task.state ?? '',
    stateClass: taskStateClass(task.state),
    message: [latest?.message, latest?.reason].filter((part) => typeof part === 'string' && part !== '').join(' — '),
    updatedSeconds: typeof latest?.timestamp === 'number' ? latest.timestamp : 0,
  };
}

/** Case-insensitive substring match over the columns a reader sees; an empty filter keeps all. */
export function filterTasks(rows, filterText) {
  const needle = filterText.trim().toLowerCase();
  if (needle === '') return rows;
  return rows.filter((row) =>
    [row.id, row.name, row.frameworkId, row.frameworkName, row.agentId, row.hostname, row.state, row.message].some(
      (field) => field.toLowerCase().includes(needle),
    ),
  );
}

/** "just now", "12s ago", "3m ago", "2h ago", "4d ago". */
export function formatAgo(thenMs, nowMs) {
  const seconds = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

const leaderAddressPattern = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]{2,45}\]:\d{1,5}$/;

/**
 * The leader's UI as a link, or null: only a host:port from /health becomes a URL, with this
 * page's scheme, so a strange answer can never make a javascript: link.
 */
export function leaderUrl(leaderAddress, protocol) {
  if (typeof leaderAddress !== 'string' || !leaderAddressPattern.test(leaderAddress)) return null;
  const scheme = protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${leaderAddress}/`;
}

/** Members for the Raft table; `match` is known on the leader only. */
export function memberRows(raft) {
  return (raft?.members ?? []).map((member) => ({
    id: String(member.id ?? ''),
    address: String(member.address ?? ''),
    role: String(member.role ?? ''),
    match: member.match === null || member.match === undefined ? '—' : String(member.match),
    progress: member.state === null || member.state === undefined ? '—' : String(member.state),
    isLeader: member.id === raft.leaderId,
    isSelf: member.id === raft.id,
  }));
}
