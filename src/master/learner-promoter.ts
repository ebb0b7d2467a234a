// ADD_MASTER adds a learner; this promotes it to voter once it has caught up, so an operator
// replacing a dead master issues one call and the quorum never counts a replica still copying
// the log (§4.2.1).
import type { Logger } from 'pino';
import type { RaftNode } from '../raft/node.ts';

const checkIntervalMs = 250;

export class LearnerPromoter {
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;

  constructor(
    private readonly raft: RaftNode,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => this.check(), checkIntervalMs);
    this.timer.unref();
  }

  private check(): void {
    const status = this.raft.status();
    if (this.inFlight || status.role !== 'leader' || status.membership.learners.length === 0) return;
    const learner = status.membership.learners[0]!;
    const match = status.progress[learner]?.match ?? 0;
    // The core refuses a promotion of a learner that lags (promoteLagEntries); ask only when close.
    if (match < status.commit) return;
    this.inFlight = true;
    this.raft
      .proposeMembership({ type: 'promote', node: learner })
      .then(({ index }) => this.logger.info({ learner, index }, 'learner caught up: promoted to voter'))
      .catch((error: Error) => this.logger.info({ learner, reason: error.message }, 'learner promotion deferred'))
      .finally(() => {
        this.inFlight = false;
      });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
