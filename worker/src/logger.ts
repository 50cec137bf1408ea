import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** One JSON-lines logger to stdout; TILEFLOW_LOG_LEVEL sets the level (default info). */
export function createLogger(name: string, level = process.env.TILEFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], remove: true },
  });
}
