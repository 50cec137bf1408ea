/**
 * The composition root. `createCoordinator(config, parts)` builds the database pool, Redis, the dispatch queues, the
 * metrics writer, the scheduler with the input watchers, and the API server (GraphQL, socket.io, the web client),
 * and hands them down. Nothing starts until `start()`; `stop()` undoes each part in reverse order.
 */
import http from 'node:http';
import { Redis } from 'ioredis';
import type { CoordinatorConfig } from './config/index.js';
import { createSequelize } from './db/connection.js';
import { createInputWatcher } from './input-sources/watcher.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics/influx.js';
import { createSchedulerActions } from './scheduler/actions.js';
import { createScheduler } from './scheduler/index.js';
import { createQueues } from './scheduler/queues.js';
import { createWorkerProtocol } from './scheduler/worker-protocol.js';
import { createApiServer } from './server/api.js';

/** Which parts this process runs: the API, the scheduler (with input watchers), or both. */
export type CoordinatorParts = 'api' | 'scheduler' | 'all';

export interface Coordinator {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The API's port once started (the API part only). */
  port(): number | undefined;
}

export function createCoordinator(config: CoordinatorConfig, parts: CoordinatorParts, logger: Logger): Coordinator {
  const shutdown: Array<() => Promise<unknown>> = [];
  let apiPort: number | undefined;

  return {
    port: () => apiPort,
    async start() {
      const sequelize = createSequelize(config.services.db, undefined, parts === 'api' ? 10 : 15);
      shutdown.push(() => sequelize.close());
      await sequelize.authenticate();
      const redis = new Redis({
        host: config.services.redis.host,
        port: config.services.redis.port,
        password: config.services.redis.password,
        maxRetriesPerRequest: null,
      });
      let redisError = '';
      redis.on('error', (err) => {
        redisError = err.message;
        logger.warn({ err: err.message }, 'redis');
      });
      // quit() waits for a reply, which never comes from a Redis that was never reached: disconnect then.
      shutdown.push(async () =>
        redis.status === 'ready' ? redis.quit().catch(() => redis.disconnect()) : redis.disconnect(),
      );
      await answers(redis, () => redisError, config.services.redis);
      const queues = createQueues(redis, config.services.redis.prefix);
      shutdown.push(() => queues.close());
      const metrics = createMetrics(config.services.influx);

      if (parts === 'scheduler' || parts === 'all') {
        const scheduler = createScheduler(
          { sequelize, redis, queues, db: config.services.db, config: config.scheduler, logger },
          config.services.redis.prefix,
        );
        const watcher = createInputWatcher({ sequelize, logger, pollSeconds: config.scheduler.inputPollSeconds });
        await scheduler.start();
        shutdown.push(() => scheduler.stop());
        await watcher.start();
        shutdown.push(() => watcher.stop());
        if (config.scheduler.healthPort !== undefined && parts === 'scheduler') {
          const health = await serveSchedulerHealth(config.api.host, config.scheduler.healthPort, () => {
            const last = scheduler.lastPassAt();
            // Healthy while passes keep coming: the tick alone makes one at least every tickMs.
            return last !== undefined && Date.now() - last.getTime() < Math.max(30_000, config.scheduler.tickMs * 10);
          });
          shutdown.push(() => new Promise((resolve) => health.close(resolve)));
        }
      }
      if (parts === 'api' || parts === 'all') {
        const actions = createSchedulerActions({ sequelize, queues, logger });
        const workerProtocol = createWorkerProtocol({ sequelize, logger, metrics });
        const api = createApiServer({ config, sequelize, redis, metrics, actions, workerProtocol, logger });
        const { port } = await api.listen();
        apiPort = port;
        shutdown.push(() => api.close());
        logger.info({ url: `http://${config.api.host}:${port}` }, 'API listening');
      }
    },
    async stop() {
      for (const fn of shutdown.reverse()) {
        await fn().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
      }
      shutdown.length = 0;
    },
  };
}

/** A scheduler-only process answers GET /healthz (200 while its passes keep coming, 503 otherwise). */
function serveSchedulerHealth(host: string, port: number, healthy: () => boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const ok = req.url === '/healthz' && healthy();
    res.writeHead(req.url === '/healthz' ? (ok ? 200 : 503) : 404, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok\n' : 'not ok\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Waits for Redis to answer a PING, or fails startup naming the address and what Redis said (a wrong password…). */
async function answers(redis: Redis, lastError: () => string, at: { host: string; port: number }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `Redis at ${at.host}:${at.port} did not answer within 10 s (${lastError() || 'no reply'}): ` +
              'check that it runs (npm run services -- status) and TILEFLOW_REDIS_PASSWORD',
          ),
        ),
      10_000,
    );
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
