/**
 * Metrics in InfluxDB 1.x: one point per finished execution and per worker heartbeat, read back as per-stage time
 * series for the UI. The database is created on first use if it does not exist (no work at construction).
 * Measurements:
 * - `executions`: tags project_id, stage_id, task_id, status, target, worker_id; fields n (always 1),
 *   duration_seconds, pending_seconds,
 *   cpu_seconds, peak_memory_mb, exit_code. Time = when the execution finished.
 * - `worker_load`: tags worker_id, worker_name; fields local_load, cluster_load, local_capacity,
 *   cluster_capacity, load_average.
 */
import { InfluxDB, escape, type IPoint } from 'influx';
import type { ExecutionStatus, ExecutionTarget, ServicesConfig } from '@tileflow/shared';

/** One finished (or otherwise final) execution. */
export interface ExecutionMetric {
  projectId: string;
  stageId: string;
  status: ExecutionStatus;
  target?: ExecutionTarget | null;
  workerId?: string | null;
  /** The task definition (tag task_id). */
  taskDefinitionId?: string | null;
  /** Seconds from queued to started (field pending_seconds). */
  pendingSeconds?: number | null;
  /** Seconds from start (or submission) to finish; null when it never started. */
  durationSeconds?: number | null;
  cpuSeconds?: number | null;
  peakMemoryMb?: number | null;
  exitCode?: number | null;
  /** When it finished; default now. */
  at?: Date;
}

/** A worker's load, from a heartbeat. */
export interface WorkerLoadMetric {
  workerId: string;
  name: string;
  localLoad: number;
  clusterLoad: number;
  localCapacity: number;
  clusterCapacity: number;
  loadAverage?: number | null;
  at?: Date;
}

/** One bucket of one stage's series. */
export interface StageMetricPoint {
  time: Date;
  stageId: string | null;
  /** Executions finished in the bucket. */
  count: number;
  meanDurationSeconds: number | null;
  maxPeakMemoryMb: number | null;
}

export interface StageMetricsQuery {
  /** Minutes back from now; default 60. */
  sinceMinutes?: number;
  /** Bucket width in seconds; default 60. */
  bucketSeconds?: number;
}

export interface Metrics {
  writeExecution(points: ExecutionMetric | ExecutionMetric[]): Promise<void>;
  writeWorkerLoad(points: WorkerLoadMetric | WorkerLoadMetric[]): Promise<void>;
  /** Throughput, mean duration and peak memory per stage of a project, bucketed, oldest first. */
  queryStageMetrics(projectId: string, query?: StageMetricsQuery): Promise<StageMetricPoint[]>;
  /** Creates the database if missing (done lazily by every call; exposed for startup checks). */
  ensureDatabase(): Promise<void>;
  /** True when InfluxDB answers /ping. */
  ping(timeoutMs?: number): Promise<boolean>;
}

const EXECUTIONS = 'executions';
const WORKER_LOAD = 'worker_load';

/** Drops null/undefined fields: InfluxDB has no null. */
function fields(values: Record<string, number | null | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined && Number.isFinite(v)) out[k] = v;
  return out;
}

function tags(values: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v) out[k] = v;
  return out;
}

export function createMetrics(influx: ServicesConfig['influx']): Metrics {
  const client = new InfluxDB({
    host: influx.host,
    port: influx.port,
    database: influx.database,
    username: influx.user,
    password: influx.password,
  });
  let ready: Promise<void> | undefined;
  const ensureDatabase = (): Promise<void> => {
    ready ??= (async () => {
      const names = await client.getDatabaseNames();
      if (!names.includes(influx.database)) await client.createDatabase(influx.database);
    })().catch((err: unknown) => {
      ready = undefined; // try again next time: InfluxDB may simply not be up yet
      throw err;
    });
    return ready;
  };
  // InfluxDB keeps one point per series and timestamp: two executions of a stage finishing in the same millisecond
  // would overwrite each other. Points are written in nanoseconds with a distinct sub-millisecond part (a counter
  // starting at a random value, so that two coordinator processes rarely pick the same one).
  let sequence = Math.floor(Math.random() * 1_000_000);
  const nanos = (at: Date | undefined): string => {
    sequence = (sequence + 1) % 1_000_000;
    return String(BigInt((at ?? new Date()).getTime()) * 1_000_000n + BigInt(sequence));
  };
  const write = async (points: IPoint[]) => {
    if (points.length === 0) return;
    await ensureDatabase();
    for (let i = 0; i < points.length; i += 5000) {
      await client.writePoints(points.slice(i, i + 5000), { precision: 'n' });
    }
  };

  return {
    ensureDatabase,
    async writeExecution(input) {
      const list = Array.isArray(input) ? input : [input];
      await write(
        list.map((e) => ({
          measurement: EXECUTIONS,
          tags: tags({
            project_id: e.projectId,
            stage_id: e.stageId,
            task_id: e.taskDefinitionId ?? null,
            status: e.status,
            target: e.target ?? null,
            worker_id: e.workerId ?? null,
          }),
          fields: {
            n: 1,
            ...fields({
              duration_seconds: e.durationSeconds,
              pending_seconds: e.pendingSeconds,
              cpu_seconds: e.cpuSeconds,
              peak_memory_mb: e.peakMemoryMb,
              exit_code: e.exitCode,
            }),
          },
          timestamp: nanos(e.at),
        })),
      );
    },
    async writeWorkerLoad(input) {
      const list = Array.isArray(input) ? input : [input];
      await write(
        list.map((w) => ({
          measurement: WORKER_LOAD,
          tags: tags({ worker_id: w.workerId, worker_name: w.name }),
          fields: fields({
            local_load: w.localLoad,
            cluster_load: w.clusterLoad,
            local_capacity: w.localCapacity,
            cluster_capacity: w.clusterCapacity,
            load_average: w.loadAverage,
          }),
          timestamp: nanos(w.at),
        })),
      );
    },
    async queryStageMetrics(projectId, query = {}) {
      const since = Math.max(1, Math.floor(query.sinceMinutes ?? 60));
      const bucket = Math.max(1, Math.floor(query.bucketSeconds ?? 60));
      await ensureDatabase();
      const rows = await client.query<{
        time: Date;
        stage_id?: string;
        count: number;
        mean_duration: number | null;
        max_peak_memory: number | null;
      }>(
        `SELECT count("n") AS "count", mean("duration_seconds") AS "mean_duration", ` +
          `max("peak_memory_mb") AS "max_peak_memory" FROM "${EXECUTIONS}" ` +
          `WHERE "project_id" = ${escape.stringLit(projectId)} AND time > now() - ${since}m ` +
          `GROUP BY time(${bucket}s), "stage_id" fill(none)`,
      );
      return rows
        .map((r) => ({
          time: new Date(r.time.getTime()),
          stageId: r.stage_id ?? null,
          count: Number(r.count ?? 0),
          meanDurationSeconds: r.mean_duration ?? null,
          maxPeakMemoryMb: r.max_peak_memory ?? null,
        }))
        .sort((a, b) => a.time.getTime() - b.time.getTime() || String(a.stageId).localeCompare(String(b.stageId)));
    },
    async ping(timeoutMs = 1000) {
      try {
        const hosts = await client.ping(timeoutMs);
        return hosts.some((h) => h.online);
      } catch {
        return false;
      }
    },
  };
}
