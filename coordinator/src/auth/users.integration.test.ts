/** Users against real PostgreSQL: the first admin at startup, and nothing without a password. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers.js';
import { getModels } from '../db/models/index.js';
import { authenticate, ensureFirstAdmin } from './users.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

function capture() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}

describe('ensureFirstAdmin', () => {
  it('creates nothing without TILEFLOW_ADMIN_PASSWORD and logs exactly what to set', async () => {
    const { logger, lines } = capture();
    expect(await ensureFirstAdmin(db.sequelize, { adminUser: 'admin', adminPassword: undefined }, logger)).toBe(
      'missing-password',
    );
    expect(await getModels(db.sequelize).User.count()).toBe(0);
    expect(lines.join('')).toMatch(/Set TILEFLOW_ADMIN_PASSWORD/);
    expect(lines.join('')).toMatch(/tileflow user create --name NAME --role admin/);
  });

  it('creates the admin once, never logging the password, and leaves existing users alone', async () => {
    const { logger, lines } = capture();
    const auth = { adminUser: 'root-admin', adminPassword: 'first-password-1' };
    const results = await Promise.all([
      ensureFirstAdmin(db.sequelize, auth, logger),
      ensureFirstAdmin(db.sequelize, auth, logger),
    ]);
    expect(results.sort()).toEqual(['created', 'exists']);
    expect(await ensureFirstAdmin(db.sequelize, { adminUser: 'other', adminPassword: 'other-password' }, logger)).toBe(
      'exists',
    );
    const users = await getModels(db.sequelize).User.findAll({ raw: true });
    expect(users.map((u) => [u.username, u.role])).toEqual([['root-admin', 'admin']]);
    expect(await authenticate(db.sequelize, 'root-admin', 'first-password-1')).toMatchObject({
      username: 'root-admin',
    });
    expect(await authenticate(db.sequelize, 'root-admin', 'wrong')).toBeNull();
    expect(await authenticate(db.sequelize, 'nobody', 'first-password-1')).toBeNull();
    expect(lines.join('')).not.toContain('first-password-1');
  });

  it('stops startup naming the variable when the admin name is invalid', async () => {
    const { logger } = capture();
    await expect(
      ensureFirstAdmin(db.sequelize, { adminUser: 'bad name', adminPassword: 'long-enough-1' }, logger),
    ).rejects.toThrow(/TILEFLOW_ADMIN_USER/);
  });
});
