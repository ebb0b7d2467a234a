// One process's metrics (prom-client), with the names Mesos gives them where Mesos has the
// metric, and one flat Mesos-style JSON view of the same values (`/metrics/snapshot`,
// GET_METRICS), so the Prometheus text and the snapshot can never disagree about what exists.
//
// Names, both ways (docs/operating.md "Reading the metrics"):
//   a Mesos metric "master/tasks_running"  ↔  Prometheus "mesos_master_tasks_running"
//     (Mesos' "slave" is spelled "agent": "master/agents_active", "agent/tasks_running")
//   a Flotilla metric "flotilla_raft_term"  ↔  snapshot key "flotilla/raft_term"
//   a labelled series adds its labels, as Prometheus writes them, to the key:
//     flotilla_http_request_duration_seconds_count{method="GET",route="/health",status="200"}
//       ↔ "flotilla/http_request_duration_seconds/count{method=\"GET\",route=\"/health\",status=\"200\"}"
//   a histogram appears in the snapshot as its `/count` and `/sum` (its buckets only in /metrics).
// The default labels (`master="m1"`, `agent="…"`) name the process; the snapshot, being one
// process's, leaves them out.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { assert } from './assert.ts';

const mesosKeyPattern = /^[a-z]+(?:\/[a-z0-9_]+)+$/;
const flotillaNamePattern = /^flotilla_[a-z0-9_]+$/;

/** "master/tasks_running" → "mesos_master_tasks_running". */
export function mesosPrometheusName(key: string): string {
  assert(mesosKeyPattern.test(key), `"${key}" is not a Mesos metric key`);
  return `mesos_${key.replaceAll('/', '_')}`;
}

/** "flotilla_raft_term" → "flotilla/raft_term". */
function flotillaSnapshotKey(name: string): string {
  return `flotilla/${name.slice('flotilla_'.length)}`;
}

export interface GaugeSpec {
  readonly help: string;
  readonly read: () => number;
}

export class MetricRegistry {
  readonly registry = new Registry();
  /** Prometheus name → snapshot key, for the Mesos-named metrics. */
  readonly #mesosKeys = new Map<string, string>();
  readonly #defaultLabels: readonly string[];

  constructor(defaultLabels: Readonly<Record<string, string>>) {
    this.registry.setDefaultLabels({ ...defaultLabels });
    this.#defaultLabels = Object.keys(defaultLabels);
  }

  /** A gauge read at scrape time, under its Mesos key ("master/elected"). */
  mesosGauge(key: string, spec: GaugeSpec): void {
    this.#gauge(this.#mesosName(key), spec);
  }

  /** A counter under its Mesos key ("master/messages_launch_tasks"); Mesos' counters carry no `_total`. */
  mesosCounter(key: string, help: string): Counter {
    return new Counter({ name: this.#mesosName(key), help, registers: [this.registry] });
  }

  /** A gauge read at scrape time, named "flotilla_…". */
  gauge(name: string, spec: GaugeSpec): void {
    assert(flotillaNamePattern.test(name), `"${name}" is not a flotilla_ metric name`);
    this.#gauge(name, spec);
  }

  /** A gauge with labels, named "flotilla_…": `read` sets each series at scrape time. */
  labelledGauge<Label extends string>(
    name: string,
    help: string,
    labelNames: readonly Label[],
    read: (set: (labels: Record<Label, string>, value: number) => void) => void,
  ): Gauge<Label> {
    assert(flotillaNamePattern.test(name), `"${name}" is not a flotilla_ metric name`);
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        read((labels, value) => this.set(labels as never, value));
      },
    });
  }

  /** `collect`, when given, runs before every read (scrape, snapshot): a hot path may count in a plain number and add it then. */
  counter<Label extends string = never>(
    name: string,
    help: string,
    labelNames: readonly Label[] = [],
    collect?: (counter: Counter<Label>) => void,
  ): Counter<Label> {
    assert(flotillaNamePattern.test(name) && name.endsWith('_total'), `"${name}" is not a flotilla_…_total name`);
    return new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect === undefined
        ? {}
        : {
            collect(this: Counter<Label>) {
              collect(this);
            },
          }),
    });
  }

  histogram<Label extends string = never>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly Label[] = [],
  ): Histogram<Label> {
    assert(flotillaNamePattern.test(name) && name.endsWith('_seconds'), `"${name}" is not a flotilla_…_seconds name`);
    return new Histogram({ name, help, buckets: [...buckets], labelNames, registers: [this.registry] });
  }

  /** The Prometheus text exposition (format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every series but histogram buckets, by snapshot key, in registration order. */
  async snapshot(): Promise<Record<string, number>> {
    const flat: Record<string, number> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      const base = this.#mesosKeys.get(metric.name) ?? flotillaSnapshotKey(metric.name);
      for (const sample of metric.values) {
        const sampleName = (sample as { metricName?: string }).metricName ?? metric.name;
        if (sampleName.endsWith('_bucket')) continue;
        const suffix = sampleName === metric.name ? '' : `/${sampleName.slice(metric.name.length + 1)}`;
        flat[`${base}${suffix}${this.#labelText(sample.labels)}`] = sample.value;
      }
    }
    return flat;
  }

  #mesosName(key: string): string {
    const name = mesosPrometheusName(key);
    assert(!this.#mesosKeys.has(name), `the metric ${key} is registered twice`);
    this.#mesosKeys.set(name, key);
    return name;
  }

  #gauge(name: string, spec: GaugeSpec): void {
    new Gauge({
      name,
      help: spec.help,
      registers: [this.registry],
      collect() {
        this.set(spec.read());
      },
    });
  }

  #labelText(labels: Readonly<Record<string, string | number | undefined>>): string {
    const pairs = Object.entries(labels)
      .filter(([name, value]) => value !== undefined && !this.#defaultLabels.includes(name))
      .map(([name, value]) => `${name}=${JSON.stringify(String(value))}`);
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  }
}
