// The calls of a subscribed framework (everything but SUBSCRIBE), after the checks of
// http.cpp's `scheduler` handler: the framework exists (400 otherwise), is subscribed over a
// stream on this master (403), and the request names that stream (400 without or with another
// Mesos-Stream-Id). Mesos answers 202 Accepted (UPDATE_FRAMEWORK: 200 OK); Flotilla answers once
// the call's command is committed, at once for the hints kept in the leader's memory, and once
// handed to Raft for ACKNOWLEDGE (`acknowledge`).
import type { Logger } from 'pino';
import type { AllocationControl } from '../../offers/control.ts';
import type { AgentId, FrameworkId, OfferId, TaskId } from '../../state-machine/ids.ts';
import { taskKey } from '../../state-machine/ids.ts';
import type { Framework, ReadonlyState } from '../../state-machine/state.ts';
import { MasterError, rejected } from '../errors.ts';
import { type ReplicatedMaster, stampedOnSubmit } from '../interface.ts';
import { defaultRefuseSeconds } from '../limits.ts';
import { handleAccept } from './accept.ts';
import { acknowledgementCommand } from './acknowledgement-rule.ts';
import type { FrameworkCall } from './call.ts';
import type { ExecutorChannel } from './executor-channel.ts';
import type { OperationApproval } from './operation-approval.ts';
import type { TaskStatusBatcher } from '../status-batcher.ts';
import type { SchedulerSessions } from './sessions.ts';
import { heldByMaster, reconcileEvents, reconciliationAnswers } from './task-updates.ts';

/** What the scheduler calls use of the master. */
export interface SchedulerContext {
  readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>;
  /** ACKNOWLEDGEs of one event-loop turn, as one Raft entry with the agents' status updates' kind. */
  readonly acknowledgements: Pick<TaskStatusBatcher, 'submit'>;
  /** Whether every replica reads command format 10: ACKNOWLEDGE then carries Mesos' rule (acknowledgement-rule.ts). */
  readonly terminalAcknowledgementAgreed: () => boolean;
  readonly allocation: AllocationControl;
  readonly sessions: SchedulerSessions;
  /** SHUTDOWN and MESSAGE reach executors through their agents. */
  readonly executors: ExecutorChannel;
  readonly logger: Logger;
}

interface CallContext extends SchedulerContext {
  readonly streamId: string | null;
  /** Whether the caller may do each operation of an ACCEPT (its ACLs). */
  readonly approval: OperationApproval;
}

/** http.cpp's checks, in its order; returns the framework the call is for. */
export function checkCaller(context: CallContext, frameworkId: string): Framework {
  const framework = context.master.state().frameworks.get(frameworkId as FrameworkId);
  if (framework === undefined || framework.state === 'COMPLETED') throw new MasterError('UNKNOWN_FRAMEWORK');
  const current = context.sessions.streamIdOf(frameworkId);
  if (framework.state !== 'CONNECTED' || current === null) throw new MasterError('FRAMEWORK_NOT_SUBSCRIBED');
  if (context.streamId === null) throw new MasterError('STREAM_ID_REQUIRED');
  if (context.streamId !== current) {
    throw new MasterError(
      'STREAM_ID_MISMATCH',
      `The stream ID '${context.streamId}' included in this request didn't match the stream ID currently associated with framework ID ${frameworkId}`,
    );
  }
  return framework;
}

async function decline(context: CallContext, call: Extract<FrameworkCall, { type: 'DECLINE' }>): Promise<void> {
  const state = context.master.state();
  const agentIds = [...new Set(call.offerIds.flatMap((id) => state.offers.get(id as OfferId)?.agentId ?? []))];
  // Offers already gone or not this framework's are ignored, as Mesos ignores invalid offers in a DECLINE.
  const own = call.offerIds.filter((id) => state.offers.get(id as OfferId)?.frameworkId === call.frameworkId);
  if (own.length > 0) {
    await context.master.submit({
      type: 'decline_offers',
      at: stampedOnSubmit,
      frameworkId: call.frameworkId as FrameworkId,
      offerIds: own as OfferId[],
    });
  }
  context.allocation.refuse(call.frameworkId, agentIds, call.refuseSeconds ?? defaultRefuseSeconds);
  context.allocation.trigger('decline');
}

/** KILL of a task the master does not know (or holds no more: completed) is answered by reconciling it (master.cpp `kill`). */
async function kill(
  context: CallContext,
  framework: Framework,
  call: Extract<FrameworkCall, { type: 'KILL' }>,
): Promise<void> {
  const task = context.master.state().tasks.get(taskKey(framework.id, call.task.taskId as TaskId));
  if (task === undefined || !heldByMaster(task)) {
    context.sessions.send(framework.id, reconcileEvents(context.master.state(), framework, [call.task], Date.now()));
    return;
  }
  // A rejection (the task is already terminal) needs no answer: its terminal update says it all.
  await context.master.submit({ type: 'kill_task', at: stampedOnSubmit, frameworkId: framework.id, taskId: task.id });
}

/**
 * ACKNOWLEDGE: Mesos forwards it to the agent and answers 202 whatever the agent makes of it;
 * here an acknowledgement of an unknown or already acknowledged update is likewise no error.
 * The acknowledgements of one event-loop turn go to Raft as one task_status_batch entry, which
 * carries no Idempotency-Key: none is needed, since an acknowledgement applies at most once by
 * its uuid (a retry is STATUS_ALREADY_ACKNOWLEDGED, answered 202 like the first), and so a key
 * reused for another ACKNOWLEDGE is not detected (IDEMPOTENCY_KEY_REUSED) as it is for other calls.
 * One the committed state already shows acknowledged (a framework's retry, or an update the
 * terminal acknowledgement superseded), or one already on its way, is answered at once: its
 * proposal could only be rejected, and an acknowledged status never becomes unacknowledged again.
 *
 * Answered once handed to the turn's batch, not once committed: Mesos answers 202 once the call
 * is accepted (scheduler HTTP API), and an acknowledgement lost in a leader change only means the
 * update is delivered again (acknowledgements-on-their-way.ts). Waiting held one of the SDK's
 * acknowledgement sockets per call for a commit (~600 ms p50 at 1,000 agents), so updates
 * already acknowledged were sent again and acknowledged again (issue 12, launch bench).
 */
async function acknowledge(context: CallContext, call: Extract<FrameworkCall, { type: 'ACKNOWLEDGE' }>): Promise<void> {
  const frameworkId = call.frameworkId as FrameworkId;
  const taskId = call.taskId as TaskId;
  if (acknowledgedAlready(context.master.state(), frameworkId, taskId, call.uuid)) return;
  const key = taskKey(frameworkId, taskId);
  const onTheirWay = context.sessions.acknowledgementsOnTheirWay;
  if (onTheirWay.has(key, call.uuid)) return;
  const acknowledgement = {
    type: 'acknowledge_task_status',
    frameworkId,
    taskId,
    agentId: call.agentId as AgentId,
    uuid: call.uuid,
  } as const;
  const committed = context.acknowledgements.submit(
    acknowledgementCommand(acknowledgement, context.terminalAcknowledgementAgreed()),
  );
  if (!onTheirWay.add(key, call.uuid)) {
    // As many as the limit are on their way: this one waits for its commit, as all once did.
    await committed;
    return;
  }
  committed.then(
    () => onTheirWay.remove(key, call.uuid),
    (error: unknown) => {
      onTheirWay.remove(key, call.uuid);
      // Not an error of the call, answered already: the update stays pending and is sent again.
      context.logger.debug(
        { err: error, frameworkId, taskId, uuid: call.uuid },
        'an acknowledgement was not committed',
      );
    },
  );
}

function acknowledgedAlready(state: ReadonlyState, frameworkId: FrameworkId, taskId: TaskId, uuid: string): boolean {
  const task = state.tasks.get(taskKey(frameworkId, taskId));
  return task?.statuses.some((status) => status.uuid === uuid && status.acknowledged) === true;
}

async function updateFramework(
  context: CallContext,
  framework: Framework,
  call: Extract<FrameworkCall, { type: 'UPDATE_FRAMEWORK' }>,
): Promise<void> {
  const { result } = await context.master.submit({
    type: 'update_framework',
    at: stampedOnSubmit,
    frameworkId: framework.id,
    info: call.info,
  });
  if (!result.ok) throw rejected(result);
  context.allocation.setSuppressedRoles(framework.id, call.suppressedRoles);
  context.allocation.trigger('update framework');
}

/** Checks the caller (checkCaller) and runs the call; resolves once it is done. */
export async function handleFrameworkCall(context: CallContext, call: FrameworkCall): Promise<void> {
  const framework = checkCaller(context, call.frameworkId);
  const allocation = context.allocation;
  switch (call.type) {
    case 'TEARDOWN':
      await context.master.submit({ type: 'teardown_framework', at: stampedOnSubmit, frameworkId: framework.id });
      return;
    case 'ACCEPT':
      await handleAccept(context, framework, call, context.approval);
      return;
    case 'DECLINE':
      await decline(context, call);
      return;
    case 'ACCEPT_INVERSE_OFFERS':
    case 'DECLINE_INVERSE_OFFERS':
      // Kept in the leader's memory for GET_MAINTENANCE_STATUS; no command: an answer is a hint to the operator.
      context.sessions.answerInverseOffers(
        framework.id,
        call.inverseOfferIds,
        call.type === 'ACCEPT_INVERSE_OFFERS' ? 'ACCEPT' : 'DECLINE',
      );
      return;
    case 'REVIVE':
      allocation.revive(framework.id, call.roles);
      return;
    case 'SUPPRESS':
      allocation.suppress(framework.id, call.roles);
      return;
    case 'KILL':
      await kill(context, framework, call);
      return;
    case 'ACKNOWLEDGE':
      await acknowledge(context, call);
      return;
    case 'RECONCILE':
      context.sessions.send(
        framework.id,
        reconciliationAnswers(() => context.master.state(), framework, call.tasks, Date.now()),
      );
      return;
    // SHUTDOWN and MESSAGE go to the executor's agent, best effort: Mesos answers 202 whether or
    // not the agent is there (master.cpp `shutdown`, `message`); a dropped one is logged.
    case 'SHUTDOWN':
      context.executors.shutdownExecutor({
        agentId: call.agentId,
        frameworkId: framework.id,
        executorId: call.executorId,
      });
      return;
    case 'MESSAGE':
      context.executors.sendFrameworkMessage(
        { agentId: call.agentId, frameworkId: framework.id, executorId: call.executorId },
        call.data,
      );
      return;
    // REQUEST is deprecated in Mesos, whose master only logs it (master.cpp `request`: the
    // allocator's requestResources does nothing): 202 and a log line here too, never silence.
    case 'REQUEST':
      context.logger.info(
        { frameworkId: framework.id },
        'REQUEST is deprecated and ignored, as Mesos ignores it; offers come from the allocator',
      );
      return;
    case 'UPDATE_FRAMEWORK':
      await updateFramework(context, framework, call);
      return;
  }
}
