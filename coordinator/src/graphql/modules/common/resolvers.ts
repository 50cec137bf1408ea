import type { Resolvers } from '../../generated/resolvers.js';
import { enumResolvers } from '../../enums.js';
import { DateTimeScalar, JSONScalar } from '../../scalars.js';
import { coordinatorVersion, databaseOk, redisOk, schedulerSeenAt } from './service.js';

export const resolvers: Resolvers = {
  ...(enumResolvers as Resolvers),
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  Query: {
    health: async (_, __, ctx) => {
      const { sequelize, redis, config } = ctx.services;
      const [database, redisUp, seen] = await Promise.all([
        databaseOk(sequelize),
        redisOk(redis),
        schedulerSeenAt(redis, config.services.redis.prefix),
      ]);
      return { version: coordinatorVersion(), database, redis: redisUp, schedulerSeenAt: seen };
    },
  },
  Mutation: {
    _empty: () => null,
  },
};
