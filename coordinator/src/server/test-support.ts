/**
 * Test support for the API: a migrated database of its own, real scheduler actions and worker protocol (over a
 * random queue prefix), real metrics (a database of its own in InfluxDB), and the API server on a free port.
 * Used by the *.integration.test.ts files of the API, realtime and CLI; not part of the running coordinator.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import { EnvReader, readServicesConfig, type ServicesConfig } from '@tileflow/shared';
import { readCoordinatorConfig, type CoordinatorConfig } from '../config/index.js';
import { createSequelize } from '../db/connection.js';
import { migrateUp } from '../db/migrate.js';
import { createLogger, type Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics/influx.js';
import { createSchedulerActions } from '../scheduler/actions.js';
import { createQueues, type Queues } from '../scheduler/queues.js';
import { createWorkerProtocol } from '../scheduler/worker-protocol.js';
import { createApiServer, type ApiServer } from './api.js';

export const testLogger: Logger = createLogger('api-test', process.env.TILEFLOW_TEST_LOG_LEVEL ?? 'warn');

const randomName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A fresh, migrated database; `drop()` removes it. */
export async function createMigratedDatabase(): Promise<{
  db: ServicesConfig['db'];
  sequelize: Sequelize;
  drop(): Promise<void>;
}> {
  const base = readServicesConfig().db;
  const db = { ...base, database: randomName('tileflow_api') };
  const admin = new pg.Client({ ...base, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${db.database}`);
  } finally {
    await admin.end();
  }
  const sequelize = createSequelize(db);
  await migrateUp(sequelize);
  return {
    db,
    sequelize,
    async drop() {
      await sequelize.close();
      const c = new pg.Client({ ...base, database: 'postgres' });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${db.database} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface ApiHarness {
  url: string;
  port: number;
  config: CoordinatorConfig;
  sequelize: Sequelize;
  server: ApiServer;
  redis: Redis;
  queues: Queues;
  metrics: Metrics;
  admin: { username: string; password: string };
  workerToken: string;
  /** POSTs an operation; token undefined = the admin's, null = anonymous. */
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{ status: number; data?: T; errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } }> }>;
  signIn(username?: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the API over a database of its own. `env` overrides configuration variables. */
export async function startApiHarness(env: Record<string, string> = {}): Promise<ApiHarness> {
  const { db, sequelize, drop } = await createMigratedDatabase();
  const prefix = randomName('tfapi');
  const secret = () => randomBytes(24).toString('hex');
  const admin = { username: 'admin', password: `pw-${secret()}` };
  const workerToken = secret();
  const config = readCoordinatorConfig(
    new EnvReader({
      ...process.env,
      TILEFLOW_DB_NAME: db.database,
      TILEFLOW_QUEUE_PREFIX: prefix,
      TILEFLOW_INFLUX_DATABASE: prefix,
      TILEFLOW_API_HOST: '127.0.0.1',
      TILEFLOW_API_PORT: '0',
      TILEFLOW_SESSION_SECRET: secret(),
      TILEFLOW_WORKER_TOKEN: workerToken,
      TILEFLOW_ADMIN_USER: admin.username,
      TILEFLOW_ADMIN_PASSWORD: admin.password,
      TILEFLOW_ANONYMOUS_READ: 'false',
      ...env,
    }),
  );
  const redis = new Redis({
    host: config.services.redis.host,
    port: config.services.redis.port,
    password: config.services.redis.password,
    maxRetriesPerRequest: null,
  });
  const queues = createQueues(redis, prefix);
  const metrics = createMetrics(config.services.influx);
  const server = createApiServer({
    config,
    sequelize,
    redis,
    metrics,
    actions: createSchedulerActions({ sequelize, queues, logger: testLogger }),
    workerProtocol: createWorkerProtocol({ sequelize, logger: testLogger, metrics }),
    logger: testLogger,
  });
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;

  let adminToken: string | undefined;
  const harness: ApiHarness = {
    url,
    port,
    config,
    sequelize,
    server,
    redis,
    queues,
    metrics,
    admin,
    workerToken,
    async gql(query, variables = {}, token) {
      const auth = token === null ? undefined : (token ?? (await harness.signIn()));
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: never; errors?: never };
      return { status: res.status, ...body };
    },
    async signIn(username = admin.username, password = admin.password) {
      const isAdmin = username === admin.username && password === admin.password;
      if (isAdmin && adminToken) return adminToken;
      const r = await harness.gql<{ signIn: { token: string | null; errors: Array<{ message: string }> } }>(
        'mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { token errors { field message } } }',
        { u: username, p: password },
        null,
      );
      const token = r.data?.signIn.token;
      if (!token) throw new Error(`sign-in of ${username} failed: ${JSON.stringify(r)}`);
      if (isAdmin) adminToken = token;
      return token;
    },
    async close() {
      await server.close();
      await queues.close();
      await redis.quit();
      await drop();
    },
  };
  return harness;
}
