// Which acknowledgement rule a leader writes into ACKNOWLEDGE commands. Mesos' rule — the
// acknowledgement of a task's terminal update completes the task (master.cpp `Master::acknowledge`
// → `removeTask`), so its earlier unacknowledged updates are never sent again — came in command
// format 10 as a member of acknowledge_task_status. A replica of an older build drops members it
// does not know and would apply the old rule to the same entry: its state hash would part from
// the others'. So the leader asks for the new rule only once every other member named format 10
// or newer at its Raft handshake (RaftNode.membersApplicationFormat); until then it writes
// format 9's entries, byte for byte what the older build writes.
import type { AcknowledgeTaskStatus } from '../../state-machine/commands.ts';

/** The command format that brought AcknowledgeTaskStatus.completesTerminalTask (state-machine/codec.ts). */
export const terminalAcknowledgementFormat = 10;

/**
 * Whether every replica applies format 10's rule. `membersFormat` is the oldest command format
 * the other members read (null: one has not said yet, so it may be an older build).
 */
export const terminalAcknowledgementAgreed = (membersFormat: number | null): boolean =>
  membersFormat !== null && membersFormat >= terminalAcknowledgementFormat;

/** The acknowledgement as the agreed rule has it: with the member only when every replica reads it. */
export function acknowledgementCommand(
  acknowledgement: Omit<AcknowledgeTaskStatus, 'at' | 'completesTerminalTask'>,
  agreed: boolean,
): Omit<AcknowledgeTaskStatus, 'at'> {
  return agreed ? { ...acknowledgement, completesTerminalTask: true } : acknowledgement;
}
