// SUBSCRIBE (master.cpp `subscribe`): a framework without an id is new and gets one from the
// leader; a framework with an id fails over to this connection (the same replicated command:
// its tasks are kept, its old stream closed). A framework that was torn down hears an ERROR
// ("Framework has been removed") on a stream that then closes, as Mesos answers it.
import { randomUUID } from 'node:crypto';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { rejected } from '../errors.ts';
import { stampedOnSubmit } from '../interface.ts';
import type { SubscribeCall } from './call.ts';
import type { SchedulerContext } from './calls.ts';
import type { EventSink } from './event-sink.ts';
import { errorEvent, rescindEvent } from './events.ts';

/** `streamId` null: the framework was removed; the sink got its ERROR and ended. */
export interface Subscription {
  readonly streamId: string | null;
}

function removedFramework(sink: EventSink): Subscription {
  sink.send(errorEvent('Framework has been removed'));
  sink.end();
  return { streamId: null };
}

export async function subscribe(
  context: SchedulerContext,
  call: SubscribeCall,
  sink: EventSink,
): Promise<Subscription> {
  const { master, allocation, sessions } = context;
  const frameworkId = (call.frameworkId ?? randomUUID()) as FrameworkId;
  if (master.state().frameworks.get(frameworkId)?.state === 'COMPLETED') return removedFramework(sink);
  sessions.checkCapacity(frameworkId, call.info.principal);
  sessions.supersede(frameworkId);
  const { result } = await master.submit({
    type: 'subscribe_framework',
    at: stampedOnSubmit,
    frameworkId,
    info: call.info,
  });
  if (!result.ok) {
    if (result.code === 'FRAMEWORK_COMPLETED') return removedFramework(sink);
    throw rejected(result);
  }
  // Filters and suppression live in the leader's memory: a subscription states them afresh.
  allocation.setSuppressedRoles(frameworkId, call.suppressedRoles);
  allocation.trigger('framework subscribed');
  const subscription = sessions.open(frameworkId, sink);
  // Its offers from the previous leader were rescinded before this leader served any call
  // (inherited-offers.ts): the framework hears of it now, on its new stream.
  const rescinded = allocation.takeInheritedRescinds(frameworkId);
  if (rescinded.length > 0) sessions.send(frameworkId, rescinded.map(rescindEvent));
  return subscription;
}
