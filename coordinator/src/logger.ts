import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * One logger to stdout, JSON lines; parts of the system take a child (`logger.child({ projectId })`).
 * TILEFLOW_LOG_LEVEL sets the level (default info; tests use warn).
 */
export function createLogger(name: string, level = process.env.TILEFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], remove: true },
  });
}
