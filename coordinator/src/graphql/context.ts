import type { Sequelize } from 'sequelize';
import type { Redis } from 'ioredis';
import type { Caller } from '../auth/caller.js';
import type { SessionTokens } from '../auth/tokens.js';
import type { CoordinatorConfig } from '../config/index.js';
import type { Models } from '../db/models/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/influx.js';
import type { SchedulerActions, WorkerProtocol } from '../scheduler/contracts.js';

/** Long-lived dependencies of the resolvers, built once by createApiServer. */
export interface ApiServices {
  config: CoordinatorConfig;
  sequelize: Sequelize;
  models: Models;
  /** Optional: health reports Redis and the scheduler's last sign of life through it. */
  redis?: Redis;
  metrics: Metrics;
  actions: SchedulerActions;
  workerProtocol: WorkerProtocol;
  tokens: SessionTokens;
  logger: Logger;
}

/** Per-request memo, so that nested fields (Stage.counts of every stage of a project) share one query. */
export class RequestCache {
  private readonly entries = new Map<string, Promise<unknown>>();
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.entries.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.entries.set(key, p);
    }
    return p;
  }
}

export interface GraphQLContext {
  caller: Caller;
  services: ApiServices;
  cache: RequestCache;
}
