// What the leadership lifecycle shows of itself: GET_RAFT's `leader_services` and the
// flotilla_leader_service_running / flotilla_leader_services_term metrics (metrics/master-metrics.ts).

/**
 * idle: no leader service runs (a follower, or a leader before its first establish).
 * establishing: this master leads `term` and is starting its services (some may run already).
 * leading: every service runs. revoking: leadership ended and the services are being stopped.
 */
export type LeadershipState = 'idle' | 'establishing' | 'leading' | 'revoking';

export interface LeaderServiceView {
  readonly name: string;
  /** Its start(term) resolved and its stop() has not been called since. */
  readonly running: boolean;
}

export interface LeaderServicesView {
  /** The term being established or led; null when idle. */
  readonly term: number | null;
  readonly state: LeadershipState;
  /** Every service, in start order. */
  readonly services: readonly LeaderServiceView[];
}
