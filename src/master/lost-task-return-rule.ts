// Whether a leader writes reregister_agent's `restoresLostTasks` (command format 11: a task made
// TASK_LOST only because its agent was unreachable comes back live when the agent reports it). A
// replica of an older build drops members it does not know and would keep the task lost while
// this build revives it: their state hashes would part. So the leader sets the member only once
// every other member named format 11 or newer at its Raft handshake
// (RaftNode.membersApplicationFormat), as acks12 gated format 10 (scheduler/acknowledgement-rule.ts);
// until then its re-registrations are written as before, and such tasks are killed on return.

/** The command format that brought ReregisterAgent.restoresLostTasks (state-machine/codec.ts). */
export const lostTaskReturnFormat = 11;

/** `membersFormat`: the oldest command format the other members read (null: one has not said). */
export const lostTaskReturnAgreed = (membersFormat: number | null): boolean =>
  membersFormat !== null && membersFormat >= lostTaskReturnFormat;
