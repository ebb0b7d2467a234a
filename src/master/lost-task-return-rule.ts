// Which reregister_agent `restoresLostTasks` a leader writes (command format 11's `true`: a task
// made TASK_LOST only because its agent was unreachable comes back live when the agent reports
// it; format 12's 'checked': only if its executor is still there). A replica of an older build
// cannot apply the newer rule and would keep such a task lost (format 10), or revive one without
// its executor (format 11), while this build does not: their state hashes would part. So the
// leader writes a rule only once every other member named its format or newer at its Raft
// handshake (RaftNode.membersApplicationFormat), as acks12 gated format 10
// (scheduler/acknowledgement-rule.ts); until then its re-registrations are written as the older
// members apply them, and tasks not restored are killed on return.
import type { ReregisterAgent } from '../state-machine/commands.ts';

/** The command format that brought ReregisterAgent.restoresLostTasks (state-machine/codec.ts). */
export const lostTaskReturnFormat = 11;
/** The command format that brought its value 'checked' (the executor checked). */
export const checkedLostTaskReturnFormat = 12;

/** `membersFormat`: the oldest command format the other members read (null: one has not said). */
export function lostTaskReturnRule(membersFormat: number | null): ReregisterAgent['restoresLostTasks'] {
  if (membersFormat === null || membersFormat < lostTaskReturnFormat) return undefined;
  return membersFormat >= checkedLostTaskReturnFormat ? 'checked' : true;
}
