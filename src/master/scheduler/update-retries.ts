// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again every `statusUpdateRetryIntervalMs`, per task the oldest unacknowledged one
// (in order, as Mesos' status update manager does), at most `maxResentUpdatesPerRound` per
// stream per round. The replicated state says what is unacknowledged, so a new leader resumes.
import type { ReadonlyState } from '../../state-machine/state.ts';
import { maxResentUpdatesPerRound } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { oldestUnacknowledgedUpdates, pendingUpdateEvent } from './task-updates.ts';

export function resendUnacknowledgedUpdates(sessions: Iterable<SchedulerSession>, state: ReadonlyState): void {
  for (const session of sessions) {
    const pending = oldestUnacknowledgedUpdates(state, session.frameworkId).slice(0, maxResentUpdatesPerRound);
    for (const update of pending) session.send(pendingUpdateEvent(update));
  }
}
