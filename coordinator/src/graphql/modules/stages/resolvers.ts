import type { Resolvers } from '../../generated/resolvers.js';
import { findDefinition } from '../tasks/service.js';
import { projectById, projectCounts } from '../projects/resolvers.js';
import { projectStageCounts } from '../projects/counts.js';
import {
  archiveStage,
  childStages,
  createStage,
  findStage,
  moveStage,
  setStageProcessing,
  stageTiles,
  tileExecutions,
  updateStage,
} from './service.js';

export const resolvers: Resolvers = {
  Query: {
    stage: (_, { id }, ctx) => findStage(ctx.services.sequelize, id),
  },
  Mutation: {
    createStage: (_, { input }, ctx) => createStage(ctx.services.sequelize, ctx.services.actions, input),
    updateStage: (_, { id, input }, ctx) => updateStage(ctx.services.sequelize, ctx.services.actions, id, input),
    moveStage: (_, { id, parentId }, ctx) =>
      moveStage(ctx.services.sequelize, ctx.services.actions, id, parentId ?? null),
    archiveStage: (_, { id }, ctx) => archiveStage(ctx.services.sequelize, ctx.services.actions, id),
    startStage: (_, { id }, ctx) => setStageProcessing(ctx.services.sequelize, ctx.services.actions, id, true),
    pauseStage: (_, { id }, ctx) => setStageProcessing(ctx.services.sequelize, ctx.services.actions, id, false),
  },
  Stage: {
    project: async (s, _, ctx) => {
      const p = await projectById(ctx, s.projectId);
      if (!p) throw new Error(`stage ${s.id} has no project`);
      return p;
    },
    parent: (s, _, ctx) => (s.parentId ? findStage(ctx.services.sequelize, s.parentId) : null),
    children: (s, _, ctx) => childStages(ctx.services.sequelize, s.id),
    taskDefinition: async (s, _, ctx) => {
      const d = await ctx.cache.memo(`definition:${s.taskDefinitionId}`, () =>
        findDefinition(ctx.services.sequelize, s.taskDefinitionId),
      );
      if (!d) throw new Error(`stage ${s.id} has no task definition`);
      return d;
    },
    archived: (s) => s.archivedAt !== null,
    counts: async (s, _, ctx) => {
      const live = (await projectCounts(ctx, s.projectId)).stages.find((c) => c.stageId === s.id);
      if (live) return live.counts;
      // An archived stage is not in the project's live list: count it alone.
      const alone = await projectStageCounts(ctx.services.sequelize, s.projectId, { stageIds: [s.id] });
      return alone.stages[0].counts;
    },
    tiles: (s, { status, search, offset, limit }, ctx) =>
      stageTiles(ctx.services.sequelize, s, { status, search, offset: offset ?? 0, limit: limit ?? 100 }),
  },
  StageTile: {
    executions: (t, _, ctx) => tileExecutions(ctx.services.sequelize, t.stageId, t.tileId),
  },
};
