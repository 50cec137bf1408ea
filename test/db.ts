/**
 * Test resources on the real services, shared by test/global-setup.ts (main process) and test/helpers.ts (test
 * workers). Nothing here imports vitest at run time, so the global setup can use it too.
 *
 * Every per-test resource (database, InfluxDB database, BullMQ prefix) is named `tftest_<run>_<random>`, where <run>
 * is the pid of the vitest process that made it: the run's teardown removes its own, and the next run's setup removes
 * those of runs whose process is gone (crashed, killed), without touching a run that is still going.
 */
import type { Sequelize } from 'sequelize';
import { InfluxDB } from 'influx';
import { Redis } from 'ioredis';
import { EnvReader, readServicesConfig, type ServicesConfig } from '@tileflow/shared';
import { createSequelize } from '../coordinator/src/db/connection.js';
import { migrateUp } from '../coordinator/src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Pid of the vitest process: the <run> part of every test resource name. */
    tileflowTestRun: number;
    /** SLURM_CONF of the project's SLURM, or null when the run was started with TILEFLOW_TEST_SLURM=0. */
    tileflowSlurmConf: string | null;
  }
}

/** The migrated database every test database is cloned from. */
export const TEMPLATE_DB = 'tileflow_template';

/** Prefix of every per-test resource name. */
export const TEST_PREFIX = 'tftest_';

/** Advisory lock (in the `postgres` database) that orders template rebuilds (exclusive) and clones (shared). */
const TEMPLATE_LOCK = 1952541797;

/** The services of the environment (.env loaded by vitest.config.ts or scripts/test.sh). */
export const baseServicesConfig = (): ServicesConfig => readServicesConfig(new EnvReader(process.env));

/** `tftest_<run>_<random>`: a name no other test uses. */
export function testResourceName(run: number): string {
  return `${TEST_PREFIX}${run}_${Math.random().toString(36).slice(2, 10)}`;
}

const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `fn` on a one-connection pool to the `postgres` database (one session: advisory locks hold across calls). */
async function withAdmin<T>(fn: (admin: Sequelize) => Promise<T>): Promise<T> {
  const admin = createSequelize({ ...baseServicesConfig().db, database: 'postgres' }, undefined, 1);
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

async function templateExists(admin: Sequelize): Promise<boolean> {
  const [rows] = await admin.query('SELECT 1 FROM pg_database WHERE datname = :name', {
    replacements: { name: TEMPLATE_DB },
  });
  return rows.length > 0;
}

/**
 * (Re)creates the migrated template database. With `onlyIfMissing`, keeps an existing one (tests started without
 * the global setup). Other runs' clones in progress finish first (advisory lock).
 */
export async function createTemplate(onlyIfMissing = false): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(:key)', { replacements: { key: TEMPLATE_LOCK } });
    try {
      if (onlyIfMissing && (await templateExists(admin))) return;
      await admin.query(`DROP DATABASE IF EXISTS ${quote(TEMPLATE_DB)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quote(TEMPLATE_DB)}`);
      const template = createSequelize({ ...baseServicesConfig().db, database: TEMPLATE_DB }, undefined, 1);
      try {
        await migrateUp(template);
      } finally {
        await template.close();
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(:key)', { replacements: { key: TEMPLATE_LOCK } });
    }
  });
}

/** PostgreSQL error code of a Sequelize error, if any. */
const pgCode = (err: unknown): string | undefined =>
  (err as { original?: { code?: string }; parent?: { code?: string } }).original?.code ??
  (err as { parent?: { code?: string } }).parent?.code;

/** Creates database `name` as a clone of the template (making the template first when it is missing). */
export async function cloneTemplate(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const missing = await withAdmin(async (admin) => {
        await admin.query('SELECT pg_advisory_lock_shared(:key)', { replacements: { key: TEMPLATE_LOCK } });
        try {
          if (!(await templateExists(admin))) return true;
          await admin.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(TEMPLATE_DB)}`);
          return false;
        } finally {
          await admin.query('SELECT pg_advisory_unlock_shared(:key)', { replacements: { key: TEMPLATE_LOCK } });
        }
      });
      if (!missing) return;
      await createTemplate(true);
    } catch (err) {
      // 3D000: the template vanished; 55006: someone is connected to it (a run that does not take the lock).
      const code = pgCode(err);
      if ((code !== '3D000' && code !== '55006') || attempt >= 40) throw err;
      await sleep(250);
    }
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`));
}

export function influxClient(influx: ServicesConfig['influx']): InfluxDB {
  return new InfluxDB({ host: influx.host, port: influx.port, username: influx.user, password: influx.password });
}

export function redisClient(redis: ServicesConfig['redis']): Redis {
  return new Redis({ host: redis.host, port: redis.port, password: redis.password, lazyConnect: true });
}

/** Removes every Redis key under `prefix` (a BullMQ prefix: keys look like `<prefix>:<queue>:...`). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

function runOf(name: string): number | undefined {
  const match = /^tftest_(\d+)_/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the test resources of the runs `shouldRemove` picks (by the run pid in their names): databases, InfluxDB
 * databases and Redis keys.
 */
export async function removeTestResources(shouldRemove: (run: number) => boolean): Promise<void> {
  const config = baseServicesConfig();
  const pick = (name: string) => {
    const run = runOf(name);
    return run !== undefined && shouldRemove(run);
  };

  const databases = await withAdmin(async (admin) => {
    const [rows] = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'tftest\\_%'`);
    return (rows as Array<{ datname: string }>).map((r) => r.datname);
  });
  for (const name of databases.filter(pick)) await dropDatabase(name);

  const influx = influxClient(config.influx);
  for (const name of (await influx.getDatabaseNames()).filter(pick)) await influx.dropDatabase(name);

  const redis = redisClient(config.redis);
  try {
    await redis.connect();
    const runs = new Set<number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${TEST_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const run = runOf(key);
        if (run !== undefined && shouldRemove(run)) runs.add(run);
      }
    } while (cursor !== '0');
    for (const run of runs) await deleteKeys(redis, `${TEST_PREFIX}${run}_*`);
  } finally {
    redis.disconnect();
  }
}

/** Removes what runs whose vitest process is gone left behind. */
export const removeDeadRunsResources = () => removeTestResources((run) => run !== process.pid && !processAlive(run));
