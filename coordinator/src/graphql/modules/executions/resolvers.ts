import type { Resolvers } from '../../generated/resolvers.js';
import { tileExecutions } from '../stages/service.js';
import { findWorker } from '../workers/service.js';
import { cancelTiles, findExecution, readExecutionLog, resubmitTilePaths, resubmitTiles } from './service.js';

export const resolvers: Resolvers = {
  Query: {
    executions: (_, { stageId, tileId }, ctx) => tileExecutions(ctx.services.sequelize, stageId, tileId),
    execution: (_, { id }, ctx) => findExecution(ctx.services.sequelize, id),
    executionLog: (_, { id, stream, offset, tailBytes, limit }, ctx) =>
      readExecutionLog(ctx.services.sequelize, id, stream, { offset, tailBytes, limit }),
  },
  Mutation: {
    resubmitTiles: (_, { stageId, tileIds, status }, ctx) =>
      resubmitTiles(ctx.services.sequelize, ctx.services.actions, stageId, tileIds, status),
    resubmitTilePaths: (_, { stageId, relativePaths }, ctx) =>
      resubmitTilePaths(ctx.services.sequelize, ctx.services.actions, stageId, relativePaths),
    cancelTiles: (_, { stageId, tileIds }, ctx) =>
      cancelTiles(ctx.services.sequelize, ctx.services.actions, stageId, tileIds),
  },
  TaskExecution: {
    worker: (e, _, ctx) =>
      e.workerId ? ctx.cache.memo(`worker:${e.workerId}`, () => findWorker(ctx.services.sequelize, e.workerId!)) : null,
    argv: (e) => e.argv ?? [],
  },
};
