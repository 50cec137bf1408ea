/**
 * The database schema: migrations up and down on an empty database, the committed schema dump (schema.sql) against
 * what the migrations make, constraints and cascade rules, and the native ./migrate.sh then ./seed.sh.
 * After a new migration: TILEFLOW_UPDATE_SCHEMA=1 npx vitest run coordinator/src/db/schema.integration.test.ts
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { QueryTypes, type Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServicesConfig } from '@tileflow/shared';
import { createSequelize } from './connection.js';
import { migrateDownAll, migrateUp } from './migrate.js';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const SCHEMA_FILE = path.join(import.meta.dirname, 'schema.sql');
const base = readServicesConfig().db;
const name = `tftest_schema_${randomBytes(4).toString('hex')}`;
let admin: Sequelize;
let db: Sequelize;

beforeAll(async () => {
  admin = createSequelize({ ...base, database: 'postgres' }, undefined, 1);
  await admin.query(`CREATE DATABASE ${name}`);
  db = createSequelize({ ...base, database: name }, undefined, 2);
});

afterAll(async () => {
  await db?.close();
  await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin?.close();
});

const tables = async () =>
  (
    await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`, {
      type: QueryTypes.SELECT,
    })
  ).map((r) => r.t);

/** pg_dump of the schema, without what varies between machines and runs (comments, settings, versions). */
async function dump(): Promise<string> {
  const { stdout } = await run(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-privileges', '-h', base.host, '-p', String(base.port), '-U', base.user, name],
    { env: { ...process.env, PGPASSWORD: base.password ?? '' }, maxBuffer: 16 * 2 ** 20 },
  );
  return (
    stdout
      .split('\n')
      .filter((l) => !l.startsWith('--') && !/^SET |^SELECT pg_catalog\.set_config/.test(l) && !l.startsWith('\\'))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

describe('migrations', () => {
  it('go up on an empty database, down to nothing, and up again', async () => {
    expect(await migrateUp(db)).toEqual(['0001_initial']);
    expect(await tables()).toEqual([
      'projects',
      'schema_migrations',
      'stage_tile_states',
      'stages',
      'task_definitions',
      'task_executions',
      'task_repositories',
      'tiles',
      'users',
      'workers',
    ]);
    expect(await migrateDownAll(db)).toEqual(['0001_initial']);
    expect(await tables()).toEqual(['schema_migrations']);
    expect(await migrateUp(db)).toEqual(['0001_initial']);
    expect(await migrateUp(db)).toEqual([]);
  });

  it('make exactly the committed schema dump (coordinator/src/db/schema.sql)', async () => {
    const now = await dump();
    if (process.env.TILEFLOW_UPDATE_SCHEMA === '1') await fs.writeFile(SCHEMA_FILE, now);
    const committed = await fs.readFile(SCHEMA_FILE, 'utf8');
    expect(now, 'the migrations changed the schema: update schema.sql (TILEFLOW_UPDATE_SCHEMA=1)').toBe(committed);
  });
});

describe('constraints', () => {
  const one = async <T extends object>(sql: string, bind: unknown[] = []) =>
    (await db.query<T>(sql, { bind, type: QueryTypes.SELECT }))[0];

  it('keep one tile per project and path, refuse unknown statuses, and cascade or restrict deletes', async () => {
    const p = await one<{ id: string }>(`INSERT INTO projects (name, root_path) VALUES ('c', '/acq') RETURNING id`);
    const t = await one<{ id: string }>(
      `INSERT INTO tiles (project_id, relative_path, tile_name) VALUES ($1, 'a/b', 'b') RETURNING id`,
      [p.id],
    );
    await expect(
      db.query(`INSERT INTO tiles (project_id, relative_path, tile_name) VALUES ($1, 'a/b', 'b')`, { bind: [p.id] }),
    ).rejects.toMatchObject({ parent: { constraint: 'tiles_project_id_relative_path_key' } });
    const d = await one<{ id: string }>(
      `INSERT INTO task_definitions (name, script) VALUES ('d', '/x.sh') RETURNING id`,
    );
    const s = await one<{ id: string }>(
      `INSERT INTO stages (project_id, name, task_definition_id, output_path) VALUES ($1, 's', $2, '/out') RETURNING id`,
      [p.id, d.id],
    );
    await expect(
      db.query(`INSERT INTO stage_tile_states (stage_id, tile_id, project_id, status) VALUES ($1, $2, $3, 'done')`, {
        bind: [s.id, t.id, p.id],
      }),
    ).rejects.toMatchObject({ parent: { constraint: 'stage_tile_states_status_check' } });
    await db.query(`INSERT INTO stage_tile_states (stage_id, tile_id, project_id) VALUES ($1, $2, $3)`, {
      bind: [s.id, t.id, p.id],
    });
    await db.query(
      `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt) VALUES ($1, $2, $3, $4, 1)`,
      { bind: [p.id, s.id, t.id, d.id] },
    );
    // A definition a stage uses cannot go; a project takes its stages, tiles, states and executions with it.
    await expect(db.query(`DELETE FROM task_definitions WHERE id = $1`, { bind: [d.id] })).rejects.toMatchObject({
      parent: { constraint: 'stages_task_definition_id_fkey' },
    });
    await db.query(`DELETE FROM projects WHERE id = $1`, { bind: [p.id] });
    for (const table of ['tiles', 'stages', 'stage_tile_states', 'task_executions']) {
      expect((await one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).n, table).toBe(0);
    }
  });
});

describe('native scripts', () => {
  it('./migrate.sh then ./seed.sh leave the demo rows, and a second seed changes nothing', async () => {
    const fresh = `${name}_native`;
    await admin.query(`CREATE DATABASE ${fresh}`);
    const env = { ...process.env, TILEFLOW_DB_NAME: fresh };
    try {
      await run('bash', [path.join(REPO, 'migrate.sh')], { env, cwd: REPO });
      const first = JSON.parse((await run('bash', [path.join(REPO, 'seed.sh')], { env, cwd: REPO })).stdout);
      const second = JSON.parse((await run('bash', [path.join(REPO, 'seed.sh')], { env, cwd: REPO })).stdout);
      expect(first.created).toBe(true);
      expect(second).toEqual({ ...first, created: false });
      const seeded = createSequelize({ ...base, database: fresh }, undefined, 1);
      try {
        const stages = await seeded.query<{ name: string; kind: string; parent: string | null }>(
          `SELECT s.name, s.kind, p.name AS parent FROM stages s LEFT JOIN stages p ON p.id = s.parent_id ORDER BY s.name`,
          { type: QueryTypes.SELECT },
        );
        expect(stages).toEqual([
          { name: 'checksum', kind: 'map', parent: null },
          { name: 'compare-z', kind: 'adjacent-z', parent: 'downsample' },
          { name: 'downsample', kind: 'map', parent: 'checksum' },
        ]);
        const [defs] = await seeded.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_definitions`, {
          type: QueryTypes.SELECT,
        });
        expect(defs.n).toBe(3);
      } finally {
        await seeded.close();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    }
  });
});
