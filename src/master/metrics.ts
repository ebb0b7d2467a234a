// Prometheus metrics of one master (prom-client): Raft indexes and role, event-loop delay
// (a heartbeat stuck behind a long task starts elections nobody wanted: DESIGN.md), and which
// leader services run in which term (leadership/lifecycle.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RaftNode } from '../raft/node.ts';
import type { LeaderServicesView } from './leadership/view.ts';

export class MasterMetrics {
  readonly registry = new Registry();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(raft: Pick<RaftNode, 'status'>, leaderServices: () => LeaderServicesView, labels: { master: string }) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'flotilla_process_' });
    this.loopDelay.enable();
    const status = () => raft.status();
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('flotilla_raft_term', 'current Raft term', () => status().term);
    gauge('flotilla_raft_commit_index', 'highest committed log index', () => status().commit);
    gauge('flotilla_raft_applied_index', 'highest applied log index', () => status().applied);
    gauge('flotilla_raft_last_index', 'last log index', () => status().lastIndex);
    gauge('flotilla_raft_snapshot_index', 'index of the latest snapshot', () => status().snapshotIndex);
    gauge('flotilla_raft_is_leader', '1 on the leader, else 0', () => (status().role === 'leader' ? 1 : 0));
    gauge(
      'flotilla_raft_members',
      'voters and learners',
      () => status().membership.voters.length + status().membership.learners.length,
    );
    gauge(
      'flotilla_leader_services_term',
      'the term whose leader services this master establishes or runs; 0 when it runs none',
      () => leaderServices().term ?? 0,
    );
    new Gauge({
      name: 'flotilla_leader_service_running',
      help: '1 while the leader service runs on this master, else 0',
      labelNames: ['service'],
      registers: [this.registry],
      collect() {
        for (const service of leaderServices().services) this.set({ service: service.name }, service.running ? 1 : 0);
      },
    });
    // The maximum is collected first: collecting the 99th percentile resets the histogram.
    gauge(
      'flotilla_event_loop_delay_max_seconds',
      'event-loop delay, maximum since the last scrape',
      () => this.loopDelay.max / 1e9,
    );
    gauge('flotilla_event_loop_delay_p99_seconds', 'event-loop delay, 99th percentile since the last scrape', () => {
      const value = this.loopDelay.percentile(99) / 1e9;
      this.loopDelay.reset();
      return value;
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    this.loopDelay.disable();
  }
}
