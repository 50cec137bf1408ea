import type { ExecutionStatus } from '@tileflow/shared';

/** One finished execution, as written to InfluxDB (measurement `executions`). */
export interface ExecutionMetric {
  projectId: string;
  stageId: string;
  taskDefinitionId: string;
  workerId: string | null;
  status: ExecutionStatus;
  exitCode: number | null;
  /** Seconds from start to finish. */
  durationSeconds: number | null;
  /** Seconds from queued to start. */
  pendingSeconds: number | null;
  cpuSeconds: number | null;
  peakMemoryMb: number | null;
  finishedAt: Date;
}

/** One worker load sample (measurement `worker_load`). */
export interface WorkerLoadMetric {
  workerId: string;
  workerName: string;
  localLoad: number;
  localCapacity: number;
  clusterLoad: number;
  clusterCapacity: number;
  loadAverage: number;
  at: Date;
}

/** Where the scheduler sends its figures. Writes are best effort: a metrics outage never blocks a result. */
export interface MetricsSink {
  writeExecutions(points: ExecutionMetric[]): Promise<void>;
  writeWorkerLoad(point: WorkerLoadMetric): Promise<void>;
}
