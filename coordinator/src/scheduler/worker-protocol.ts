/**
 * The worker daemons' side of the coordinator: registration, heartbeats and batched execution reports. Every
 * report batch is applied in one transaction, idempotently: a report for an execution that is already final is
 * ignored, so a retried batch or a late report from a worker that was given up on never records a result twice.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import {
  ExecutionStatus,
  FINAL_EXECUTION_STATUSES,
  FailureReason,
  TileStatus,
  WorkerStatus,
  stageQueueName,
  type ExecutionReport,
  type HeartbeatInput,
  type WorkerDirective,
} from '@tileflow/shared';
import { notifyChange } from '../db/notify.js';
import type { Logger } from '../logger.js';
import type { RegisterWorkerRequest, ReportResult, WorkerProtocol, WorkerRegistration } from './contracts.js';
import type { ExecutionMetric } from '../metrics/influx.js';
import type { MetricsSink } from './metrics-sink.js';
import { processingStages } from './topology.js';

/** Raised when a worker reports with a session that is not (or no longer) its current one. */
export class StaleSessionError extends Error {
  readonly code = 'STALE_SESSION';
  constructor(sessionId: string) {
    super(`Worker session ${sessionId} is not current: register again`);
    this.name = 'StaleSessionError';
  }
}

interface ExecRow {
  id: string;
  project_id: string;
  stage_id: string;
  tile_id: string;
  task_definition_id: string;
  attempt: number;
  status: ExecutionStatus;
  worker_id: string | null;
  worker_session_id: string | null;
  target: string | null;
  work_units: number | null;
  cluster_job_id: string | null;
  argv: string[] | null;
  exit_code: number | null;
  failure_reason: string | null;
  message: string | null;
  cpu_seconds: number | null;
  peak_memory_mb: number | null;
  stdout_path: string | null;
  stderr_path: string | null;
  cancel_requested: boolean;
  queued_at: Date;
  submitted_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  max_retries: number;
  retry_backoff_seconds: number;
  tile_status: TileStatus | null;
  current_execution_id: string | null;
  retry_base: number | null;
  z: number | null;
}

const isFinal = (s: ExecutionStatus) => FINAL_EXECUTION_STATUSES.includes(s);

/** Backoff before retry `attempt + 1`: base × 2^(attempt − 1), at most an hour. */
export function retryDelaySeconds(baseSeconds: number, attempt: number): number {
  return Math.min(3600, baseSeconds * 2 ** Math.max(0, attempt - 1));
}

/** Tile status after an execution ended, and when it may run again. Exhaustive over final statuses. */
export function tileOutcome(
  exec: Pick<
    ExecRow,
    'attempt' | 'retry_base' | 'max_retries' | 'retry_backoff_seconds' | 'cancel_requested' | 'tile_status'
  >,
  final: ExecutionStatus,
): { status: TileStatus; retryInSeconds: number | null; propagate: boolean } {
  if (exec.tile_status === TileStatus.Canceled || exec.cancel_requested) {
    return final === ExecutionStatus.Succeeded
      ? { status: TileStatus.Complete, retryInSeconds: null, propagate: true }
      : { status: TileStatus.Canceled, retryInSeconds: null, propagate: false };
  }
  switch (final) {
    case ExecutionStatus.Succeeded:
      return { status: TileStatus.Complete, retryInSeconds: null, propagate: true };
    case ExecutionStatus.Canceled:
      return { status: TileStatus.Canceled, retryInSeconds: null, propagate: false };
    case ExecutionStatus.Failed:
    case ExecutionStatus.Lost:
      return exec.attempt - (exec.retry_base ?? 0) <= exec.max_retries
        ? {
            status: TileStatus.Incomplete,
            retryInSeconds: retryDelaySeconds(exec.retry_backoff_seconds, exec.attempt - (exec.retry_base ?? 0)),
            propagate: false,
          }
        : { status: TileStatus.Failed, retryInSeconds: null, propagate: false };
    case ExecutionStatus.Queued:
    case ExecutionStatus.Submitted:
    case ExecutionStatus.Running:
      throw new Error(`tileOutcome called with non-final status ${final}`);
    default: {
      const never: never = final;
      throw new Error(`Unknown execution status ${String(never)}`);
    }
  }
}

const EXEC_SELECT = `
  SELECT e.*, d.max_retries, d.retry_backoff_seconds, s.status AS tile_status, s.current_execution_id, s.retry_base, s.z
  FROM task_executions e
  JOIN task_definitions d ON d.id = e.task_definition_id
  LEFT JOIN stage_tile_states s ON s.stage_id = e.stage_id AND s.tile_id = e.tile_id`;

/**
 * Writes changed executions and their tiles' states in one go (jsonb_to_recordset), then tells the other parts.
 * Used by reports and by recovery, so that both paths end an execution the same way.
 */
export async function writeOutcomes(
  sequelize: Sequelize,
  transaction: import('sequelize').Transaction,
  changed: ExecRow[],
  tileChanges: Array<{ exec: ExecRow; status: TileStatus; retryInSeconds: number | null; propagate: boolean }>,
): Promise<void> {
  if (changed.length > 0) {
    const rows = changed.map((e) => ({
      id: e.id,
      status: e.status,
      failure_reason: e.failure_reason,
      message: e.message,
      worker_id: e.worker_id,
      worker_session_id: e.worker_session_id,
      target: e.target,
      work_units: e.work_units,
      cluster_job_id: e.cluster_job_id,
      argv: e.argv,
      exit_code: e.exit_code,
      cpu_seconds: e.cpu_seconds,
      peak_memory_mb: e.peak_memory_mb,
      stdout_path: e.stdout_path,
      stderr_path: e.stderr_path,
      submitted_at: e.submitted_at,
      started_at: e.started_at,
      finished_at: e.finished_at,
    }));
    await sequelize.query(
      `UPDATE task_executions e SET status = u.status, failure_reason = u.failure_reason, message = u.message,
         worker_id = u.worker_id, worker_session_id = u.worker_session_id, target = u.target,
         work_units = u.work_units, cluster_job_id = u.cluster_job_id,
         argv = CASE WHEN u.argv IS NULL THEN e.argv ELSE ARRAY(SELECT jsonb_array_elements_text(u.argv)) END,
         exit_code = u.exit_code, cpu_seconds = u.cpu_seconds, peak_memory_mb = u.peak_memory_mb,
         stdout_path = u.stdout_path, stderr_path = u.stderr_path, submitted_at = u.submitted_at,
         started_at = u.started_at, finished_at = u.finished_at, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, status text, failure_reason text, message text,
         worker_id uuid, worker_session_id uuid, target text, work_units float8, cluster_job_id text, argv jsonb,
         exit_code int, cpu_seconds float8, peak_memory_mb float8, stdout_path text, stderr_path text,
         submitted_at timestamptz, started_at timestamptz, finished_at timestamptz)
       WHERE e.id = u.id`,
      { bind: [JSON.stringify(rows)], transaction },
    );
  }
  if (tileChanges.length > 0) {
    const rows = tileChanges.map((c) => ({
      stage_id: c.exec.stage_id,
      tile_id: c.exec.tile_id,
      execution_id: c.exec.id,
      status: c.status,
      retry_in: c.retryInSeconds,
      propagate: c.propagate,
    }));
    await sequelize.query(
      `UPDATE stage_tile_states s SET status = u.status, propagate = s.propagate OR u.propagate,
         next_attempt_at = CASE WHEN u.retry_in IS NULL THEN NULL ELSE now() + make_interval(secs => u.retry_in) END,
         updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS u(stage_id uuid, tile_id bigint, execution_id uuid, status text,
         retry_in float8, propagate boolean)
       WHERE s.stage_id = u.stage_id AND s.tile_id = u.tile_id AND s.current_execution_id = u.execution_id`,
      { bind: [JSON.stringify(rows)], transaction },
    );
  }
  const byProject = new Map<
    string,
    { stageIds: Set<string>; planes: Map<string, { stageId: string; z: number | null }> }
  >();
  for (const c of tileChanges) {
    const p = byProject.get(c.exec.project_id) ?? { stageIds: new Set(), planes: new Map() };
    p.stageIds.add(c.exec.stage_id);
    p.planes.set(`${c.exec.stage_id}:${c.exec.z}`, { stageId: c.exec.stage_id, z: c.exec.z });
    byProject.set(c.exec.project_id, p);
  }
  for (const [projectId, p] of byProject) {
    await notifyChange(
      sequelize,
      { type: 'states', projectId, stageIds: [...p.stageIds], planes: [...p.planes.values()] },
      transaction,
    );
  }
}

export function toMetric(e: ExecRow): ExecutionMetric {
  const secs = (a: Date | null, b: Date | null) => (a && b ? (b.getTime() - a.getTime()) / 1000 : null);
  return {
    projectId: e.project_id,
    stageId: e.stage_id,
    taskDefinitionId: e.task_definition_id,
    workerId: e.worker_id,
    target: e.target as ExecutionMetric['target'],
    status: e.status,
    exitCode: e.exit_code,
    durationSeconds: secs(e.started_at, e.finished_at),
    pendingSeconds: secs(e.queued_at, e.started_at),
    cpuSeconds: e.cpu_seconds,
    peakMemoryMb: e.peak_memory_mb,
    at: e.finished_at ?? new Date(),
  };
}

/** Loads executions for update, with what their outcome depends on. */
export async function lockExecutions(
  sequelize: Sequelize,
  transaction: import('sequelize').Transaction,
  ids: string[],
): Promise<ExecRow[]> {
  if (ids.length === 0) return [];
  return sequelize.query<ExecRow>(`${EXEC_SELECT} WHERE e.id = ANY($1::uuid[]) ORDER BY e.id FOR UPDATE OF e`, {
    bind: [ids],
    type: QueryTypes.SELECT,
    transaction,
  });
}

export { type ExecRow };

export interface WorkerProtocolDeps {
  sequelize: Sequelize;
  logger: Logger;
  metrics?: MetricsSink;
}

interface WorkerRow {
  id: string;
  name: string;
  session_id: string | null;
  status: WorkerStatus;
  paused: boolean;
  draining: boolean;
  in_pool: boolean;
  local_capacity: number;
  cluster_capacity: number;
  local_load: number;
}

/** The desired state of a worker, from its row's flags. */
export function desiredStatus(w: Pick<WorkerRow, 'paused' | 'draining' | 'in_pool'>, idle: boolean): WorkerStatus {
  if (w.draining) return idle ? WorkerStatus.Stopped : WorkerStatus.Draining;
  if (w.paused || !w.in_pool) return WorkerStatus.Paused;
  return WorkerStatus.Running;
}

export function createWorkerProtocol({ sequelize, logger, metrics }: WorkerProtocolDeps): WorkerProtocol {
  const log = logger.child({ part: 'worker-protocol' });

  async function directiveFor(w: WorkerRow, running: string[], idle: boolean): Promise<WorkerDirective> {
    const status = desiredStatus(w, idle);
    const offers =
      status === WorkerStatus.Running
        ? (await processingStages(sequelize)).map((s) => ({
            stageId: s.id,
            queueName: stageQueueName(s.id),
            localWorkUnits: s.definition.localWorkUnits,
            clusterWorkUnits: s.definition.clusterWorkUnits,
            target: s.target,
          }))
        : [];
    const cancel =
      running.length === 0
        ? []
        : (
            await sequelize.query<{ id: string }>(
              `SELECT id FROM task_executions WHERE id = ANY($1::uuid[])
                 AND (cancel_requested OR status IN ('succeeded', 'failed', 'canceled', 'lost'))`,
              { bind: [running], type: QueryTypes.SELECT },
            )
          ).map((r) => r.id);
    return {
      status,
      localCapacity: Number(w.local_capacity),
      clusterCapacity: Number(w.cluster_capacity),
      stages: offers,
      cancel,
    };
  }

  async function sessionWorker(sessionId: string): Promise<WorkerRow> {
    const [w] = await sequelize.query<WorkerRow>('SELECT * FROM workers WHERE session_id = $1', {
      bind: [sessionId],
      type: QueryTypes.SELECT,
    });
    if (!w) throw new StaleSessionError(sessionId);
    return w;
  }

  return {
    async registerWorker(input: RegisterWorkerRequest): Promise<WorkerRegistration> {
      const result = await sequelize.transaction(async (t) => {
        const [w] = await sequelize.query<WorkerRow>(
          `INSERT INTO workers (name, host, version, cpus, memory_mb, local_capacity, cluster_capacity, session_id,
                                status, last_heartbeat_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, gen_random_uuid(), 'running', now())
           ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, version = EXCLUDED.version, cpus = EXCLUDED.cpus,
             memory_mb = EXCLUDED.memory_mb, session_id = gen_random_uuid(), draining = false,
             status = 'running', last_heartbeat_at = now(), updated_at = now()
           RETURNING *`,
          {
            bind: [
              input.name,
              input.host,
              input.version,
              input.cpus,
              input.memoryMb,
              input.localCapacity,
              input.clusterCapacity,
            ],
            type: QueryTypes.SELECT,
            transaction: t,
          },
        );
        // Executions of the worker's earlier sessions: cluster jobs are handed back to re-attach; local processes
        // died with the old daemon and are recovered (retried within the policy).
        const orphans = await sequelize.query<{ id: string; target: string | null; cluster_job_id: string | null }>(
          `SELECT id, target, cluster_job_id FROM task_executions
           WHERE worker_id = $1 AND status IN ('submitted', 'running') AND worker_session_id IS DISTINCT FROM $2`,
          { bind: [w.id, w.session_id], type: QueryTypes.SELECT, transaction: t },
        );
        const reattach = orphans.filter((o) => o.target === 'cluster' && o.cluster_job_id);
        const lost = orphans.filter((o) => !(o.target === 'cluster' && o.cluster_job_id)).map((o) => o.id);
        if (reattach.length > 0) {
          await sequelize.query('UPDATE task_executions SET worker_session_id = $1 WHERE id = ANY($2::uuid[])', {
            bind: [w.session_id, reattach.map((r) => r.id)],
            transaction: t,
          });
        }
        const withPaths = reattach.length
          ? await sequelize.query<{
              id: string;
              cluster_job_id: string;
              stdout_path: string | null;
              stderr_path: string | null;
              expected_exit_code: number;
              work_units: number | null;
            }>(
              `SELECT id, cluster_job_id, stdout_path, stderr_path, expected_exit_code, work_units
               FROM task_executions WHERE id = ANY($1::uuid[])`,
              { bind: [reattach.map((r) => r.id)], type: QueryTypes.SELECT, transaction: t },
            )
          : [];
        await markLost(sequelize, t, lost, 'the worker restarted while it ran');
        return { w, reattach: withPaths, lost: lost.length };
      });
      log.info(
        { workerId: result.w.id, name: input.name, lost: result.lost, reattach: result.reattach.length },
        'worker registered',
      );
      await notifyChange(sequelize, { type: 'workers', workerId: result.w.id });
      return {
        workerId: result.w.id,
        sessionId: result.w.session_id!,
        directive: await directiveFor(result.w, [], true),
        reattach: result.reattach.map((r) => ({
          executionId: r.id,
          clusterJobId: r.cluster_job_id,
          stdoutPath: r.stdout_path,
          stderrPath: r.stderr_path,
          expectedExitCode: r.expected_exit_code,
          workUnits: Number(r.work_units ?? 1),
        })),
      };
    },

    async heartbeat(input: HeartbeatInput): Promise<WorkerDirective> {
      const [w] = await sequelize.query<WorkerRow>('SELECT * FROM workers WHERE id = $1', {
        bind: [input.workerId],
        type: QueryTypes.SELECT,
      });
      // An old daemon still running after a newer one registered under the same name, or a forgotten worker.
      if (!w || w.session_id !== input.sessionId) throw new StaleSessionError(input.sessionId);
      const idle = input.running.length === 0;
      const status = desiredStatus(w, idle);
      await sequelize.query(
        `UPDATE workers SET local_load = $2, cluster_load = $3, cpus = $4, memory_mb = $5, load_average = $6,
           last_heartbeat_at = now(), status = $7, updated_at = now()
         WHERE id = $1`,
        { bind: [w.id, input.localLoad, input.clusterLoad, input.cpus, input.memoryMb, input.loadAverage, status] },
      );
      const changed = { changed: w.status !== status || Number(w.local_load) !== input.localLoad };
      if (changed?.changed) await notifyChange(sequelize, { type: 'workers', workerId: w.id });
      void metrics
        ?.writeWorkerLoad({
          workerId: w.id,
          name: w.name,
          localLoad: input.localLoad,
          localCapacity: Number(w.local_capacity),
          clusterLoad: input.clusterLoad,
          clusterCapacity: Number(w.cluster_capacity),
          loadAverage: input.loadAverage,
          at: new Date(),
        })
        .catch((err: unknown) => log.warn({ err }, 'worker load metric not written'));
      return directiveFor({ ...w, status }, input.running, idle);
    },

    async reportExecutions(sessionId: string, reports: ExecutionReport[]): Promise<ReportResult> {
      const worker = await sessionWorker(sessionId);
      const ids = [...new Set(reports.map((r) => r.executionId))];
      const finished: ExecRow[] = [];
      const outcome = await sequelize.transaction(async (t) => {
        const rows = await lockExecutions(sequelize, t, ids);
        const byId = new Map(rows.map((r) => [r.id, { ...r }]));
        const changed = new Set<string>();
        const tileChanges = new Map<
          string,
          { exec: ExecRow; status: TileStatus; retryInSeconds: number | null; propagate: boolean }
        >();
        const rejected = new Set<string>();
        let applied = 0;
        for (const r of reports) {
          const e = byId.get(r.executionId);
          const at = new Date(r.at);
          if (!e) {
            if (r.status === ExecutionStatus.Submitted) rejected.add(r.executionId);
            continue;
          }
          const ours = e.worker_id === worker.id;
          if (isFinal(e.status)) {
            if (r.status === ExecutionStatus.Submitted) rejected.add(e.id);
            continue;
          }
          switch (r.status) {
            case ExecutionStatus.Submitted:
            case ExecutionStatus.Running: {
              if (e.status !== ExecutionStatus.Queued && !ours) {
                rejected.add(e.id);
                continue;
              }
              if (e.status === ExecutionStatus.Queued && e.cancel_requested) {
                rejected.add(e.id);
                continue;
              }
              if (r.status === ExecutionStatus.Submitted && e.status !== ExecutionStatus.Queued) continue; // repeat
              if (r.status === ExecutionStatus.Running && e.status === ExecutionStatus.Running) continue;
              e.status = r.status;
              e.worker_id = worker.id;
              e.worker_session_id = sessionId;
              e.target = r.target ?? e.target;
              e.work_units = r.workUnits ?? e.work_units;
              e.argv = r.argv ?? e.argv;
              e.cluster_job_id = r.clusterJobId ?? e.cluster_job_id;
              e.stdout_path = r.stdoutPath ?? e.stdout_path;
              e.stderr_path = r.stderrPath ?? e.stderr_path;
              e.submitted_at = e.submitted_at ?? at;
              if (r.status === ExecutionStatus.Running) e.started_at = e.started_at ?? new Date(r.startedAt ?? r.at);
              if (e.tile_status === TileStatus.Queued && e.current_execution_id === e.id) {
                tileChanges.set(e.id, {
                  exec: e,
                  status: TileStatus.Processing,
                  retryInSeconds: null,
                  propagate: false,
                });
                e.tile_status = TileStatus.Processing;
              }
              break;
            }
            case ExecutionStatus.Succeeded:
            case ExecutionStatus.Failed:
            case ExecutionStatus.Canceled:
            case ExecutionStatus.Lost: {
              if (e.worker_id !== null && !ours) continue;
              let final = r.status;
              let reason = r.failureReason ?? null;
              if (e.cancel_requested && final !== ExecutionStatus.Succeeded) {
                final = ExecutionStatus.Canceled;
                reason = FailureReason.Canceled;
              }
              e.status = final;
              e.worker_id = worker.id;
              e.worker_session_id = e.worker_session_id ?? sessionId;
              e.target = r.target ?? e.target;
              e.work_units = r.workUnits ?? e.work_units;
              e.argv = r.argv ?? e.argv;
              e.cluster_job_id = r.clusterJobId ?? e.cluster_job_id;
              e.stdout_path = r.stdoutPath ?? e.stdout_path;
              e.stderr_path = r.stderrPath ?? e.stderr_path;
              e.exit_code = r.exitCode ?? null;
              e.failure_reason = final === ExecutionStatus.Succeeded ? null : reason;
              e.message = r.message ?? null;
              e.cpu_seconds = r.cpuSeconds ?? null;
              e.peak_memory_mb = r.peakMemoryMb ?? null;
              e.submitted_at = e.submitted_at ?? at;
              e.started_at = e.started_at ?? (r.startedAt ? new Date(r.startedAt) : null);
              e.finished_at = at;
              if (e.current_execution_id === e.id && e.tile_status !== null) {
                const o = tileOutcome(e, final);
                tileChanges.set(e.id, { exec: e, ...o });
              }
              finished.push(e);
              break;
            }
            case ExecutionStatus.Queued:
              continue;
            default: {
              const never: never = r.status;
              throw new Error(`Unknown report status ${String(never)}`);
            }
          }
          changed.add(e.id);
          applied++;
        }
        await writeOutcomes(
          sequelize,
          t,
          [...changed].map((id) => byId.get(id)!),
          [...tileChanges.values()],
        );
        return { applied, rejected: [...rejected] };
      });
      if (finished.length > 0 && metrics) {
        void metrics
          .writeExecution(finished.map(toMetric))
          .catch((err: unknown) => log.warn({ err }, 'execution metrics not written'));
      }
      return outcome;
    },
  };
}

/**
 * Ends executions whose worker is gone (status lost, reason worker-lost); their tiles are retried within the
 * policy. Shared by registration (a restarted daemon) and the recovery sweep (a silent one).
 */
export async function markLost(
  sequelize: Sequelize,
  transaction: import('sequelize').Transaction,
  ids: string[],
  message: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await lockExecutions(sequelize, transaction, ids);
  const now = new Date();
  const changed: ExecRow[] = [];
  const tiles: Array<{ exec: ExecRow; status: TileStatus; retryInSeconds: number | null; propagate: boolean }> = [];
  for (const e of rows) {
    if (isFinal(e.status)) continue;
    e.status = ExecutionStatus.Lost;
    e.failure_reason = FailureReason.WorkerLost;
    e.message = message;
    e.finished_at = now;
    changed.push(e);
    if (e.current_execution_id === e.id) tiles.push({ exec: e, ...tileOutcome(e, ExecutionStatus.Lost) });
  }
  await writeOutcomes(sequelize, transaction, changed, tiles);
  return changed.length;
}
