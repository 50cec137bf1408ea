/**
 * Test support for the API: over a test database (test/helpers.ts), real scheduler actions and worker protocol (over
 * a random queue prefix), real metrics (a database of its own in InfluxDB), and the API server on a free port.
 * Used by the *.integration.test.ts files of the API, realtime and CLI; not part of the running coordinator.
 */
import { randomBytes } from 'node:crypto';
import { InfluxDB } from 'influx';
import { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { EnvReader, type ServicesConfig } from '@tileflow/shared';
import { readCoordinatorConfig, type CoordinatorConfig } from '../config/index.js';
import { createLogger, type Logger } from '../logger.js';
import { createMetrics, type Metrics } from '../metrics/influx.js';
import { createSchedulerActions } from '../scheduler/actions.js';
import { createQueues, type Queues } from '../scheduler/queues.js';
import { createWorkerProtocol } from '../scheduler/worker-protocol.js';
import { createApiServer, type ApiServer } from './api.js';

export const testLogger: Logger = createLogger('api-test', process.env.TILEFLOW_TEST_LOG_LEVEL ?? 'warn');

const randomName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

/** A migrated database of the test's own (test/helpers.ts createTestDatabase gives one). */
export interface HarnessDatabase {
  config: ServicesConfig['db'];
  sequelize: Sequelize;
  drop(): Promise<void>;
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read deep into the answers they assert on
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{
    status: number;
    data?: T;
    errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string } }>;
  }>;
  signIn(username?: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the API over the given database (dropped by close()). `env` overrides configuration variables. */
export async function startApiHarness(
  database: HarnessDatabase,
  env: Record<string, string> = {},
): Promise<ApiHarness> {
  const { config: db, sequelize, drop } = database;
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
      const influx = config.services.influx;
      await new InfluxDB({ host: influx.host, port: influx.port, username: influx.user, password: influx.password })
        .dropDatabase(influx.database)
        .catch(() => undefined);
      await drop();
    },
  };
  return harness;
}

/** Inserts an nx × ny lattice on each plane of `zs` (relative paths z/y/x, like MouseLight's); returns the count. */
export async function insertLattice(
  sequelize: Sequelize,
  projectId: string,
  o: { nx: number; ny: number; zs: number[]; complete?: boolean },
): Promise<number> {
  const [, count] = await sequelize.query(
    `INSERT INTO tiles (project_id, relative_path, tile_name, x, y, z, is_complete)
     SELECT $1, format('%s/%s/%s', z, y, x), format('tile-%s-%s-%s', x, y, z), x, y, z, $5
     FROM unnest($4::int[]) AS z, generate_series(0, $2 - 1) AS x, generate_series(0, $3 - 1) AS y`,
    { bind: [projectId, o.nx, o.ny, o.zs, o.complete ?? true] },
  );
  return Number(count);
}

/** Sets a tile's state in a stage (inserting the row), as the scheduler would. */
export async function setTileState(
  sequelize: Sequelize,
  stageId: string,
  where: { x: number; y: number; z: number } | { relativePath: string },
  status: string,
  attempts = 0,
): Promise<string> {
  const [rows] = await sequelize.query(
    `INSERT INTO stage_tile_states (stage_id, tile_id, project_id, x, y, z, status, attempts)
     SELECT s.id, t.id, t.project_id, t.x, t.y, t.z, $2, $3
     FROM stages s JOIN tiles t ON t.project_id = s.project_id
     WHERE s.id = $1 AND ${'relativePath' in where ? 't.relative_path = $4' : 't.x = $4 AND t.y = $5 AND t.z = $6'}
     ON CONFLICT (stage_id, tile_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts,
       updated_at = now()
     RETURNING tile_id::text`,
    {
      bind: [
        stageId,
        status,
        attempts,
        ...('relativePath' in where ? [where.relativePath] : [where.x, where.y, where.z]),
      ],
    },
  );
  const id = (rows as Array<{ tile_id: string }>)[0]?.tile_id;
  if (!id) throw new Error(`no tile ${JSON.stringify(where)} for stage ${stageId}`);
  return id;
}
