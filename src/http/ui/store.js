// The page's model of the cluster, kept from the operator event stream (master.proto Event):
// SUBSCRIBED's snapshot resets it, then every TASK_ADDED, TASK_UPDATED, AGENT_ADDED, … changes
// only what it names, in O(1). What the stream does not carry (resources offered on an agent, a
// drain started) comes from a periodic GET_AGENTS, which is small next to the tasks.
//
// Derived numbers are kept incrementally too — tasks per state, live tasks and resources used
// per agent and per framework — so a page with 10,000 tasks never walks them to draw a chart.
// Each collection has a revision that grows when it changes: views redraw only what changed.
// Pure (no DOM, no fetch, no clock): test/http/ui.test.ts feeds it a real master's stream.
import { addAmounts, sumResources } from './resources.js';
import { isLive, taskKeyOf, taskRecord, updatedRecord } from './task-rows.js';

/** Mesos attributes as "name=value" text (TEXT, SCALAR, RANGES, SET). */
export function formatAttributes(attributes) {
  return (Array.isArray(attributes) ? attributes : [])
    .map((attribute) => `${attribute?.name}=${attributeValue(attribute)}`)
    .join(', ');
}

function attributeValue(attribute) {
  switch (attribute?.type) {
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

const nanosecondsPerMillisecond = 1e6;
const millisecondsOf = (time) =>
  typeof time?.nanoseconds === 'number' ? time.nanoseconds / nanosecondsPerMillisecond : 0;

/**
 * An agent from master.proto GetAgents.Agent. `state` is ACTIVE, DRAINING (DRAIN_AGENT: drain_info,
 * whose state is `drainState`), DEACTIVATED (DEACTIVATE_AGENT) or INACTIVE.
 */
export function agentRecord(agent) {
  const info = agent?.agent_info ?? {};
  return Object.freeze({
    id: String(info.id?.value ?? ''),
    hostname: String(info.hostname ?? ''),
    port: Number(info.port ?? 0),
    zone: String(info.domain?.fault_domain?.zone?.name ?? ''),
    attributes: formatAttributes(info.attributes),
    total: sumResources(agent?.total_resources ?? info.resources),
    offered: sumResources(agent?.offered_resources),
    state: agent?.drain_info
      ? 'DRAINING'
      : agent?.deactivated
        ? 'DEACTIVATED'
        : agent?.active === false
          ? 'INACTIVE'
          : 'ACTIVE',
    drainState: typeof agent?.drain_info?.state === 'string' ? agent.drain_info.state : '',
    registeredAtMs: millisecondsOf(agent?.registered_time),
    version: String(agent?.version ?? ''),
  });
}

/** A framework from master.proto GetFrameworks.Framework. */
export function frameworkRecord(framework, completed) {
  const info = framework?.framework_info ?? {};
  return Object.freeze({
    id: String(info.id?.value ?? ''),
    name: String(info.name ?? ''),
    roles: Array.isArray(info.roles) ? info.roles.map(String) : typeof info.role === 'string' ? [info.role] : [],
    principal: typeof info.principal === 'string' ? info.principal : '',
    state: completed ? 'COMPLETED' : framework?.connected ? 'CONNECTED' : 'DISCONNECTED',
    registeredAtMs: millisecondsOf(framework?.registered_time),
    offers: Array.isArray(framework?.offers) ? framework.offers.length : 0,
    allocated: sumResources(framework?.allocated_resources),
    offered: sumResources(framework?.offered_resources),
  });
}

const increment = (map, key, by) => {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key);
  else map.set(key, next);
};

export class ClusterStore {
  tasks = new Map();
  agents = new Map();
  frameworks = new Map();
  /** Tasks per state. */
  stateCounts = new Map();
  liveTasksByFramework = new Map();
  tasksByFramework = new Map();
  liveTasksByAgent = new Map();
  /** Resources of live tasks per agent: Map(agent id → Map(name → amount)). */
  usedByAgent = new Map();
  revision = { tasks: 0, agents: 0, frameworks: 0 };
  /** Records applied since the last snapshot, and whether a snapshot was ever loaded. */
  eventsApplied = 0;
  loaded = false;
  /** Grows with every snapshot: an answer asked for before the last one is about another state. */
  generation = 0;
  /** Per agent, `eventsApplied` when an event last put it: newer than any poll asked before. */
  #agentEvents = new Map();
  /** Every task record in arrival order, and each one's position in it. */
  #taskList = [];
  #taskPositions = new Map();

  /** SUBSCRIBED: the whole state, replacing what was there. */
  reset(getState) {
    this.tasks = new Map();
    this.#taskList = [];
    this.#taskPositions = new Map();
    this.stateCounts = new Map();
    this.liveTasksByFramework = new Map();
    this.tasksByFramework = new Map();
    this.liveTasksByAgent = new Map();
    this.usedByAgent = new Map();
    this.agents = new Map();
    this.#agentEvents = new Map();
    this.frameworks = new Map();
    const tasks = getState?.get_tasks ?? {};
    for (const list of ['tasks', 'unreachable_tasks', 'completed_tasks', 'orphan_tasks']) {
      for (const task of tasks[list] ?? []) this.#putTask(taskRecord(task));
    }
    for (const agent of getState?.get_agents?.agents ?? []) this.#putAgent(agentRecord(agent));
    const frameworks = getState?.get_frameworks ?? {};
    for (const framework of frameworks.frameworks ?? []) this.#putFramework(frameworkRecord(framework, false));
    for (const framework of frameworks.completed_frameworks ?? []) this.#putFramework(frameworkRecord(framework, true));
    this.eventsApplied = 0;
    this.generation += 1;
    this.loaded = true;
    this.revision.tasks += 1;
    this.revision.agents += 1;
    this.revision.frameworks += 1;
  }

  /** One event after SUBSCRIBED. Returns what changed: "tasks", "agents", "frameworks" or null. */
  apply(event) {
    this.eventsApplied += 1;
    switch (event?.type) {
      case 'TASK_ADDED':
        this.#putTask(taskRecord(event.task_added?.task));
        return this.#touched('tasks');
      case 'TASK_UPDATED':
        return this.#updateTask(event.task_updated) ? this.#touched('tasks') : null;
      case 'AGENT_ADDED': {
        const record = agentRecord(event.agent_added?.agent);
        this.#putAgent(record);
        this.#agentEvents.set(record.id, this.eventsApplied);
        return this.#touched('agents');
      }
      case 'AGENT_REMOVED': {
        const id = String(event.agent_removed?.agent_id?.value ?? '');
        this.#agentEvents.set(id, this.eventsApplied);
        return this.#removeAgent(id) ? this.#touched('agents') : null;
      }
      case 'FRAMEWORK_ADDED':
        this.#putFramework(frameworkRecord(event.framework_added?.framework, false));
        return this.#touched('frameworks');
      case 'FRAMEWORK_UPDATED':
        this.#putFramework(frameworkRecord(event.framework_updated?.framework, false));
        return this.#touched('frameworks');
      case 'FRAMEWORK_REMOVED':
        return this.#completeFramework(String(event.framework_removed?.framework_info?.id?.value ?? ''))
          ? this.#touched('frameworks')
          : null;
      default:
        // HEARTBEAT, and event types a newer master may add: nothing to change.
        return null;
    }
  }

  /** Where the stream is now; hand it back to mergeAgents with the answer of a poll started here. */
  position() {
    return { generation: this.generation, events: this.eventsApplied };
  }

  /**
   * A periodic GET_AGENTS, asked at `asked` (position()): offered resources and drain state,
   * which no event announces. Agents it no longer lists were removed (unreachable or gone), as
   * AGENT_REMOVED would say. An agent an event put after the question is newer than the answer,
   * and is left as the event put it; an answer from before the last snapshot is dropped.
   */
  mergeAgents(getAgents, asked) {
    if (asked.generation !== this.generation) return false;
    const newer = (id) => (this.#agentEvents.get(id) ?? -1) > asked.events;
    const listed = new Set();
    for (const agent of getAgents?.agents ?? []) {
      const record = agentRecord(agent);
      listed.add(record.id);
      if (!newer(record.id)) this.#putAgent(record);
    }
    for (const id of [...this.agents.keys()]) if (!listed.has(id) && !newer(id)) this.#removeAgent(id);
    this.#touched('agents');
    return true;
  }

  /** Every task, in arrival order. Read-only for callers: the store swaps updated records in place. */
  taskList() {
    return this.#taskList;
  }

  frameworkName(id) {
    return this.frameworks.get(id)?.name ?? '';
  }

  agentHostname(id) {
    return this.agents.get(id)?.hostname ?? '';
  }

  #touched(what) {
    this.revision[what] += 1;
    return what;
  }

  #putTask(record) {
    const previous = this.tasks.get(record.key);
    if (previous !== undefined) {
      this.#count(previous, -1);
      this.#taskList[this.#taskPositions.get(record.key)] = record;
    } else {
      this.#taskPositions.set(record.key, this.#taskList.length);
      this.#taskList.push(record);
    }
    this.tasks.set(record.key, record);
    this.#count(record, +1);
  }

  #updateTask(update) {
    const key = taskKeyOf(String(update?.framework_id?.value ?? ''), String(update?.status?.task_id?.value ?? ''));
    const previous = this.tasks.get(key);
    // An update for a task this page never saw added: the next snapshot will have it.
    if (previous === undefined) return false;
    const next = updatedRecord(previous, update);
    this.#count(previous, -1);
    this.tasks.set(key, next);
    this.#taskList[this.#taskPositions.get(key)] = next;
    this.#count(next, +1);
    return true;
  }

  /** Adds (sign +1) or removes (-1) a task's part in every derived number. */
  #count(record, sign) {
    increment(this.stateCounts, record.state, sign);
    increment(this.tasksByFramework, record.frameworkId, sign);
    if (!isLive(record.state)) return;
    increment(this.liveTasksByFramework, record.frameworkId, sign);
    increment(this.liveTasksByAgent, record.agentId, sign);
    let used = this.usedByAgent.get(record.agentId);
    if (used === undefined) {
      used = new Map();
      this.usedByAgent.set(record.agentId, used);
    }
    addAmounts(used, record.amounts, sign);
  }

  #putAgent(record) {
    if (record.id !== '') this.agents.set(record.id, record);
  }

  /** Kept on the page, marked REMOVED (unreachable or gone), until the next snapshot. */
  #removeAgent(id) {
    const agent = this.agents.get(id);
    if (agent === undefined || agent.state === 'REMOVED') return false;
    this.agents.set(id, Object.freeze({ ...agent, state: 'REMOVED', offered: new Map() }));
    return true;
  }

  #putFramework(record) {
    if (record.id !== '') this.frameworks.set(record.id, record);
  }

  #completeFramework(id) {
    const framework = this.frameworks.get(id);
    if (framework === undefined) return false;
    this.frameworks.set(id, Object.freeze({ ...framework, state: 'COMPLETED', offers: 0 }));
    return true;
  }
}
