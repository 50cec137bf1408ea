import type { Resolvers } from '../../generated/resolvers.js';
import type { GraphQLContext } from '../../context.js';
import type { ProjectRow } from '../../../db/models/index.js';
import { projectStages } from '../stages/service.js';
import { projectPlane, projectPlanes, projectStageCounts, tileTotals } from './counts.js';
import {
  archiveProject,
  createProject,
  duplicateProject,
  findProject,
  listProjects,
  setProjectProcessing,
  updateProject,
} from './service.js';

/** Counts of a project, shared by Project.tileCount, Project.stageCounts and Stage.counts within one request. */
export const projectTotals = (ctx: GraphQLContext, projectId: string) =>
  ctx.cache.memo(`totals:${projectId}`, () => tileTotals(ctx.services.sequelize, projectId));
export const projectCounts = (ctx: GraphQLContext, projectId: string) =>
  ctx.cache.memo(`counts:${projectId}`, async () =>
    projectStageCounts(ctx.services.sequelize, projectId, { totals: await projectTotals(ctx, projectId) }),
  );
export const stagesOf = (ctx: GraphQLContext, projectId: string) =>
  ctx.cache.memo(`stages:${projectId}`, () => projectStages(ctx.services.sequelize, projectId));
export const projectById = (ctx: GraphQLContext, id: string) =>
  ctx.cache.memo(`project:${id}`, () => findProject(ctx.services.sequelize, id));

const region = (p: ProjectRow, prefix: 'extent' | 'roi') => ({
  minX: p[`${prefix}MinX`],
  maxX: p[`${prefix}MaxX`],
  minY: p[`${prefix}MinY`],
  maxY: p[`${prefix}MaxY`],
  minZ: p[`${prefix}MinZ`],
  maxZ: p[`${prefix}MaxZ`],
});

export const resolvers: Resolvers = {
  Query: {
    projects: (_, { includeArchived }, ctx) => listProjects(ctx.services.sequelize, includeArchived ?? false),
    project: (_, { id }, ctx) => projectById(ctx, id),
  },
  Mutation: {
    createProject: (_, { input }, ctx) => createProject(ctx.services.sequelize, input),
    updateProject: (_, { id, input }, ctx) => updateProject(ctx.services.sequelize, id, input),
    duplicateProject: (_, { id, name }, ctx) => duplicateProject(ctx.services.sequelize, id, name),
    archiveProject: (_, { id }, ctx) => archiveProject(ctx.services.sequelize, ctx.services.actions, id),
    startProject: (_, { id }, ctx) => setProjectProcessing(ctx.services.sequelize, ctx.services.actions, id, true),
    pauseProject: (_, { id }, ctx) => setProjectProcessing(ctx.services.sequelize, ctx.services.actions, id, false),
  },
  Project: {
    extents: (p) => region(p, 'extent'),
    regionOfInterest: (p) => region(p, 'roi'),
    skippedZPlanes: (p) => p.skipZ ?? [],
    parameters: (p) => Object.entries(p.parameters ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    archived: (p) => p.archivedAt !== null,
    inputOptions: (p) => p.inputOptions ?? {},
    tileCount: async (p, _, ctx) => (await projectTotals(ctx, p.id)).tiles,
    stages: (p, _, ctx) => stagesOf(ctx, p.id),
    stageCounts: async (p, _, ctx) => (await projectCounts(ctx, p.id)).stages,
    plane: async (p, { z }, ctx) => {
      const stageIds = (await stagesOf(ctx, p.id)).map((s) => s.id);
      return { z, tiles: await projectPlane(ctx.services.sequelize, p.id, z, stageIds) };
    },
    planes: (p, _, ctx) => projectPlanes(ctx.services.sequelize, p.id),
  },
};
