/** The migration command (node coordinator/dist/db/cli.js) run as a subprocess against a test database. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers.js';
import { migrations } from './migrations/index.js';

const CLI = path.resolve(import.meta.dirname, 'cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function migrate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = db.config;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TILEFLOW_DB_HOST: c.host,
    TILEFLOW_DB_PORT: String(c.port),
    TILEFLOW_DB_NAME: c.database,
    TILEFLOW_DB_USER: c.user,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: os.tmpdir(), env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('db cli', () => {
  it('reports, reverts and applies migrations', async () => {
    const names = migrations.map((m) => m.name);
    const lines = (state: string) => names.map((n) => `${state}  ${n}\n`).join('');
    expect(await migrate(['status'])).toMatchObject({ code: 0, stdout: lines('applied') });
    expect((await migrate(['up'])).stdout).toMatch(/is up to date/);
    expect((await migrate(['down'])).stdout).toContain(`: ${[...names].reverse().join(', ')}`);
    expect((await migrate(['status'])).stdout).toBe(lines('pending'));
    expect((await migrate([])).stdout).toContain(`: ${names.join(', ')}`);
    const bad = await migrate(['sideways']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/use up, down or status/);
  }, 60_000);
});
