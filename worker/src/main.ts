/**
 * Worker daemon entry point: `node worker/dist/main.js`. Configuration comes from the environment (see
 * .env-template, Worker section). SIGTERM or SIGINT drains: no new work, running local scripts finish, reports are
 * flushed; cluster jobs keep running and are re-attached by the next start.
 */
import { Redis } from 'ioredis';
import { ConfigError } from '@tileflow/shared';
import { readWorkerConfig } from './config/index.js';
import { createDaemon } from './daemon.js';
import { createLocalExecutor } from './executors/local/executor.js';
import { createCoordinatorApi } from './reporting/api.js';
import { createLogger } from './logger.js';
import type { ExecutorFactory } from './executors/types.js';

const VERSION = '0.1.0';

async function main(): Promise<void> {
  const logger = createLogger('tileflow-worker');
  let config;
  try {
    config = readWorkerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal(err.message);
      process.exit(2);
    }
    throw err;
  }
  const redis = new Redis({
    host: config.redis.host,
    port: config.redis.port,
    password: config.redis.password,
    maxRetriesPerRequest: null,
  });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis'));
  let makeCluster: ExecutorFactory | undefined;
  if (config.clusterCapacity > 0) {
    const { createSlurmExecutor } = await import('./executors/slurm/index.js');
    makeCluster = (events) => createSlurmExecutor(events, { pollSeconds: config.slurmPollSeconds, logger });
  }
  const daemon = createDaemon({
    config,
    api: createCoordinatorApi(config.url, config.token),
    redis,
    logger,
    makeLocal: (events) => createLocalExecutor(events, { killGraceSeconds: config.killGraceSeconds }),
    makeCluster,
    version: VERSION,
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining running work');
    // Drained scripts may take long, but a second signal, or a stop stuck on a dead service, must end it.
    process.once(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM', () => process.exit(1));
    void daemon
      .stop()
      .then(() => redis.quit())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  for (;;) {
    try {
      await daemon.start();
      break;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not register with the coordinator; retrying in 2 s');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

void main();
