#!/usr/bin/env node
/**
 * Database migrations from the command line: `node coordinator/dist/db/cli.js [up|down|status]` against the
 * database named by the environment (or the repository's .env). `down` reverts every migration.
 */
import { EnvReader, readServicesConfig } from '@tileflow/shared';
import { loadCliEnv } from '../cli/env.js';
import { createSequelize } from './connection.js';
import { createMigrator, migrateDownAll, migrateUp } from './migrate.js';

async function main(command: string): Promise<number> {
  const db = readServicesConfig(new EnvReader(loadCliEnv())).db;
  const sequelize = createSequelize(db);
  const where = `${db.user}@${db.host}:${db.port}/${db.database}`;
  try {
    switch (command) {
      case 'up': {
        const applied = await migrateUp(sequelize);
        console.log(applied.length ? `Applied to ${where}: ${applied.join(', ')}` : `${where} is up to date`);
        return 0;
      }
      case 'down': {
        const reverted = await migrateDownAll(sequelize);
        console.log(reverted.length ? `Reverted on ${where}: ${reverted.join(', ')}` : `Nothing to revert on ${where}`);
        return 0;
      }
      case 'status': {
        const migrator = createMigrator(sequelize);
        const [executed, pending] = await Promise.all([migrator.executed(), migrator.pending()]);
        for (const m of executed) console.log(`applied  ${m.name}`);
        for (const m of pending) console.log(`pending  ${m.name}`);
        return 0;
      }
      default:
        console.error(`Unknown command "${command}": use up, down or status`);
        return 2;
    }
  } catch (err) {
    console.error(`Migration ${command} on ${where} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await sequelize.close();
  }
}

process.exitCode = await main(process.argv[2] ?? 'up');
