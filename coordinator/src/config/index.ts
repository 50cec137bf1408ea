import path from 'node:path';
import { EnvReader, readServicesConfig, type ServicesConfig } from '@tileflow/shared';

/** Everything the coordinator (API and scheduler) reads from the environment, parsed once at startup. */
export interface CoordinatorConfig {
  services: ServicesConfig;
  api: {
    /** TILEFLOW_API_HOST, default 127.0.0.1 */
    host: string;
    /** TILEFLOW_API_PORT, default 4700; 0 picks a free port (tests). */
    port: number;
    /** TILEFLOW_CLIENT_DIR: built web client to serve, default client/dist beside the coordinator package. */
    clientDir: string;
  };
  auth: {
    /** TILEFLOW_SESSION_SECRET: signs user sessions; required, at least 32 characters. */
    sessionSecret: string;
    /** TILEFLOW_WORKER_TOKEN: the token workers present; required, at least 32 characters. */
    workerToken: string;
    /** TILEFLOW_ADMIN_USER, default admin: the first admin, created when no user exists. */
    adminUser: string;
    /** TILEFLOW_ADMIN_PASSWORD: the first admin's password; required only while no user exists. */
    adminPassword: string | undefined;
    /** TILEFLOW_ANONYMOUS_READ, default false: queries and events without signing in. */
    anonymousRead: boolean;
    /** TILEFLOW_SESSION_HOURS, default 12: lifetime of a sign-in token. */
    sessionHours: number;
  };
  scheduler: {
    /** TILEFLOW_INPUT_POLL_SECONDS, default 2: input-source polling interval. */
    inputPollSeconds: number;
    /** TILEFLOW_SCHEDULER_TICK_MS, default 1000: the scheduler's periodic pass (notices wake it sooner). */
    tickMs: number;
    /** TILEFLOW_WORKER_TIMEOUT_SECONDS, default 15: heartbeat silence after which a worker is unavailable. */
    workerTimeoutSeconds: number;
    /** TILEFLOW_QUEUED_RECHECK_SECONDS, default 30: age after which a queued execution missing from Redis is re-added. */
    queuedRecheckSeconds: number;
    /** TILEFLOW_DISPATCH_WINDOW, default 2000: most tiles of one stage queued in Redis at once. */
    dispatchWindow: number;
    /** TILEFLOW_BATCH_SIZE, default 2000: rows per readiness or dispatch batch. */
    batchSize: number;
    /** TILEFLOW_SCHEDULER_HEALTH_PORT: where a scheduler-only process answers GET /healthz; none by default. */
    healthPort: number | undefined;
  };
}

const MIN_SECRET = 32;

export function readCoordinatorConfig(env: EnvReader = new EnvReader()): CoordinatorConfig {
  const secret = (name: string) => {
    const v = env.secret(name);
    if (v.length < MIN_SECRET) {
      throw new Error(`${name}: must be at least ${MIN_SECRET} characters; generate one with: openssl rand -hex 24`);
    }
    return v;
  };
  return {
    services: readServicesConfig(env),
    api: {
      host: env.string('TILEFLOW_API_HOST', '127.0.0.1'),
      port: env.int('TILEFLOW_API_PORT', 4700, 0, 65535),
      clientDir: path.resolve(
        env.string('TILEFLOW_CLIENT_DIR', path.join(import.meta.dirname, '..', '..', '..', 'client', 'dist')),
      ),
    },
    auth: {
      sessionSecret: secret('TILEFLOW_SESSION_SECRET'),
      workerToken: secret('TILEFLOW_WORKER_TOKEN'),
      adminUser: env.string('TILEFLOW_ADMIN_USER', 'admin'),
      adminPassword: env.optionalString('TILEFLOW_ADMIN_PASSWORD'),
      anonymousRead: env.bool('TILEFLOW_ANONYMOUS_READ', false),
      sessionHours: env.number('TILEFLOW_SESSION_HOURS', 12, 0.01, 24 * 365),
    },
    scheduler: {
      inputPollSeconds: env.number('TILEFLOW_INPUT_POLL_SECONDS', 2, 0.05, 3600),
      tickMs: env.int('TILEFLOW_SCHEDULER_TICK_MS', 1000, 10, 60_000),
      workerTimeoutSeconds: env.number('TILEFLOW_WORKER_TIMEOUT_SECONDS', 15, 1, 3600),
      queuedRecheckSeconds: env.number('TILEFLOW_QUEUED_RECHECK_SECONDS', 30, 1, 3600),
      dispatchWindow: env.int('TILEFLOW_DISPATCH_WINDOW', 2000, 1, 1_000_000),
      batchSize: env.int('TILEFLOW_BATCH_SIZE', 2000, 1, 100_000),
      healthPort: env.optionalString('TILEFLOW_SCHEDULER_HEALTH_PORT')
        ? env.int('TILEFLOW_SCHEDULER_HEALTH_PORT', 0, 0, 65535)
        : undefined,
    },
  };
}
