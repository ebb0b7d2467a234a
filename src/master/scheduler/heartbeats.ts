// Every `heartbeat_interval_seconds` (told in SUBSCRIBED) the leader sends each framework a
// HEARTBEAT, so a scheduler that hears nothing for a few intervals knows its master is gone
// (scheduler-http-api.md "HEARTBEAT"); the same round brings inverse offers up to date.
import type { ReadonlyState } from '../../state-machine/state.ts';
import { heartbeatEvent } from './events.ts';
import type { SchedulerSession } from './session.ts';

export function sendHeartbeats(sessions: Iterable<SchedulerSession>, state: ReadonlyState, nowMs: number): void {
  for (const session of sessions) {
    session.send(heartbeatEvent);
    session.refreshInverseOffers(state, nowMs);
  }
}
