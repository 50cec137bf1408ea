import type { StatusCounts } from '@tileflow/shared';
import type { StageRow } from '../../../db/models/index.js';
import type { GraphQLContext } from '../../context.js';
import type { Resolvers } from '../../generated/resolvers.js';
import { findDefinition } from '../tasks/service.js';
import { projectById, projectCounts, projectTotals } from '../projects/resolvers.js';
import { projectStageCounts, stageStatusRows, withIncomplete } from '../projects/counts.js';
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

/** A stage's counts: from its project's counts (one query for all stages per request), or alone when archived. */
async function stageCounts(ctx: GraphQLContext, s: StageRow): Promise<StatusCounts> {
  const live = (await projectCounts(ctx, s.projectId)).stages.find((c) => c.stageId === s.id);
  if (live) return live.counts;
  const alone = await projectStageCounts(ctx.services.sequelize, s.projectId, {
    stageIds: [s.id],
    totals: await projectTotals(ctx, s.projectId),
  });
  return alone.stages[0].counts;
}

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
    counts: (s, _, ctx) => stageCounts(ctx, s),
    tiles: (s, { status, search, offset, limit }, ctx) =>
      stageTiles(ctx.services.sequelize, s, { status, search, offset: offset ?? 0, limit: limit ?? 100 }, () =>
        ctx.cache.memo(`stage-counts:${s.id}`, async () => {
          const [rows, totals] = await Promise.all([
            stageStatusRows(ctx.services.sequelize, [s.id]),
            projectTotals(ctx, s.projectId),
          ]);
          return withIncomplete(rows.get(s.id)!, totals.eligible);
        }),
      ),
  },
  StageTile: {
    executions: (t, _, ctx) => tileExecutions(ctx.services.sequelize, t.stageId, t.tileId),
  },
};
