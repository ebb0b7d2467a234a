// The I/O shell around decision.ts: waits `delayMs`, then runs one probe at a time, `intervalMs`
// apart (counted from the end of the previous probe, so a slow check never overlaps the next),
// and passes each change of health, and the one request to kill, to `onEvent`. It stops by
// itself after a kill request; the agent stops it when the task ends.
import type { Logger } from '../../util/logger.ts';
import type { RunningContainer } from '../containerizer/types.ts';
import { decide, initialHealthState, type HealthEvent, type HealthState } from './decision.ts';
import { probeCommand, probeHttp, probeTcp, type ProbeOutcome } from './probes.ts';
import { healthCheckSpecProblems, type HealthCheckSpec } from './spec.ts';

export interface HealthCheckerOptions {
  readonly spec: HealthCheckSpec;
  readonly container: Pick<RunningContainer, 'runCheckCommand'>;
  readonly onEvent: (event: HealthEvent) => void;
  readonly logger: Logger;
  /** For tests; Date.now by default. */
  readonly nowMs?: () => number;
}

export class HealthChecker {
  private state: HealthState | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checks = 0;
  private readonly nowMs: () => number;

  constructor(private readonly options: HealthCheckerOptions) {
    const problems = healthCheckSpecProblems(options.spec);
    if (problems.length > 0) throw new Error(`invalid health check: ${problems.join('; ')}`);
    this.nowMs = options.nowMs ?? Date.now;
  }

  start(): void {
    if (this.state !== null) throw new Error('HealthChecker.start called twice');
    this.state = initialHealthState(this.nowMs());
    this.schedule(this.options.spec.delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The current decision state (for the agent's state endpoint and tests). */
  current(): HealthState | null {
    return this.state;
  }

  /** How many probes have completed. */
  checkCount(): number {
    return this.checks;
  }

  private schedule(afterMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), afterMs);
  }

  private probe(): Promise<ProbeOutcome> {
    const spec = this.options.spec;
    if (spec.type === 'HTTP') return probeHttp(spec.port ?? 0, spec.path ?? '/', spec.timeoutMs);
    if (spec.type === 'TCP') return probeTcp(spec.port ?? 0, spec.timeoutMs);
    return probeCommand(this.options.container, spec.command ?? '', spec.timeoutMs);
  }

  private async runOnce(): Promise<void> {
    const outcome = await this.probe();
    if (this.stopped || this.state === null) return;
    this.checks += 1;
    const { state, events } = decide(this.state, this.options.spec, {
      ok: outcome.ok,
      atMs: this.nowMs(),
      detail: outcome.detail,
    });
    this.state = state;
    for (const event of events) {
      this.options.logger.info({ event: 'health_check', ...event }, 'task health');
      try {
        this.options.onEvent(event);
      } catch (error) {
        // The agent's handler failing must not stop the checks of a task that still runs.
        this.options.logger.error(
          { event: 'health_event_handler_failed', error: (error as Error).message },
          'health event not handled',
        );
      }
    }
    if (state.killRequested) this.stop();
    else this.schedule(this.options.spec.intervalMs);
  }
}
