// ACCEPT: the offers' operations become one replicated `accept_offers`, checked against
// replicated truth when it applies (an offer is used at most once, even across a leader
// change). Mesos answers 202 before it validates, and reports a refused launch as status
// updates (master.cpp `accept`/`_accept`): invalid offers make every task TASK_DROPPED
// (TASK_LOST for frameworks that are not PARTITION_AWARE) with REASON_INVALID_OFFERS; an
// invalid task makes it TASK_ERROR with REASON_TASK_INVALID. Refused offers go back to the
// pool, as Mesos recovers the resources of offers it removed for an ACCEPT. Before anything,
// each operation is authorized (operation-approval.ts): refused launches become TASK_ERROR
// (REASON_TASK_UNAUTHORIZED), refused reservations are dropped, the rest goes on.
import type { OfferOperation } from '../../state-machine/commands.ts';
import type { RejectionCode } from '../../state-machine/errors.ts';
import type { FrameworkId, OfferId } from '../../state-machine/ids.ts';
import { contains, signVolumes, sum, type Resources } from '../../state-machine/resources.ts';
import type { TaskDefinition } from '../../state-machine/values.ts';
import type { Framework, ReadonlyState } from '../../state-machine/state.ts';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { stampedOnSubmit } from '../interface.ts';
import { defaultRefuseSeconds } from '../limits.ts';
import type { SchedulerCall } from './call.ts';
import type { SchedulerContext } from './calls.ts';
import { masterUpdateEvent } from './events.ts';
import { approveOperations, type OperationApproval } from './operation-approval.ts';

type AcceptCall = Extract<SchedulerCall, { type: 'ACCEPT' }>;

const offerProblems: ReadonlySet<RejectionCode> = new Set([
  'OFFER_NOT_FOUND',
  'OFFER_FRAMEWORK_MISMATCH',
  'OFFER_AGENT_MISMATCH',
  'OFFER_ROLE_MISMATCH',
  'FRAMEWORK_NOT_CONNECTED',
  'FRAMEWORK_NOT_FOUND',
  'FRAMEWORK_COMPLETED',
  'AGENT_NOT_FOUND',
]);

function invalidOffers(state: ReadonlyState, call: AcceptCall): boolean {
  const seen = new Set<string>();
  for (const id of call.offerIds) {
    const offer = state.offers.get(id as OfferId);
    if (offer === undefined || offer.frameworkId !== call.frameworkId || seen.has(id)) return true;
    seen.add(id);
  }
  return call.offerIds.length === 0;
}

/** The updates Mesos sends for the tasks of an ACCEPT it refused. */
export function refusedLaunchEvents(
  framework: Framework,
  call: AcceptCall,
  code: RejectionCode,
  message: string,
  offersInvalid: boolean,
  nowMs: number,
): SchedulerEvent[] {
  const aware = framework.info.capabilities.includes('PARTITION_AWARE');
  const tasks = call.operations.flatMap(launchedTasks);
  return tasks.map((task) =>
    offersInvalid || offerProblems.has(code)
      ? masterUpdateEvent(
          task.id,
          null,
          aware ? 'TASK_DROPPED' : 'TASK_LOST',
          'REASON_INVALID_OFFERS',
          `Task launched with invalid offers: ${message}`,
          nowMs,
        )
      : masterUpdateEvent(task.id, null, 'TASK_ERROR', 'REASON_TASK_INVALID', `Task is invalid: ${message}`, nowMs),
  );
}

const launchedTasks = (operation: AcceptCall['operations'][number]): readonly TaskDefinition[] =>
  operation.type === 'LAUNCH' || operation.type === 'LAUNCH_GROUP' ? operation.tasks : [];

/** What the launches take from the offers: tasks, and each executor they name once (if it is new). */
function launchedResources(call: AcceptCall): Resources {
  const executors = new Map<string, Resources>();
  for (const operation of call.operations) {
    if (operation.type === 'LAUNCH_GROUP') executors.set(operation.executor.id, operation.executor.resources);
    for (const task of launchedTasks(operation))
      if (task.executor !== null) executors.set(task.executor.id, task.executor.resources);
  }
  return sum([...call.operations.flatMap(launchedTasks).map((task) => task.resources), ...executors.values()]);
}

export async function handleAccept(
  context: SchedulerContext,
  framework: Framework,
  requested: AcceptCall,
  approval: OperationApproval,
): Promise<void> {
  const { master, allocation, sessions } = context;
  const approved = approveOperations(approval, framework, requested.operations, Date.now());
  if (approved.refusedTasks.length > 0) sessions.send(framework.id, approved.refusedTasks);
  const call: AcceptCall = { ...requested, operations: approved.operations };
  const before = master.state();
  const offersInvalid = invalidOffers(before, call);
  const offers = call.offerIds.flatMap((id) => before.offers.get(id as OfferId) ?? []);
  const agentIds = [...new Set(offers.map((offer) => offer.agentId))];
  const launched = launchedResources(call);
  const leavesUnused = !contains(launched, sum(offers.map((offer) => offer.resources)));
  const operations: OfferOperation[] = call.operations.map((operation) =>
    // Mesos records who made a volume (DiskInfo.Persistence.principal): the framework's principal, whatever it sent.
    operation.type === 'CREATE'
      ? { ...operation, volumes: signVolumes(operation.volumes, framework.info.principal ?? null) }
      : operation,
  );
  const { result } = await master.submit({
    type: 'accept_offers',
    at: stampedOnSubmit,
    frameworkId: call.frameworkId as FrameworkId,
    offerIds: call.offerIds as OfferId[],
    operations,
  });
  // Filters.refuse_seconds: what the ACCEPT left unused on the agent is not offered again for
  // that long (Mesos installs the filter only when resources come back: none if all were used).
  if (leavesUnused || !result.ok)
    allocation.refuse(call.frameworkId, agentIds, call.refuseSeconds ?? defaultRefuseSeconds);
  if (result.ok) {
    allocation.trigger('accept');
    return;
  }
  sessions.send(
    call.frameworkId,
    refusedLaunchEvents(framework, call, result.code, result.message, offersInvalid, Date.now()),
  );
  // The offers that are still this framework's go back to the pool, as in Mesos.
  const after = master.state();
  const returned = call.offerIds.filter((id) => after.offers.get(id as OfferId)?.frameworkId === call.frameworkId);
  if (returned.length > 0) {
    await master.submit({
      type: 'decline_offers',
      at: stampedOnSubmit,
      frameworkId: call.frameworkId as FrameworkId,
      offerIds: returned as OfferId[],
    });
  }
  allocation.trigger('accept refused');
}
