/**
 * The scheduler: wakes on change notices (and on a periodic tick), and for each project that changed runs
 * readiness (what became ready) and dispatch (what to queue), plus the recovery sweeps. Work is proportional to
 * what changed: flagged rows, cursors and bounded queue windows, never a scan of a whole tile table.
 */
import pg from 'pg';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import type { ServicesConfig } from '@tileflow/shared';
import type { CoordinatorConfig } from '../config/index.js';
import { CHANGE_CHANNEL, notifyChange, type ChangeNotice } from '../db/notify.js';
import type { Logger } from '../logger.js';
import { dispatchCandidates, dispatchStage } from './dispatch.js';
import type { Queues } from './queues.js';
import { propagateProject } from './readiness.js';
import { requeueMissing, sweepSilentWorkers } from './recovery.js';
import { liveProjectIds, loadProject, loadStages } from './topology.js';

export interface SchedulerDeps {
  sequelize: Sequelize;
  redis: Redis;
  queues: Queues;
  db: ServicesConfig['db'];
  config: CoordinatorConfig['scheduler'];
  logger: Logger;
}

/** Lifecycle: created → running (start) → stopped (stop). */
export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Time of the last completed pass, or undefined before the first. */
  lastPassAt(): Date | undefined;
}

/** Milliseconds a change notice waits for others before the pass it triggers. */
const NOTICE_DEBOUNCE_MS = 40;

/** Redis key holding the ISO time of the scheduler's last pass. */
export const schedulerSeenKey = (prefix: string) => `${prefix}:scheduler:seen`;

export function createScheduler(deps: SchedulerDeps, prefix: string): Scheduler {
  const { sequelize, redis, queues, config } = deps;
  const log = deps.logger.child({ part: 'scheduler' });
  const dirty = new Set<string>();
  let allDirty = true;
  let listener: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let tick: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  let lastRequeue = 0;
  let requeueAll = true;
  let lastPass: Date | undefined;
  const seenKey = schedulerSeenKey(prefix);

  async function passProject(projectId: string): Promise<void> {
    const project = await loadProject(sequelize, projectId);
    if (!project) return;
    const stages = await loadStages(sequelize, projectId);
    if (stages.length === 0) return;
    const changedStages = new Set<string>();
    // Readiness: a bounded number of batches per pass, so one busy project cannot starve the others.
    for (let i = 0; i < 20; i++) {
      const r = await propagateProject(sequelize, project, stages, config.batchSize);
      r.stageIds.forEach((s) => changedStages.add(s));
      if (!r.more) break;
      if (i === 19) again = true;
      // Cursors moved: reload them.
      const fresh = await loadStages(sequelize, projectId);
      stages.splice(0, stages.length, ...fresh);
    }
    const planes: Array<{ stageId: string; z: number | null }> = [];
    if (project.isProcessing) {
      const processing = stages.filter((s) => s.isProcessing);
      const candidates = await dispatchCandidates(
        sequelize,
        processing.map((s) => s.id),
      );
      for (const stage of processing) {
        const c = candidates.get(stage.id);
        if (!c?.ready) continue;
        const room = config.dispatchWindow - c.queued;
        const parent = stages.find((s) => s.id === stage.parentId);
        const d = await dispatchStage(sequelize, queues, project, stage, parent, room);
        if (d.queued + d.refused > 0) {
          changedStages.add(stage.id);
          d.planes.forEach((z) => planes.push({ stageId: stage.id, z }));
        }
        if (d.queued === room && room > 0) again = true;
      }
    }
    if (changedStages.size > 0) {
      await notifyChange(sequelize, {
        type: 'states',
        projectId,
        stageIds: [...changedStages],
        planes,
        origin: 'scheduler',
      });
    }
  }

  async function pass(): Promise<void> {
    const ids = allDirty ? await liveProjectIds(sequelize) : [...dirty];
    allDirty = false;
    dirty.clear();
    for (const id of ids) {
      try {
        await passProject(id);
      } catch (err) {
        log.error({ err, projectId: id }, 'scheduler pass failed for project; retried next tick');
      }
    }
    try {
      await sweepSilentWorkers(sequelize, config.workerTimeoutSeconds, log);
    } catch (err) {
      log.error({ err }, 'worker sweep failed');
    }
    const now = Date.now();
    if (requeueAll || now - lastRequeue > (config.queuedRecheckSeconds * 1000) / 2) {
      try {
        await requeueMissing(sequelize, queues, requeueAll ? 0 : config.queuedRecheckSeconds, log);
        requeueAll = false;
        lastRequeue = now;
      } catch (err) {
        log.warn({ err }, 'requeue sweep failed (Redis down?); retried next tick');
      }
    }
    lastPass = new Date();
    await redis.set(seenKey, lastPass.toISOString(), 'EX', 3600).catch(() => undefined);
  }

  /** Runs passes one at a time; a request during a pass makes one more pass after it. */
  function schedule(delayMs = 10): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = pass()
        .catch((err: unknown) => log.error({ err }, 'scheduler pass failed'))
        .finally(() => {
          running = undefined;
          if (again) {
            again = false;
            schedule(0);
          }
        });
    }, delayMs);
  }

  function onNotice(payload: string | undefined): void {
    if (!payload) return;
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(payload) as ChangeNotice;
    } catch {
      return;
    }
    if (notice.type === 'states' && notice.origin === 'scheduler') return;
    if ('projectId' in notice) dirty.add(notice.projectId);
    // A short debounce: a burst of completions makes one pass, not one each.
    schedule(NOTICE_DEBOUNCE_MS);
  }

  async function listen(): Promise<void> {
    const client = new pg.Client({
      host: deps.db.host,
      port: deps.db.port,
      database: deps.db.database,
      user: deps.db.user,
      password: deps.db.password,
    });
    client.on('notification', (m) => onNotice(m.payload));
    client.on('error', (err) => {
      log.warn({ err }, 'notice listener lost its connection; reconnecting');
      listener = undefined;
      if (!stopped) setTimeout(() => void listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    listener = client;
    allDirty = true;
    schedule(0);
  }

  const onRedisReady = () => {
    // Redis came back (restarted or flushed): rebuild every queue from Postgres.
    requeueAll = true;
    allDirty = true;
    schedule(0);
  };

  return {
    lastPassAt: () => lastPass,
    async start() {
      stopped = false;
      await listen();
      redis.on('ready', onRedisReady);
      tick = setInterval(() => {
        allDirty = true;
        schedule(0);
      }, config.tickMs);
      log.info('scheduler started');
    },
    async stop() {
      stopped = true;
      if (tick) clearInterval(tick);
      if (timer) clearTimeout(timer);
      redis.off('ready', onRedisReady);
      await running;
      await listener?.end().catch(() => undefined);
      listener = undefined;
    },
  };
}
