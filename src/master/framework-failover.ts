// Framework failover on the leader (Mesos `--failover_timeout`, high-availability-framework-
// guide.md): a DISCONNECTED framework whose failover timeout has passed since its replicated
// `disconnectedAt` is torn down (its tasks are killed), so a new leader continues the countdown
// where the old one left it. A framework still CONNECTED in the state but with no stream on
// this leader (it was connected to the previous leader) gets a grace period to re-subscribe,
// then is marked disconnected so its countdown starts.
import type { Logger } from 'pino';
import type { MasterFacade } from '../http/facade.ts';
import { failoverCheckIntervalMs, resubscribeGraceMs } from '../http/scheduler/limits.ts';
import { stampedOnSubmit } from '../http/submit.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ReadonlyState } from '../state-machine/state.ts';

export interface FailoverInputs {
  readonly nowMs: number;
  /** When this master became leader. */
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

export class FrameworkFailover {
  readonly #timer: NodeJS.Timeout;
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly master: MasterFacade,
    private readonly hasStream: (frameworkId: string) => boolean,
    private readonly logger: Logger,
    private readonly graceMs = resubscribeGraceMs,
  ) {
    this.#timer = setInterval(() => this.check(), failoverCheckIntervalMs);
    this.#timer.unref();
  }

  check(): void {
    const electedAtMs = this.master.electedAtMs();
    if (electedAtMs === null || this.master.raft().role !== 'leader') return;
    const commands = failoverCommands(this.master.state(), {
      nowMs: Date.now(),
      electedAtMs,
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

  stop(): void {
    clearInterval(this.#timer);
  }
}
