import { GraphQLError } from 'graphql';
import type { Resolvers } from '../../generated/resolvers.js';
import { schedulerSeenAt } from '../common/service.js';
import { dashboard } from './service.js';

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

export const resolvers: Resolvers = {
  Query: {
    dashboard: async (_, __, ctx) => {
      const { sequelize, redis, config } = ctx.services;
      const [data, seen] = await Promise.all([
        dashboard(sequelize),
        schedulerSeenAt(redis, config.services.redis.prefix),
      ]);
      return { ...data, schedulerSeenAt: seen };
    },
    stageMetrics: async (_, { projectId, sinceMinutes, bucketSeconds }, ctx) => {
      const since = sinceMinutes ?? 60;
      const bucket = bucketSeconds ?? 60;
      if (since < 1 || since > 60 * 24 * 31) throw badInput('sinceMinutes must be between 1 and 44640 (31 days)');
      if (bucket < 1 || bucket > 86_400) throw badInput('bucketSeconds must be between 1 and 86400');
      if ((since * 60) / bucket > 10_000) throw badInput('too many buckets: raise bucketSeconds or lower sinceMinutes');
      const { host, port } = ctx.services.config.services.influx;
      try {
        return await ctx.services.metrics.queryStageMetrics(projectId, { sinceMinutes: since, bucketSeconds: bucket });
      } catch (err) {
        ctx.services.logger.warn({ err }, 'stageMetrics: InfluxDB query failed');
        throw new GraphQLError(`Metrics are unavailable: InfluxDB at ${host}:${port} did not answer`, {
          extensions: { code: 'METRICS_UNAVAILABLE' },
        });
      }
    },
  },
};
