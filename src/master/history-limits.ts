// Puts this master's history flags (--max_completed_frameworks, --max_completed_tasks_per_framework,
// --registry_max_agent_age, --registry_max_agent_count) into the replicated state when it starts
// leading and the state's differ. One master's flags cannot decide alone what every replica
// prunes, so the limits live in the state and pruning happens in apply (state-machine/history.ts);
// as in Mesos, where the active master's flags apply, the leading master's flags win. Masters
// with different flags take turns setting theirs as leadership moves; give them the same flags.
//
// A leader service (leadership/service.ts), first in order: its start waits for the first
// proposal (at most `historyLimitsStartWaitMs`), so the term's other services (and the clients they serve) see the limits in force.
// It never fails the term's start: a proposal that fails (leadership moving, an overloaded log)
// is tried again after a back-off while this master leads.
import type { Logger } from 'pino';
import type { UpdateHistoryLimits } from '../state-machine/commands.ts';
import type { HistoryLimits } from '../state-machine/state.ts';
import { assert } from '../util/assert.ts';
import { backoffDelayMs } from '../util/backoff.ts';
import { type ReplicatedMaster, stampedOnSubmit } from './interface.ts';
import type { LeaderService } from './leadership/service.ts';
import { historyLimitsRetryBaseMs, historyLimitsRetryMaxMs, historyLimitsStartWaitMs } from './limits.ts';

export interface HistoryFlags {
  readonly maxCompletedFrameworks: number;
  readonly maxCompletedTasksPerFramework: number;
  readonly registryMaxAgentAgeMs: number;
  readonly registryMaxAgentCount: number;
}

/** The command that makes the state's limits these flags, or null when they already are. */
export function historyLimitsCommand(current: HistoryLimits, flags: HistoryFlags): UpdateHistoryLimits | null {
  const wanted = {
    maxCompletedFrameworks: flags.maxCompletedFrameworks,
    maxCompletedTasksPerFramework: flags.maxCompletedTasksPerFramework,
    maxRemovedAgentAgeMs: flags.registryMaxAgentAgeMs,
    maxRemovedAgentCount: flags.registryMaxAgentCount,
  };
  const same =
    current.maxCompletedFrameworks === wanted.maxCompletedFrameworks &&
    current.maxCompletedTasksPerFramework === wanted.maxCompletedTasksPerFramework &&
    current.maxRemovedAgentAgeMs === wanted.maxRemovedAgentAgeMs &&
    current.maxRemovedAgentCount === wanted.maxRemovedAgentCount;
  return same ? null : { type: 'update_history_limits', at: stampedOnSubmit, ...wanted };
}

export class HistoryLimitsKeeper implements LeaderService {
  readonly name = 'history-limits';
  #term: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #attempts = 0;

  constructor(
    private readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>,
    private readonly flags: HistoryFlags,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  async start(term: number): Promise<void> {
    assert(this.#term === null, 'the history limits keeper started twice');
    this.#term = term;
    this.#attempts = 0;
    // Bounded: a proposal that neither commits nor fails must not hold up the term's start.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#propose(term),
      new Promise<void>((resolve) => {
        waited = setTimeout(resolve, historyLimitsStartWaitMs);
      }),
    ]);
    clearTimeout(waited);
  }

  stop(): void {
    this.#term = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #propose(term: number): Promise<void> {
    if (this.#term !== term) return;
    const command = historyLimitsCommand(this.master.state().historyLimits, this.flags);
    if (command === null) return;
    try {
      const { result } = await this.master.submit(command);
      assert(result.ok, `update_history_limits was rejected: ${result.ok ? '' : result.message}`);
      this.logger.info({ term, limits: this.flags }, "history limits set from this master's flags");
    } catch (error) {
      if (this.#term !== term) return;
      const delayMs = backoffDelayMs(
        this.#attempts,
        { baseMs: historyLimitsRetryBaseMs, maxMs: historyLimitsRetryMaxMs },
        this.random,
      );
      this.#attempts += 1;
      this.logger.warn({ err: error, term, retryInMs: delayMs }, 'history limits not set yet; retrying');
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.#propose(term);
      }, delayMs);
      this.#timer.unref();
    }
  }
}
