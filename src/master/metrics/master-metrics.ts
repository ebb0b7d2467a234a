// Every metric of one master, in one registry (prom-client): the Mesos master's gauges from the
// applied state (state-gauges.ts), its message counters (message-metrics.ts) and allocator
// metrics (allocation-metrics.ts), Raft (raft-metrics.ts), the HTTP requests (src/http registers
// those in the same registry), the process, the event-loop delay (a heartbeat stuck behind a long
// task starts elections nobody wanted: DESIGN.md), and which leader services run in which term.
// `/metrics` is its text; `/metrics/snapshot` and GET_METRICS its flat Mesos-style JSON.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CoreStatus } from '../../raft/types.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { MetricRegistry } from '../../util/metric-registry.ts';
import { collectProcessMetrics } from '../../util/process-metrics.ts';
import type { AllocationObserver } from '../allocation-loop.ts';
import type { LeaderServicesView } from '../leadership/view.ts';
import { allocationMetrics } from './allocation-metrics.ts';
import { MessageMetrics } from './message-metrics.ts';
import { RaftMetrics } from './raft-metrics.ts';
import { registerStateGauges } from './state-gauges.ts';

const nanosecondsPerSecond = 1e9;
const millisecondsPerSecond = 1000;
/** The event-loop delay histogram's resolution: finer costs a timer wake-up per millisecond. */
const loopDelayResolutionMs = 10;

/** Where the master's metrics read from; functions, so they may be given before Raft starts. */
export interface MasterMetricSources {
  readonly id: string;
  readonly startedAtMs: number;
  readonly raftStatus: () => CoreStatus;
  readonly state: () => ReadonlyState;
  readonly leaderServices: () => LeaderServicesView;
}

export class MasterMetrics {
  readonly metrics: MetricRegistry;
  readonly raft: RaftMetrics;
  readonly messages: MessageMetrics;
  readonly allocation: AllocationObserver;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: loopDelayResolutionMs });
  readonly #zoneHandOvers;

  constructor(sources: MasterMetricSources) {
    this.metrics = new MetricRegistry({ master: sources.id });
    collectProcessMetrics(this.metrics.registry, 'flotilla_process_');
    this.loopDelay.enable();
    this.metrics.mesosGauge('master/uptime_secs', {
      help: 'seconds since this master started',
      read: () => (Date.now() - sources.startedAtMs) / millisecondsPerSecond,
    });
    this.raft = new RaftMetrics(this.metrics, sources.raftStatus);
    registerStateGauges(this.metrics, { state: sources.state, appliedIndex: () => sources.raftStatus().applied });
    this.messages = new MessageMetrics(this.metrics);
    this.allocation = allocationMetrics(this.metrics);
    this.#registerLeaderServices(sources.leaderServices);
    this.#zoneHandOvers = this.metrics.counter(
      'flotilla_zone_preference_hand_overs_total',
      'hand-overs this master started to move leadership into a preferred zone, by target zone',
      ['zone'],
    );
    this.#registerLoopDelay();
  }

  #registerLeaderServices(leaderServices: () => LeaderServicesView): void {
    this.metrics.gauge('flotilla_leader_services_term', {
      help: 'the term whose leader services this master establishes or runs; 0 when it runs none',
      read: () => leaderServices().term ?? 0,
    });
    this.metrics.labelledGauge(
      'flotilla_leader_service_running',
      '1 while the leader service runs on this master, else 0',
      ['service'],
      (set) => {
        for (const service of leaderServices().services) set({ service: service.name }, service.running ? 1 : 0);
      },
    );
  }

  #registerLoopDelay(): void {
    // The maximum is collected first: collecting the 99th percentile resets the histogram.
    this.metrics.gauge('flotilla_event_loop_delay_max_seconds', {
      help: 'event-loop delay, maximum since the last scrape',
      read: () => this.loopDelay.max / nanosecondsPerSecond,
    });
    this.metrics.gauge('flotilla_event_loop_delay_p99_seconds', {
      help: 'event-loop delay, 99th percentile since the last scrape',
      read: () => {
        const value = this.loopDelay.percentile(99) / nanosecondsPerSecond;
        this.loopDelay.reset();
        return value;
      },
    });
  }

  zonePreferenceHandOver(zone: string): void {
    this.#zoneHandOvers.inc({ zone });
  }

  text(): Promise<string> {
    return this.metrics.text();
  }

  snapshot(): Promise<Record<string, number>> {
    return this.metrics.snapshot();
  }

  stop(): void {
    this.loopDelay.disable();
  }
}
