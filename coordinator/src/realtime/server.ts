import type { Server as HttpServer } from 'node:http';
import { QueryTypes, type Sequelize } from 'sequelize';
import { Server } from 'socket.io';
import {
  WORKERS_ROOM,
  projectRoom,
  type ClientToServerEvents,
  type ExecutionEvent,
  type ProjectEvent,
  type ServerToClientEvents,
  type ServicesConfig,
  type StageCountsEvent,
  type StatusCounts,
  type WorkerEvent,
} from '@tileflow/shared';
import { canRead, type Authenticator, type Caller } from '../auth/caller.js';
import type { ChangeNotice } from '../db/notify.js';
import type { Logger } from '../logger.js';
import { isUuid } from '../graphql/errors.js';
import {
  liveStageIds,
  stageStatusRows,
  tileTotals,
  withIncomplete,
  type TileTotals,
} from '../graphql/modules/projects/counts.js';
import { NoticeAggregator, type ProjectChanges } from './aggregator.js';
import { createNoticeListener, type NoticeListener } from './listener.js';

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

interface SocketData {
  caller: Caller;
}

export interface RealtimeOptions {
  httpServer: HttpServer;
  authenticator: Authenticator;
  sequelize: Sequelize;
  db: ServicesConfig['db'];
  logger: Logger;
  /** Aggregation window in ms (default 250): at most one event of each kind per project per window. */
  windowMs?: number;
}

export interface Realtime {
  io: RealtimeServer;
  /** Starts listening for change notices. */
  start(): Promise<void>;
  /** Feeds a notice directly (the LISTEN connection does this for notices from every process). */
  notice(notice: ChangeNotice): void;
  close(): Promise<void>;
}

/** Most executions sent per project per window; the UI shows recent ones, the counts carry the totals. */
const MAX_EXECUTIONS = 500;

/**
 * The socket.io server: authenticates handshakes like the API (token in `auth.token`), lets clients join project
 * rooms, and turns change notices into a few aggregated events per window.
 */
export function createRealtime(opts: RealtimeOptions): Realtime {
  const { sequelize, logger } = opts;
  const windowMs = opts.windowMs ?? 250;
  const io: RealtimeServer = new Server(opts.httpServer, { serveClient: false });
  const aggregator = new NoticeAggregator();
  /** Tile totals per project, recounted only when its input or settings change. */
  const totals = new Map<string, TileTotals>();
  /** Rows per status of each stage of a project (ordered as Project.stages), recounted only for touched stages. */
  const stageRows = new Map<string, Map<string, StatusCounts>>();
  /** Executions already sent, with when they may be forgotten (the executions query overlaps windows). */
  const sentExecutions = new Map<string, number>();
  const executionWatermark = new Map<string, Date>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;

  io.use((socket, next) => {
    const raw = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    opts.authenticator
      .callerForToken(typeof raw === 'string' ? raw : undefined)
      .then((caller) => {
        if (!canRead(caller, opts.authenticator.anonymousRead)) {
          const err = new Error(
            caller.kind === 'worker'
              ? 'forbidden: the worker token cannot subscribe to events'
              : 'unauthorized: sign in and pass the token as auth.token',
          );
          next(err);
          return;
        }
        socket.data.caller = caller;
        next();
      })
      .catch((err: unknown) => next(err as Error));
  });

  io.on('connection', (socket) => {
    void socket.join(WORKERS_ROOM);
    socket.on('subscribe', (projectId) => {
      if (typeof projectId !== 'string' || !isUuid(projectId)) return;
      void socket.join(projectRoom(projectId));
      // A fresh snapshot, so the client does not wait for the next change.
      countsEvent(projectId)
        .then((e) => socket.emit('stageCounts', e))
        .catch((err: unknown) => logger.warn({ err, projectId }, 'realtime: snapshot failed'));
    });
    socket.on('unsubscribe', (projectId) => {
      if (typeof projectId === 'string') void socket.leave(projectRoom(projectId));
    });
  });

  const hasListeners = (room: string) => (io.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;

  /**
   * The counts of a project's stages. Only `touched` stages are recounted when the others are known (a GROUP BY over
   * a million-row stage is what this saves); everything is recounted when `touched` is undefined.
   */
  async function countsEvent(projectId: string, touched?: Set<string>): Promise<StageCountsEvent> {
    let known = totals.get(projectId);
    if (!known) {
      known = await tileTotals(sequelize, projectId);
      totals.set(projectId, known);
    }
    let rows = stageRows.get(projectId);
    const partial = rows && touched && [...touched].every((id) => rows!.has(id));
    if (rows && partial) {
      const fresh = await stageStatusRows(sequelize, [...touched!]);
      for (const [id, r] of fresh) rows.set(id, r);
    } else {
      rows = await stageStatusRows(sequelize, await liveStageIds(sequelize, projectId));
      stageRows.set(projectId, rows);
    }
    return {
      projectId,
      tiles: known.tiles,
      stages: [...rows].map(([stageId, r]) => ({ stageId, counts: withIncomplete(r, known.eligible) })),
    };
  }

  async function projectEvent(projectId: string): Promise<ProjectEvent | null> {
    const [row] = await sequelize.query<{
      is_processing: boolean;
      input_state: ProjectEvent['inputState'];
      input_message: string | null;
    }>('SELECT is_processing, input_state, input_message FROM projects WHERE id = $1', {
      bind: [projectId],
      type: QueryTypes.SELECT,
    });
    return row
      ? { projectId, isProcessing: row.is_processing, inputState: row.input_state, inputMessage: row.input_message }
      : null;
  }

  /** Executions of the touched stages that finished since the last window (index stage_id, finished_at). */
  async function executionEvents(projectId: string, stageIds: string[], now: Date): Promise<ExecutionEvent[]> {
    const since = executionWatermark.get(projectId) ?? new Date(now.getTime() - 5000);
    executionWatermark.set(projectId, now);
    if (stageIds.length === 0) return [];
    // Overlap a little: a transaction's timestamps precede its commit.
    const from = new Date(since.getTime() - 2000);
    const rows = await sequelize.query<{
      id: string;
      stage_id: string;
      tile_id: string;
      status: ExecutionEvent['status'];
      finished_at: Date;
    }>(
      `SELECT id, stage_id, tile_id::text AS tile_id, status, finished_at FROM task_executions
       WHERE stage_id = ANY($1::uuid[]) AND finished_at > $2 ORDER BY finished_at DESC LIMIT $3`,
      { bind: [stageIds, from, MAX_EXECUTIONS], type: QueryTypes.SELECT },
    );
    const expires = now.getTime() + 10_000;
    const events: ExecutionEvent[] = [];
    for (const r of rows.reverse()) {
      const key = `${r.id}|${r.status}`;
      if (sentExecutions.has(key)) continue;
      sentExecutions.set(key, expires);
      events.push({
        executionId: r.id,
        projectId,
        stageId: r.stage_id,
        tileId: r.tile_id,
        status: r.status,
        at: new Date(r.finished_at).toISOString(),
      });
    }
    return events;
  }

  async function workerEvents(): Promise<WorkerEvent[]> {
    const rows = await sequelize.query<{
      id: string;
      name: string;
      status: WorkerEvent['status'];
      local_load: number;
      local_capacity: number;
      cluster_load: number;
      cluster_capacity: number;
      last_heartbeat_at: Date | null;
    }>(
      `SELECT id, name, status, local_load, local_capacity, cluster_load, cluster_capacity, last_heartbeat_at
       FROM workers ORDER BY name`,
      { type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({
      workerId: r.id,
      name: r.name,
      status: r.status,
      localLoad: Number(r.local_load),
      localCapacity: Number(r.local_capacity),
      clusterLoad: Number(r.cluster_load),
      clusterCapacity: Number(r.cluster_capacity),
      lastHeartbeatAt: r.last_heartbeat_at ? new Date(r.last_heartbeat_at).toISOString() : null,
    }));
  }

  async function flushProject(projectId: string, changes: ProjectChanges, now: Date): Promise<void> {
    const room = projectRoom(projectId);
    if (changes.tiles || changes.topology) totals.delete(projectId);
    if (changes.topology) stageRows.delete(projectId);
    if (!hasListeners(room)) {
      // Nobody watches: forget instead of recounting; a subscriber gets a full snapshot.
      totals.delete(projectId);
      stageRows.delete(projectId);
      return;
    }
    io.to(room).emit('stageCounts', await countsEvent(projectId, changes.stageIds));
    if (changes.planes.length > 0) io.to(room).emit('planesChanged', { projectId, planes: changes.planes });
    if (changes.topology) {
      const p = await projectEvent(projectId);
      if (p) io.to(room).emit('project', p);
    }
    if (changes.states) {
      const executions = await executionEvents(projectId, [...changes.stageIds], now);
      if (executions.length > 0) io.to(room).emit('executions', executions);
    }
  }

  async function flush(): Promise<void> {
    const window = aggregator.take();
    const now = new Date();
    for (const [key, expiry] of sentExecutions) if (expiry < now.getTime()) sentExecutions.delete(key);
    for (const [projectId, changes] of window.projects) {
      try {
        await flushProject(projectId, changes, now);
      } catch (err) {
        logger.warn({ err, projectId }, 'realtime: could not compute project events');
      }
    }
    if (window.workers !== null && hasListeners(WORKERS_ROOM)) {
      try {
        io.to(WORKERS_ROOM).emit('workers', await workerEvents());
      } catch (err) {
        logger.warn({ err }, 'realtime: could not read workers');
      }
    }
  }

  /** One flush at a time, at most one per window: a burst of notices becomes one set of events per window. */
  function schedule(): void {
    if (timer || flushing || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (aggregator.pending) schedule();
      });
    }, windowMs);
  }

  const notice = (n: ChangeNotice) => {
    aggregator.add(n);
    schedule();
  };

  const listener: NoticeListener = createNoticeListener({
    db: opts.db,
    logger,
    onNotice: notice,
    onResync: () => {
      totals.clear();
      stageRows.clear();
      for (const room of io.sockets.adapter.rooms.keys()) {
        if (room.startsWith('project:')) aggregator.touch(room.slice('project:'.length));
      }
      aggregator.touchWorkers();
      schedule();
    },
  });

  return {
    io,
    notice,
    start: () => listener.start(),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await listener.close();
      await flushing;
    },
  };
}
