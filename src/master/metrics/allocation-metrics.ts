// The allocator's cycles on the leader (Mesos: `allocator/mesos/allocation_runs` and
// `allocator/mesos/allocation_run_ms`): how many ran, how long each held the event loop, and
// how many offers they made. Fed by the allocation loop's observer (allocation-loop.ts).
import type { MetricRegistry } from '../../util/metric-registry.ts';
import type { AllocationObserver } from '../allocation-loop.ts';

const millisecondsPerSecond = 1000;
/** One cycle takes well under a millisecond on a small cluster, ~100 ms at 10,000 agents (bench/allocator.ts). */
const cycleBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function allocationMetrics(metrics: MetricRegistry): AllocationObserver {
  const runs = metrics.mesosCounter('allocator/mesos/allocation_runs', 'allocation cycles run on this master');
  const duration = metrics.histogram(
    'flotilla_allocation_cycle_seconds',
    'event-loop time of one allocation cycle (its slices added up)',
    cycleBucketsSeconds,
  );
  const offers = metrics.counter('flotilla_allocation_offers_total', 'offers the allocation cycles made');
  let lastRunMs = 0;
  metrics.mesosGauge('allocator/mesos/allocation_run_ms', {
    help: 'event-loop time of the latest allocation cycle on this master, in ms',
    read: () => lastRunMs,
  });
  return {
    cycleFinished(durationMs, offersMade) {
      runs.inc();
      duration.observe(durationMs / millisecondsPerSecond);
      offers.inc(offersMade);
      lastRunMs = durationMs;
    },
  };
}
