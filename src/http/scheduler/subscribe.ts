// SUBSCRIBE (master.cpp `subscribe`): a framework without an id is new and gets one from the
// leader; a framework with an id fails over to this connection (the same replicated command:
// its tasks are kept, its old stream closed). A framework that was torn down hears an ERROR
// ("Framework has been removed") on a stream that then closes, as Mesos answers it.
import { randomUUID } from 'node:crypto';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { rejectionToHttp, stampedOnSubmit } from '../submit.ts';
import type { MasterFacade } from '../facade.ts';
import type { SchedulerConnections } from './connections.ts';
import { errorEvent } from './events.ts';
import { maxQueuedBytesPerStream } from './limits.ts';
import type { SchedulerCall } from './parse-call.ts';
import { SchedulerStream } from './stream.ts';

type SubscribeCall = Extract<SchedulerCall, { type: 'SUBSCRIBE' }>;

export interface Subscription {
  /** null for the closed stream that tells a removed framework so. */
  readonly streamId: string | null;
  readonly stream: SchedulerStream;
}

function removedFrameworkStream(): Subscription {
  const stream = new SchedulerStream(maxQueuedBytesPerStream);
  stream.send(errorEvent('Framework has been removed'));
  stream.end();
  return { streamId: null, stream };
}

export async function subscribe(
  master: MasterFacade,
  connections: SchedulerConnections,
  call: SubscribeCall,
): Promise<Subscription> {
  const frameworkId = (call.frameworkId ?? randomUUID()) as FrameworkId;
  if (master.state().frameworks.get(frameworkId)?.state === 'COMPLETED') return removedFrameworkStream();
  connections.checkCapacity(frameworkId);
  connections.supersede(frameworkId);
  const { result } = await master.submit({
    type: 'subscribe_framework',
    at: stampedOnSubmit,
    frameworkId,
    info: call.info,
  });
  if (!result.ok) {
    if (result.code === 'FRAMEWORK_COMPLETED') return removedFrameworkStream();
    throw rejectionToHttp(result);
  }
  // Filters and suppression live in the leader's memory: a subscription states them afresh.
  master.allocation.setSuppressedRoles(frameworkId, call.suppressedRoles);
  master.allocation.trigger('framework subscribed');
  return connections.open(frameworkId);
}
