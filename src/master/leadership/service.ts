// One leader-only part of the master (the agent gateway's leader part, the scheduler sessions,
// framework failover, the allocation loop, the learner promoter; later the built-in frameworks).
// The leadership lifecycle (lifecycle.ts) starts each once the term is established and stops
// each when leadership ends; nothing else tells a service whether this master leads.
export interface LeaderService {
  /** Stable, for logs, /metrics labels and GET_RAFT: "scheduler-sessions". */
  readonly name: string;
  /**
   * This master leads `term`, its no-op has committed and a ReadIndex barrier has passed: the
   * applied state holds everything any earlier leader committed. Resolves once the service runs.
   * A rejection is a failed start: the lifecycle stops the services already started and retries.
   */
  start(term: number): Promise<void>;
  /**
   * Leadership ended (step-down, removal, transfer, shutdown). Synchronous: when it returns, the
   * service no longer acts — no timer fires, no proposal is made, no event is sent — because the
   * Raft driver announces role changes inside its apply loop and nothing may act on stale state
   * after that. Closing sockets may finish later. Called at most once per start, possibly while
   * that start is still pending (leadership lost part-way): the start must then leave it stopped.
   */
  stop(): void;
}
