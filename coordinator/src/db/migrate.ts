import { Sequelize, Transaction } from 'sequelize';
import { Umzug, SequelizeStorage } from 'umzug';
import { migrations } from './migrations/index.js';

/** What a migration gets: queries run inside the migration's own transaction. */
export interface MigrationContext {
  query(sql: string, replacements?: Record<string, unknown>): Promise<unknown>;
}
export type Migration = (params: { context: MigrationContext }) => Promise<void>;

/**
 * Builds the migrator. Migrations are ordered by name, immutable once landed, and each runs in one transaction
 * (PostgreSQL DDL is transactional), recorded in the `schema_migrations` table.
 */
export function createMigrator(sequelize: Sequelize) {
  const inTransaction = (fn: Migration) => async (): Promise<void> => {
    await sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, async (t) => {
      await fn({
        context: { query: (sql, replacements) => sequelize.query(sql, { transaction: t, replacements }) },
      });
    });
  };
  return new Umzug({
    migrations: migrations.map((m) => ({ name: m.name, up: inTransaction(m.up), down: inTransaction(m.down) })),
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
}

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(sequelize: Sequelize): Promise<string[]> {
  const done = await createMigrator(sequelize).up();
  return done.map((m) => m.name);
}

/** Reverts every migration (tests and `migrate.sh down`). */
export async function migrateDownAll(sequelize: Sequelize): Promise<string[]> {
  const done = await createMigrator(sequelize).down({ to: 0 });
  return done.map((m) => m.name);
}
