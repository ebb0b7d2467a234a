// Change events, emitted in apply order for each applied command. The operator API's SUBSCRIBE
// streams the Mesos-named ones (TASK_ADDED … FRAMEWORK_REMOVED); the offer events tell the
// leader's scheduler API which offers to send or rescind (an agent going unreachable removes its
// offers inside apply, and the frameworks must hear of it).
import type { AgentId } from './ids.ts';
import type { Agent, Executor, Framework, Offer, Task, TaskStatus } from './state.ts';

export type OfferRemovalCause =
  | 'ACCEPTED'
  | 'DECLINED'
  | 'RESCINDED'
  | 'AGENT_CHANGED'
  | 'FRAMEWORK_CHANGED'
  | 'MAINTENANCE';

export type ChangeEvent =
  | { readonly type: 'TASK_ADDED'; readonly task: Task }
  | { readonly type: 'TASK_UPDATED'; readonly task: Task; readonly status: TaskStatus }
  /** A KILL was recorded (each request, repeats too): the leader tells the task's agent to kill it. */
  | { readonly type: 'TASK_KILL_REQUESTED'; readonly task: Task }
  | { readonly type: 'AGENT_ADDED'; readonly agent: Agent }
  | { readonly type: 'AGENT_REMOVED'; readonly agentId: AgentId }
  /** Deactivated, reactivated, or its drain started or ended (DRAINED): the agent as it is now. */
  | { readonly type: 'AGENT_UPDATED'; readonly agent: Agent }
  | { readonly type: 'FRAMEWORK_ADDED'; readonly framework: Framework }
  | { readonly type: 'FRAMEWORK_UPDATED'; readonly framework: Framework }
  | { readonly type: 'FRAMEWORK_REMOVED'; readonly framework: Framework }
  | { readonly type: 'OFFER_ADDED'; readonly offer: Offer }
  | { readonly type: 'OFFER_REMOVED'; readonly offer: Offer; readonly cause: OfferRemovalCause }
  /** An executor was made by the launch of its first task on its agent. */
  | { readonly type: 'EXECUTOR_ADDED'; readonly executor: Executor }
  /** An executor's resources went back to its agent: the agent reported it gone, or its agent or framework is gone. */
  | { readonly type: 'EXECUTOR_REMOVED'; readonly executor: Executor }
  /**
   * History pruning (history.ts) forgot an entity: a completed task beyond its framework's limit,
   * a completed framework beyond the limit (its tasks first), a removed agent too old or beyond
   * the count (with the unreachable tasks it still held, as Mesos' registry GC drops them). Mesos
   * has no operator event for these; they let listeners drop what they keep per entity.
   */
  | { readonly type: 'TASK_PRUNED'; readonly task: Task }
  | { readonly type: 'FRAMEWORK_PRUNED'; readonly framework: Framework }
  | { readonly type: 'AGENT_PRUNED'; readonly agent: Agent }
  /**
   * Persistent volumes were created or destroyed on the agent (operator call or ACCEPT): the
   * leader tells the agent which volumes it now has, so it deletes the data of destroyed ones.
   */
  | { readonly type: 'AGENT_VOLUMES_CHANGED'; readonly agentId: AgentId }
  /** The whole state was replaced from a snapshot: subscribers must re-read it. */
  | { readonly type: 'STATE_RESTORED' };

export type ChangeEventType = ChangeEvent['type'];
