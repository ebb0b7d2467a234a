// An agent's `register` on the leader: propose register_agent (a new id, made here) or
// reregister_agent (with the tasks the agent still has), and once it is committed bind the
// socket to the agent, answer `registered`, and tell the agent which of its tasks to kill:
// those the replicated state has as terminal, unknown or elsewhere, and those with a kill
// request it may have missed while it was away.
import type { AgentMessage } from '../protocol/agent.ts';
import type { AgentRegistrationBatchItem } from '../state-machine/commands.ts';
import {
  agentId as toAgentId,
  frameworkId as toFrameworkId,
  taskId as toTaskId,
  taskKey,
  type AgentId,
} from '../state-machine/ids.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import type { AgentInfo } from '../state-machine/values.ts';
import type { AgentConnection, AgentGateway } from './agent-gateway.ts';
import { groupTasks, removeUnreportedExecutors } from './agent-executors.ts';
import {
  killMessage,
  launchGroupMessage,
  launchMessage,
  toAgentInfo,
  volumesMessage,
  WireConversionError,
} from './agent-wire.ts';
import { maxAgentRegistrationAttempts } from './limits.ts';

type Register = Extract<AgentMessage, { type: 'register' }>;

/** Whether this master's leader services run, after waiting for an establish in progress. */
async function leading(gateway: AgentGateway): Promise<boolean> {
  if (gateway.isLeading()) return true;
  try {
    await gateway.parts.leaderServicesRunning();
  } catch {
    // Not the leader (or not yet able to lead): the agent is told where to go.
  }
  return gateway.isLeading();
}

export async function registerAgentConnection(
  gateway: AgentGateway,
  connection: AgentConnection,
  message: Register,
): Promise<void> {
  const logger = gateway.parts.logger;
  // The registration's own timeline, in its log line: a failover's re-registrations are measured by it.
  const receivedAtMs = Date.now();
  if (!(await leading(gateway))) {
    const view = gateway.parts.master.raft();
    connection.send({ type: 'not_leader', leader: view.leaderAddress, masters: gateway.mastersView() });
    connection.close(1000, 'not the leader');
    return;
  }
  const names = connection.certificateNames;
  if (names !== null && !names.includes(message.info.hostname)) {
    return refuse(
      connection,
      'REGISTRATION_FAILED',
      `the client certificate names ${names.join(', ') || 'nothing'}, not the agent's hostname ${message.info.hostname}`,
    );
  }
  if (connection.registering || connection.agentId !== null) {
    connection.send({ type: 'error', code: 'REGISTRATION_FAILED', message: 'this socket already registered' });
    return;
  }
  let info: AgentInfo;
  try {
    info = toAgentInfo(message.info);
  } catch (error) {
    if (!(error instanceof WireConversionError)) throw error;
    return refuse(connection, 'REGISTRATION_FAILED', error.message);
  }
  connection.registering = true;
  const proposedAtMs = Date.now();
  try {
    const agentId = await proposeOnce(gateway, message, () => propose(gateway, message, info));
    const committedAtMs = Date.now();
    if (agentId === null || connection.closed || !gateway.isLeading()) return;
    gateway.bind(connection, agentId);
    connection.send({
      type: 'registered',
      agentId,
      master: gateway.self(),
      masters: gateway.mastersView(),
      pingIntervalMs: gateway.parts.settings.pingIntervalMs,
      maxMissedPings: gateway.parts.settings.maxMissedPings,
    });
    logger.info(
      {
        agent: agentId,
        remote: connection.remote,
        hostname: info.hostname,
        reported: message.tasks.length,
        // From the handshake to the register read, waiting for leader services, for the commit (milliseconds).
        socketOpenMs: receivedAtMs - connection.acceptedAtMs,
        leaderWaitMs: proposedAtMs - receivedAtMs,
        commitMs: committedAtMs - proposedAtMs,
      },
      message.agentId === null ? 'agent registered' : 'agent re-registered',
    );
    // Before any launch: the agent deletes the data of volumes destroyed while it was away.
    connection.send(volumesMessage(gateway.parts.master.state().agents.get(agentId)));
    reconcile(gateway, connection, agentId, message);
    await removeUnreportedExecutors(gateway.executorReports, agentId, message.executors);
  } catch (error) {
    // Not committed (leadership moved…): the agent dials again and finds the leader.
    refuse(connection, 'REGISTRATION_FAILED', `registration not committed: ${(error as Error).message}`);
  } finally {
    connection.registering = false;
  }

  function refuse(target: AgentConnection, code: 'REGISTRATION_FAILED' | 'AGENT_GONE', problem: string): void {
    logger.warn({ remote: target.remote, agent: message.agentId, code, problem }, 'agent registration refused');
    target.send({ type: 'error', code, message: problem });
    target.close(1008, code);
  }

  async function propose(
    gatewayRef: AgentGateway,
    registerMessage: Register,
    agentInfo: AgentInfo,
  ): Promise<AgentId | null> {
    const agentId = registerMessage.agentId === null ? gatewayRef.newAgentId() : toAgentId(registerMessage.agentId);
    let known = gatewayRef.parts.master.state().agents.has(agentId);
    for (let attempt = 1; attempt <= maxAgentRegistrationAttempts; attempt++) {
      const tasks = registerMessage.tasks.map((task) => ({
        frameworkId: toFrameworkId(task.frameworkId),
        taskId: toTaskId(task.taskId),
        state: task.state,
      }));
      // With the other registrations of this turn, in one entry (registration-batcher.ts).
      const restoresLostTasks = gatewayRef.parts.lostTaskReturn?.();
      const item: AgentRegistrationBatchItem = known
        ? {
            type: 'reregister_agent',
            keepsReservations: true,
            agentId,
            info: agentInfo,
            tasks,
            ...(restoresLostTasks === undefined ? {} : { restoresLostTasks }),
          }
        : { type: 'register_agent', agentId, info: agentInfo };
      const { result } = await gatewayRef.registrations.submit(item);
      if (result.ok) return agentId;
      if (result.code === 'AGENT_ALREADY_REGISTERED' || result.code === 'AGENT_NOT_FOUND') {
        known = !known;
        continue;
      }
      refuse(
        connection,
        result.code === 'AGENT_GONE' ? 'AGENT_GONE' : 'REGISTRATION_FAILED',
        `${result.code}: ${result.message}`,
      );
      return null;
    }
    refuse(connection, 'REGISTRATION_FAILED', 'the agent registry changed under the registration; retry');
    return null;
  }
}

/**
 * An agent whose registration outlasted its patience (a leader committing thousands of
 * re-registrations after a failover) dials again and registers on a new socket while the first
 * proposal is still in flight. Proposing again would add a command per retry, slowing the commits
 * that made it retry: the new socket waits for the proposal in flight and is bound when it
 * commits. The tasks that proposal carries are those the agent reported on its first socket, a
 * moment before; `reconcile` answers the new socket's report. A proposal that ended without an
 * agent (refused) is not shared: the new socket proposes for itself and gets its own answer.
 */
async function proposeOnce(
  gateway: AgentGateway,
  message: Register,
  proposeNow: () => Promise<AgentId | null>,
): Promise<AgentId | null> {
  if (message.agentId === null) return proposeNow();
  const agentId = toAgentId(message.agentId);
  const inFlight = gateway.registrationsInFlight.get(agentId);
  if (inFlight !== undefined) {
    gateway.registrationsJoined += 1;
    const joined = await inFlight.catch(() => null);
    if (joined !== null) return joined;
  }
  const proposal = proposeNow();
  gateway.registrationsInFlight.set(agentId, proposal);
  try {
    return await proposal;
  } finally {
    if (gateway.registrationsInFlight.get(agentId) === proposal) gateway.registrationsInFlight.delete(agentId);
  }
}

function reconcile(gateway: AgentGateway, connection: AgentConnection, agentId: AgentId, message: Register): void {
  const state = gateway.parts.master.state();
  for (const reference of message.tasks) {
    const task = state.tasks.get(taskKey(toFrameworkId(reference.frameworkId), toTaskId(reference.taskId)));
    if (task !== undefined && task.agentId === agentId && !isTerminalTaskState(task.state)) continue;
    const why =
      task === undefined
        ? 'unknown to the master'
        : task.agentId !== agentId
          ? `assigned to agent ${task.agentId}`
          : `${task.state} on the master`;
    connection.send({
      type: 'kill',
      frameworkId: reference.frameworkId,
      taskId: reference.taskId,
      message: `reconciliation: the task is ${why}`,
      maxGracePeriodMs: null,
    });
  }
  const reported = new Set(
    message.tasks.map((reference) => taskKey(toFrameworkId(reference.frameworkId), toTaskId(reference.taskId))),
  );
  const groupsSent = new Set<string>();
  for (const key of state.derived.liveTasksByAgent.get(agentId) ?? []) {
    const task = state.tasks.get(key);
    if (task === undefined || isTerminalTaskState(task.state)) continue;
    if (task.killRequestedAt !== null) {
      connection.send(killMessage(task, state.agents.get(agentId), 'killed by the framework'));
    } else if (task.state === 'TASK_STAGING' && !reported.has(taskKey(task.frameworkId, task.id))) {
      // Re-registration drops the tasks the agent does not report, so this one was launched
      // after it committed but before this socket was bound: its launch went to no socket.
      // Scenario: (1) reregister_agent commits; (2) an ACCEPT on this agent commits and the
      // gateway finds no socket for it; (3) bind. The agent ignores a launch it already has.
      // A task group goes again as one launch, once.
      const framework = state.frameworks.get(task.frameworkId);
      if (task.taskGroup === null) connection.send(launchMessage(task, framework));
      else if (framework !== undefined && !groupsSent.has(`${task.frameworkId}/${task.taskGroup}`)) {
        groupsSent.add(`${task.frameworkId}/${task.taskGroup}`);
        connection.send(launchGroupMessage(groupTasks(state, task), framework));
      }
    }
  }
}
