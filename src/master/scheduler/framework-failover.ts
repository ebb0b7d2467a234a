// Framework failover on the leader (Mesos `--failover_timeout`, high-availability-framework-
// guide.md): a DISCONNECTED framework whose failover timeout has passed since its replicated
// `disconnectedAt` is torn down (its tasks are killed), so a new leader continues the countdown
// where the old one left it. A framework still CONNECTED in the state but with no stream on
// this leader (it was connected to the previous leader) gets a grace period to re-subscribe,
// then is marked disconnected so its countdown starts.
import type { Logger } from 'pino';
import { assert } from '../../util/assert.ts';
import type { Command } from '../../state-machine/commands.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { type ReplicatedMaster, stampedOnSubmit } from '../interface.ts';
import type { LeaderService } from '../leadership/service.ts';
import { failoverCheckIntervalMs, resubscribeGraceMs } from '../limits.ts';

export interface FailoverInputs {
  readonly nowMs: number;
  /** When this master became leader (its leader services started). */
  readonly electedAtMs: number;
  readonly graceMs: number;
  readonly hasStream: (frameworkId: string) => boolean;
}

/** The commands the leader should propose now (pure; the caller skips those in flight). */
export function failoverCommands(state: ReadonlyState, inputs: FailoverInputs): Command[] {
  const commands: Command[] = [];
  for (const framework of state.frameworks.values()) {
    if (
      framework.state === 'DISCONNECTED' &&
      framework.disconnectedAt !== null &&
      inputs.nowMs >= framework.disconnectedAt + framework.info.failoverTimeoutMs
    ) {
      commands.push({ type: 'teardown_framework', at: stampedOnSubmit, frameworkId: framework.id });
    } else if (framework.state === 'CONNECTED' && !inputs.hasStream(framework.id)) {
      const since = Math.max(inputs.electedAtMs, framework.reregisteredAt ?? framework.registeredAt);
      if (inputs.nowMs >= since + inputs.graceMs)
        commands.push({ type: 'disconnect_framework', at: stampedOnSubmit, frameworkId: framework.id });
    }
  }
  return commands;
}

/** A leader service: checks every `failoverCheckIntervalMs` from start(term) to stop(). */
export class FrameworkFailover implements LeaderService {
  readonly name = 'framework-failover';
  #timer: NodeJS.Timeout | null = null;
  #leadingSinceMs = 0;
  /** Commands proposed and not yet answered, by "type/framework": each is proposed once at a time. */
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>,
    private readonly hasStream: (frameworkId: string) => boolean,
    private readonly logger: Logger,
    private readonly graceMs = resubscribeGraceMs,
  ) {}

  async start(_term: number): Promise<void> {
    assert(this.#timer === null, 'framework failover started twice');
    this.#leadingSinceMs = Date.now();
    this.#inFlight.clear();
    this.#timer = setInterval(() => this.check(), failoverCheckIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): void {
    if (this.#timer === null) return;
    const commands = failoverCommands(this.master.state(), {
      nowMs: Date.now(),
      electedAtMs: this.#leadingSinceMs,
      graceMs: this.graceMs,
      hasStream: this.hasStream,
    });
    for (const command of commands) {
      if (!('frameworkId' in command)) continue;
      const key = `${command.type}/${command.frameworkId}`;
      if (this.#inFlight.has(key)) continue;
      this.#inFlight.add(key);
      this.logger.info(
        { frameworkId: command.frameworkId, command: command.type },
        command.type === 'teardown_framework'
          ? 'framework failover timeout passed: tearing it down'
          : 'framework did not re-subscribe to this leader: marking it disconnected',
      );
      this.master
        .submit(command)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, frameworkId: command.frameworkId }, 'framework failover command failed'),
        )
        .finally(() => this.#inFlight.delete(key));
    }
  }
}
