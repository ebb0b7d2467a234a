// Why an agent was not offered to a framework in the last cycle: the answer to "why is my
// framework not getting offers?". Stable codes (STYLE.md rule 6): tests and operators match
// them; a retired code is never reused.
export const skipReasonCodes = {
  /** The framework declined this agent with `refuse_seconds` and the filter has not expired. */
  FILTERED: 'the framework declined this agent with a filter (refuse_seconds) that has not expired',
  /** The framework suppressed offers for the role (SUPPRESS, or SUBSCRIBE's suppressed_roles). */
  SUPPRESSED: 'the framework suppressed offers for this role',
  /** Everything on the agent is used by tasks or held by outstanding offers. */
  NOTHING_FREE: 'nothing is free on the agent: its resources are used by tasks or held by offers',
  /** What is free is reserved for other roles. */
  RESERVED_FOR_OTHER_ROLES: 'the free resources are reserved for other roles',
  /** What is free is less than the minimum allocatable resources (cpus:0.01|mem:32 by default). */
  BELOW_MIN_ALLOCATABLE: 'the free resources are below the minimum allocatable resources',
  /** The role (or an ancestor) has reached its quota limit. */
  QUOTA_LIMIT: "the role's quota limit is reached",
  /** What is free is held back to meet other roles' quota guarantees. */
  HELD_FOR_QUOTA_GUARANTEE: "the free resources are held back for other roles' quota guarantees",
  /** The agent is unreachable or gone. */
  AGENT_NOT_ACTIVE: 'the agent is not active (unreachable or gone)',
  /** The agent's machine is DOWN for maintenance. */
  AGENT_IN_MAINTENANCE: "the agent's machine is down for maintenance",
  /** An operator deactivated the agent (DEACTIVATE_AGENT) or is draining it (DRAIN_AGENT). */
  AGENT_DEACTIVATED: 'the agent is deactivated or draining (DEACTIVATE_AGENT, DRAIN_AGENT)',
  /** The agent has not (re-)registered with this leader yet, or its socket closed: a launch would reach no one. */
  AGENT_NOT_CONNECTED: 'the agent is not connected to the leading master (not re-registered yet, or its socket closed)',
} as const;

export type SkipReason = keyof typeof skipReasonCodes;
