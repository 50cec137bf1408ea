/**
 * Coordinator entry point: `node coordinator/dist/main.js api|scheduler|all` (default all). Configuration comes
 * from the environment (.env-template); a bad or missing value stops startup with the variable's name.
 */
import { ConfigError } from '@tileflow/shared';
import { readCoordinatorConfig } from './config/index.js';
import { createCoordinator, type CoordinatorParts } from './coordinator.js';
import { createLogger } from './logger.js';

const PARTS: CoordinatorParts[] = ['api', 'scheduler', 'all'];

async function main(): Promise<void> {
  const parts = (process.argv[2] ?? 'all') as CoordinatorParts;
  const logger = createLogger(`tileflow-${parts}`);
  if (!PARTS.includes(parts)) {
    logger.fatal(`unknown part "${parts}": use one of ${PARTS.join(', ')}`);
    process.exit(2);
  }
  let config;
  try {
    config = readCoordinatorConfig();
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  const coordinator = createCoordinator(config, parts, logger);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // A part stuck on a dead service must not keep the process alive forever.
    setTimeout(() => {
      logger.error('shutdown did not finish within 20 s; exiting anyway');
      process.exit(1);
    }, 20_000).unref();
    void coordinator.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await coordinator.start();
  } catch (err) {
    logger.fatal({ err }, 'startup failed');
    await Promise.race([coordinator.stop(), new Promise((r) => setTimeout(r, 5000))]);
    process.exit(1);
  }
}

void main();
