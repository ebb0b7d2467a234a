// The state machine's changes as scheduler events, in apply order: an offer added joins its
// framework's OFFERS batch, an offer taken away by the master is RESCINDed, a status update is
// an UPDATE, a removed agent a FAILURE for every framework, a removed framework hears ERROR and
// its stream ends. ACCEPTED and DECLINED offers need no event: they are the framework's doing.
import type { ChangeEvent, OfferRemovalCause } from '../../state-machine/events.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { agentFailureEvent, updateEvent } from './events.ts';
import type { SchedulerSession } from './session.ts';

/** Offer removals the framework must hear of; ACCEPTED and DECLINED are its own doing. */
const rescindCauses: ReadonlySet<OfferRemovalCause> = new Set([
  'RESCINDED',
  'AGENT_CHANGED',
  'MAINTENANCE',
  'FRAMEWORK_CHANGED',
]);

export interface RoutingTarget {
  session(frameworkId: string): SchedulerSession | null;
  sessions(): Iterable<SchedulerSession>;
  state(): ReadonlyState;
  /** Ends and forgets one framework's session (it was removed). */
  endSession(frameworkId: string, message: string): void;
  /** Ends every session (the state was replaced): the frameworks subscribe again. */
  endAll(message: string): void;
}

export function routeChange(target: RoutingTarget, event: ChangeEvent): void {
  switch (event.type) {
    case 'OFFER_ADDED': {
      const session = target.session(event.offer.frameworkId);
      const agent = target.state().agents.get(event.offer.agentId);
      if (session !== null && agent !== undefined) session.queueOffer(event.offer, agent, () => target.state());
      return;
    }
    case 'OFFER_REMOVED':
      if (rescindCauses.has(event.cause)) target.session(event.offer.frameworkId)?.rescindOffer(event.offer.id);
      return;
    case 'TASK_UPDATED':
      if (event.status.state !== 'TASK_STAGING')
        target.session(event.task.frameworkId)?.send(updateEvent(event.task, event.status));
      return;
    case 'AGENT_REMOVED': {
      // One event for every stream: built once, not per subscriber.
      const failure = agentFailureEvent(event.agentId);
      for (const session of target.sessions()) session.send(failure);
      return;
    }
    case 'FRAMEWORK_REMOVED':
      target.endSession(event.framework.id, 'Framework has been removed');
      return;
    case 'STATE_RESTORED':
      // The leader's state was replaced from a snapshot: the streams' view no longer adds up.
      target.endAll('Master state was restored from a snapshot; subscribe again');
      return;
    default:
      return;
  }
}
