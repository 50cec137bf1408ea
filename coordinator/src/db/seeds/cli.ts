/**
 * `node coordinator/dist/db/seeds/cli.js` (what ./seed.sh runs): loads the demo rows.
 * TILEFLOW_DEMO_TASKS (default <repo>/tasks/demo), TILEFLOW_DEMO_ACQUISITION (default <data>/demo/acquisition),
 * TILEFLOW_DEMO_OUTPUT (default <data>/demo/output); --start marks the project processing. (TILEFLOW_TASK_ROOT and
 * TILEFLOW_ACQUISITION_ROOT are the folders that hold task repositories and acquisitions, not the demo's own.)
 */
import path from 'node:path';
import { EnvReader, readServicesConfig } from '@tileflow/shared';
import { createSequelize } from '../connection.js';
import { seedDemo } from './demo.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..', '..');
const env = new EnvReader();
const dataDir = path.resolve(repoRoot, env.string('TILEFLOW_DATA_DIR', '.data'));
const sequelize = createSequelize(readServicesConfig(env).db);
try {
  const ids = await seedDemo(sequelize, {
    taskRoot: path.resolve(env.string('TILEFLOW_DEMO_TASKS', path.join(repoRoot, 'tasks', 'demo'))),
    acquisitionRoot: path.resolve(env.string('TILEFLOW_DEMO_ACQUISITION', path.join(dataDir, 'demo', 'acquisition'))),
    outputRoot: path.resolve(env.string('TILEFLOW_DEMO_OUTPUT', path.join(dataDir, 'demo', 'output'))),
    start: process.argv.includes('--start'),
  });
  console.log(JSON.stringify(ids));
} catch (err) {
  console.error(`seed failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await sequelize.close();
}
