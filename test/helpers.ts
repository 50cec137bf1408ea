/**
 * Test isolation on the real services: a database per test file cloned from the migrated template
 * `tileflow_template` (made by test/global-setup.ts, or on first use), a random BullMQ prefix and InfluxDB database
 * per test. Every name is `tftest_<run>_<random>` (see test/db.ts): whatever a test forgets to remove is removed by
 * the run's teardown.
 */
import type { Sequelize } from 'sequelize';
import { inject } from 'vitest';
import type { ServicesConfig } from '@tileflow/shared';
import { createSequelize } from '../coordinator/src/db/connection.js';
import {
  baseServicesConfig,
  cloneTemplate,
  deleteKeys,
  dropDatabase,
  influxClient,
  redisClient,
  testResourceName,
} from './db.js';

export { TEMPLATE_DB, createTemplate, baseServicesConfig } from './db.js';

/** The <run> part of resource names: the vitest process's pid, provided by the global setup. */
function run(): number {
  try {
    return inject('tileflowTestRun') ?? process.pid;
  } catch {
    return process.pid;
  }
}

/** SLURM_CONF of the project's SLURM started by the global setup, or null when the run has no SLURM. */
export function slurmConf(): string | null {
  try {
    return inject('tileflowSlurmConf') ?? process.env.SLURM_CONF ?? null;
  } catch {
    return process.env.SLURM_CONF ?? null;
  }
}

export interface TestDatabase {
  /** Connection settings of the new database (same server and role as the environment's). */
  config: ServicesConfig['db'];
  /** A pool on it. */
  sequelize: Sequelize;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh migrated database (a clone of the template: tens of milliseconds), unique to this call. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = testResourceName(run());
  await cloneTemplate(name);
  const config = { ...baseServicesConfig().db, database: name };
  const sequelize = createSequelize(config);
  return {
    config,
    sequelize,
    async drop() {
      await sequelize.close();
      await dropDatabase(name);
    },
  };
}

/** A BullMQ prefix no other test uses. */
export const randomQueuePrefix = (): string => testResourceName(run());

/**
 * The environment's services, pointing at `db` (a per-test database, by default the environment's), a random
 * queue prefix and an InfluxDB database of its own. The InfluxDB database does not exist yet: the metrics writer
 * creates it on demand, or call createTestInfluxDatabase.
 */
export function testServicesConfig(db?: ServicesConfig['db']): ServicesConfig {
  const base = baseServicesConfig();
  return {
    db: db ?? base.db,
    redis: { ...base.redis, prefix: randomQueuePrefix() },
    influx: { ...base.influx, database: testResourceName(run()) },
  };
}

export async function createTestInfluxDatabase(influx: ServicesConfig['influx']): Promise<void> {
  await influxClient(influx).createDatabase(influx.database);
}

export async function dropTestInfluxDatabase(influx: ServicesConfig['influx']): Promise<void> {
  await influxClient(influx).dropDatabase(influx.database);
}

/** Removes every Redis key under the config's BullMQ prefix. */
export async function deleteQueueKeys(redis: ServicesConfig['redis']): Promise<number> {
  const client = redisClient(redis);
  try {
    await client.connect();
    return await deleteKeys(client, `${redis.prefix}:*`);
  } finally {
    client.disconnect();
  }
}

export interface TestServices extends TestDatabase {
  /** Everything a component needs: the per-test database, queue prefix and InfluxDB database. */
  services: ServicesConfig;
}

/**
 * A per-test database, queue prefix and (created) InfluxDB database in one; `drop()` removes all three.
 */
export async function createTestServices(): Promise<TestServices> {
  const database = await createTestDatabase();
  const services = testServicesConfig(database.config);
  await createTestInfluxDatabase(services.influx);
  return {
    ...database,
    services,
    async drop() {
      await database.drop();
      await dropTestInfluxDatabase(services.influx);
      await deleteQueueKeys(services.redis);
    },
  };
}
