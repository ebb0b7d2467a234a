// SUBSCRIBE on the operator API (master.proto Call.SUBSCRIBE → a stream of Event): a read, so a
// follower serves it from its own applied state after a ReadIndex round (or at once with
// ?stale=true); the events follow that master's apply order.
import { principalOf } from '../../auth/requester.ts';
import type { OperatorCallTable } from './registry.ts';
import { StreamingResponse } from './registry.ts';
import type { OperatorSubscriptions } from './subscriptions.ts';
import { visibilityOf } from './visibility.ts';

export function subscribeCalls(subscriptions: OperatorSubscriptions): OperatorCallTable {
  return {
    SUBSCRIBE: {
      write: false,
      streaming: true,
      async handle({ access }) {
        return new StreamingResponse(subscriptions.open(visibilityOf(access), principalOf(access.requester)));
      },
    },
  };
}
