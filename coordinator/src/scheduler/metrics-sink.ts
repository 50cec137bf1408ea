import type { Metrics } from '../metrics/influx.js';

/** What the scheduler writes to InfluxDB. Writes are best effort: a metrics outage never blocks a result. */
export type MetricsSink = Pick<Metrics, 'writeExecution' | 'writeWorkerLoad'>;
