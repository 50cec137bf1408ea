/**
 * A whole Tileflow in one test process: the coordinator (API + scheduler + input watchers) on a free port, over
 * its own database (cloned from the migrated template) and queue prefix, with worker daemons talking to it over
 * HTTP exactly as remote ones do. For end-to-end tests of the API, the CLI and the web client.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { EnvReader } from '@tileflow/shared';
import { readCoordinatorConfig, type CoordinatorConfig } from '../coordinator/src/config/index.js';
import { createCoordinator } from '../coordinator/src/coordinator.js';
import { createDaemon, type Daemon } from '../worker/src/daemon.js';
import { createLocalExecutor } from '../worker/src/executors/local/executor.js';
import { createSlurmExecutor } from '../worker/src/executors/slurm/index.js';
import { createCoordinatorApi } from '../worker/src/reporting/api.js';
import { createTestDatabase, randomQueuePrefix } from './helpers.js';
import { stackEnv } from './processes.js';
import { logger } from './pipeline-kit.js';

export interface Stack {
  url: string;
  sequelize: Sequelize;
  config: CoordinatorConfig;
  admin: { username: string; password: string };
  workerToken: string;
  /** The environment a CLI subprocess needs to reach this stack. */
  cliEnv: Record<string, string>;
  /** Signs in as the admin and returns a bearer token. */
  signIn(username?: string, password?: string): Promise<string>;
  /** POSTs a GraphQL operation with the admin's token (or the one given; null = anonymous). */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  /** A worker daemon over HTTP; with clusterCapacity > 0 it also submits to the project's SLURM. */
  startWorker(o?: { name?: string; localCapacity?: number; clusterCapacity?: number }): Promise<Daemon>;
  close(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const { config: db, sequelize, drop } = await createTestDatabase();
  const prefix = randomQueuePrefix();
  const vars: Record<string, string> = {
    ...stackEnv(db.database, prefix, 0),
    TILEFLOW_DB_PORT: String(db.port),
    // In-process: a little quicker than the subprocess defaults.
    TILEFLOW_INPUT_POLL_SECONDS: '0.2',
    TILEFLOW_SCHEDULER_TICK_MS: '200',
    TILEFLOW_WORKER_TIMEOUT_SECONDS: '5',
    ...env,
  };
  const admin = { username: vars.TILEFLOW_ADMIN_USER, password: vars.TILEFLOW_ADMIN_PASSWORD };
  const workerToken = vars.TILEFLOW_WORKER_TOKEN;
  const config = readCoordinatorConfig(new EnvReader({ ...process.env, ...vars }));
  const coordinator = createCoordinator(config, 'all', logger);
  await coordinator.start();
  const url = `http://127.0.0.1:${coordinator.port()}`;
  const daemons: Array<{ daemon: Daemon; redis: Redis }> = [];

  async function graphql<T>(query: string, variables: Record<string, unknown> = {}, token?: string | null) {
    const auth = token === null ? undefined : (token ?? (await signIn()));
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as {
      data?: T;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    };
  }

  let adminToken: string | undefined;
  async function signIn(username = admin.username, password = admin.password): Promise<string> {
    if (username === admin.username && password === admin.password && adminToken) return adminToken;
    const r = await graphql<{ signIn: { token: string | null; errors: Array<{ message: string }> } }>(
      'mutation($u: String!, $p: String!) { signIn(username: $u, password: $p) { token errors { field message } } }',
      { u: username, p: password },
      null,
    );
    const token = r.data?.signIn.token;
    if (!token) throw new Error(`sign-in failed: ${JSON.stringify(r.errors ?? r.data)}`);
    if (username === admin.username) adminToken = token;
    return token;
  }

  return {
    url,
    sequelize,
    config,
    admin,
    workerToken,
    cliEnv: { TILEFLOW_URL: url, TILEFLOW_USER: admin.username, TILEFLOW_PASSWORD: admin.password },
    signIn,
    graphql,
    async startWorker(o = {}) {
      const redis = new Redis({
        host: config.services.redis.host,
        port: config.services.redis.port,
        password: config.services.redis.password,
        maxRetriesPerRequest: null,
      });
      const daemon = createDaemon({
        config: {
          url,
          token: workerToken,
          name: o.name ?? `w-${randomBytes(3).toString('hex')}`,
          localCapacity: o.localCapacity ?? 2,
          clusterCapacity: o.clusterCapacity ?? 0,
          heartbeatSeconds: 0.25,
          pathMap: [],
          slurmPollSeconds: 1,
          killGraceSeconds: 1,
          redis: config.services.redis,
        },
        api: createCoordinatorApi(url, workerToken),
        redis,
        logger,
        makeLocal: (events) => createLocalExecutor(events, { killGraceSeconds: 1 }),
        makeCluster: o.clusterCapacity
          ? (events) => createSlurmExecutor(events, { pollSeconds: 0.5, logger })
          : undefined,
        version: 'test',
        idleMs: 20,
      });
      await daemon.start();
      daemons.push({ daemon, redis });
      return daemon;
    },
    async close() {
      for (const d of daemons.splice(0)) {
        await d.daemon.stop();
        await d.redis.quit();
      }
      await coordinator.stop();
      const { host, port, password } = config.services.redis;
      const redis = new Redis({ host, port, password });
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await drop();
    },
  };
}
