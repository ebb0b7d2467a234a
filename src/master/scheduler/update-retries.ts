// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again every `statusUpdateRetryIntervalMs`, per task the oldest unacknowledged one
// (in order, as Mesos' status update manager does), at most `maxResentUpdatesPerRound` per
// stream per round. The replicated state says what is unacknowledged, so a new leader resumes.
// A round visits only the frameworks with unacknowledged updates (the state's index), and only
// their tasks that have one: a stream with nothing pending costs nothing.
import type { FrameworkId } from '../../state-machine/ids.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { maxResentUpdatesPerRound } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { oldestUnacknowledgedUpdates, pendingUpdateEvent } from './task-updates.ts';

export function resendUnacknowledgedUpdates(
  sessionOf: (frameworkId: FrameworkId) => SchedulerSession | undefined,
  state: ReadonlyState,
): void {
  for (const frameworkId of state.derived.unacknowledgedTasksByFramework.keys()) {
    const session = sessionOf(frameworkId);
    if (session === undefined) continue;
    const pending = oldestUnacknowledgedUpdates(state, frameworkId).slice(0, maxResentUpdatesPerRound);
    for (const update of pending) session.send(pendingUpdateEvent(update));
  }
}
