// A status update's message as it may travel and be replicated: at most maxTextLength characters
// (agentProtocolLimits, the state machine's textSchema). The agent writes messages of its own
// that name what failed (a fetcher error quotes the URI, then cp quotes it again; a launch error
// quotes the command), and a URI or a command may itself be that long. An over-long message made
// the master refuse the whole update frame, so the agent resent it forever and the task stayed
// TASK_STARTING in the master: the text is cut instead, keeping its head (where the cause is).
import { assert } from '../util/assert.ts';
import { agentProtocolLimits } from './limits.ts';

const cutMarker = (cutCharacters: number): string => ` … (${cutCharacters} characters cut)`;

/** `message` cut to at most `maxLength` characters (default: the wire's), saying how much was cut; null stays null. */
export function boundedStatusMessage(
  message: string | null,
  maxLength: number = agentProtocolLimits.maxTextLength,
): string | null {
  assert(maxLength > 0, `a status message bound must be positive, got ${maxLength}`);
  if (message === null || message.length <= maxLength) return message;
  // The marker's own length depends on the count it prints: reserve room for the widest one.
  const reserved = cutMarker(message.length).length;
  if (maxLength <= reserved) return message.slice(0, maxLength);
  let kept = maxLength - reserved;
  // Never end on the first half of a surrogate pair: that half alone is not text.
  const last = message.charCodeAt(kept - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept -= 1;
  const bounded = `${message.slice(0, kept)}${cutMarker(message.length - kept)}`;
  assert(bounded.length <= maxLength, `a bounded status message is ${bounded.length} characters`);
  return bounded;
}
