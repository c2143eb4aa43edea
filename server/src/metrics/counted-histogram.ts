import type { Metric, Registry } from "prom-client";

/** One labelled series whose observations were counted elsewhere: `cumulative[i]` of them were at most `buckets[i]`. */
export interface CountedSeries {
  labels: Record<string, string>;
  cumulative: number[];
  count: number;
  sum: number;
}

export interface CountedHistogramConfig {
  name: string;
  help: string;
  /** Upper bounds, ascending; +Inf is added. */
  buckets: readonly number[];
  /** Reads the series afresh on every scrape. */
  read: () => Promise<CountedSeries[]>;
}

/** The `_bucket`, `_sum` and `_count` samples of one series, as prom-client's registry renders a histogram's. */
export function histogramSamples(name: string, buckets: readonly number[], series: CountedSeries) {
  return [
    ...buckets.map((le, i) => ({
      metricName: `${name}_bucket`,
      labels: { le, ...series.labels },
      value: series.cumulative[i] ?? series.count,
    })),
    { metricName: `${name}_bucket`, labels: { le: "+Inf", ...series.labels }, value: series.count },
    { metricName: `${name}_sum`, labels: series.labels, value: series.sum },
    { metricName: `${name}_count`, labels: series.labels, value: series.count },
  ];
}

/**
 * A histogram whose buckets someone else counted: prom-client's Histogram takes observations one
 * at a time, while the gradebook's durations are counted by Postgres on each scrape. The registry
 * renders it as it renders its own histograms, from what `get` returns.
 */
export function registerCountedHistogram(registry: Registry, config: CountedHistogramConfig): void {
  const { name, help, buckets } = config;
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      const series = await config.read();
      return {
        name,
        help,
        type: "histogram",
        aggregator: "sum",
        values: series.flatMap((s) => histogramSamples(name, buckets, s)),
      };
    },
    reset() {},
  };
  // prom-client types registerMetric for its own classes; its registry needs only name, type and get().
  registry.registerMetric(metric as unknown as Metric);
}
