// ADD_MASTER adds a learner; this promotes it to voter once it has caught up, so an operator
// replacing a dead master issues one call and the quorum never counts a replica still copying
// the log (§4.2.1). A leader service: it looks at the learners' progress every
// `learnerCheckIntervalMs` from start(term) to stop().
import type { Logger } from 'pino';
import type { RaftNode } from '../raft/node.ts';
import { assert } from '../util/assert.ts';
import type { LeaderService } from './leadership/service.ts';
import { learnerCheckIntervalMs } from './limits.ts';

export class LearnerPromoter implements LeaderService {
  readonly name = 'learner-promoter';
  #timer: NodeJS.Timeout | null = null;
  #inFlight = false;

  constructor(
    private readonly raft: Pick<RaftNode, 'status' | 'proposeMembership'>,
    private readonly logger: Logger,
  ) {}

  async start(_term: number): Promise<void> {
    assert(this.#timer === null, 'the learner promoter started twice');
    this.#timer = setInterval(() => this.#check(), learnerCheckIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    const status = this.raft.status();
    if (this.#inFlight || status.membership.learners.length === 0) return;
    const learner = status.membership.learners[0]!;
    const match = status.progress[learner]?.match ?? 0;
    // The core refuses a promotion of a learner that lags (promoteLagEntries); ask only when close.
    if (match < status.commit) return;
    this.#inFlight = true;
    this.raft
      .proposeMembership({ type: 'promote', node: learner })
      .then(({ index }) => this.logger.info({ learner, index }, 'learner caught up: promoted to voter'))
      .catch((error: Error) => this.logger.info({ learner, reason: error.message }, 'learner promotion deferred'))
      .finally(() => {
        this.#inFlight = false;
      });
  }
}
