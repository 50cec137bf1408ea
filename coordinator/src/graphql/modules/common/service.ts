import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { schedulerSeenKey } from '../../../scheduler/index.js';

let version: string | undefined;
/** The coordinator package's version (read once). */
export function coordinatorVersion(): string {
  if (version === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../../package.json'), 'utf8')) as {
        version?: string;
      };
      version = pkg.version ?? 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export async function databaseOk(sequelize: Sequelize): Promise<boolean> {
  try {
    await sequelize.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

export async function redisOk(redis: Redis | undefined): Promise<boolean> {
  if (!redis) return false;
  try {
    return (await withTimeout(redis.ping(), 1000)) === 'PONG';
  } catch {
    return false;
  }
}

/**
 * When the scheduler last made a pass (it writes the time to Redis). Redis may be flushed at any time: a missing key
 * only means "not seen since".
 */
export async function schedulerSeenAt(redis: Redis | undefined, prefix: string): Promise<Date | null> {
  if (!redis) return null;
  try {
    const raw = await withTimeout(redis.get(schedulerSeenKey(prefix)), 1000);
    if (!raw) return null;
    const d = /^\d+$/.test(raw) ? new Date(Number(raw)) : new Date(raw);
    return Number.isNaN(d.getTime()) ? null : d;
  } catch {
    return null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
