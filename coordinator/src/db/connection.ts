import { Sequelize } from 'sequelize';
import type { ServicesConfig } from '@tileflow/shared';
import type { Logger } from '../logger.js';

/** Opens the Sequelize connection pool. Nothing is created here: tables come from migrations only. */
export function createSequelize(db: ServicesConfig['db'], logger?: Logger, poolMax = 10): Sequelize {
  return new Sequelize(db.database, db.user, db.password, {
    host: db.host,
    port: db.port,
    dialect: 'postgres',
    logging: logger ? (sql: string) => logger.trace({ sql }, 'sql') : false,
    pool: { max: poolMax, min: 0, idle: 10_000 },
    define: { underscored: true, timestamps: true },
  });
}
