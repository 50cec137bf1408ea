import type { Resolvers } from '../../generated/resolvers.js';
import {
  archiveDefinition,
  archiveRepository,
  createDefinition,
  createRepository,
  duplicateDefinition,
  findDefinition,
  findRepository,
  listDefinitions,
  listRepositories,
  scriptPath,
  scriptStatus,
  updateDefinition,
  updateRepository,
} from './service.js';

export const resolvers: Resolvers = {
  Query: {
    taskRepositories: (_, { includeArchived }, ctx) =>
      listRepositories(ctx.services.sequelize, includeArchived ?? false),
    taskRepository: (_, { id }, ctx) => findRepository(ctx.services.sequelize, id),
    taskDefinitions: (_, { includeArchived }, ctx) =>
      listDefinitions(ctx.services.sequelize, { includeArchived: includeArchived ?? false }),
    taskDefinition: (_, { id }, ctx) => findDefinition(ctx.services.sequelize, id),
  },
  Mutation: {
    createTaskRepository: (_, { input }, ctx) => createRepository(ctx.services.sequelize, input),
    updateTaskRepository: (_, { id, input }, ctx) => updateRepository(ctx.services.sequelize, id, input),
    archiveTaskRepository: (_, { id }, ctx) => archiveRepository(ctx.services.sequelize, id),
    createTaskDefinition: (_, { input }, ctx) => createDefinition(ctx.services.sequelize, input),
    updateTaskDefinition: (_, { id, input }, ctx) => updateDefinition(ctx.services.sequelize, id, input),
    duplicateTaskDefinition: (_, { id, name }, ctx) => duplicateDefinition(ctx.services.sequelize, id, name),
    archiveTaskDefinition: (_, { id }, ctx) => archiveDefinition(ctx.services.sequelize, id),
  },
  TaskRepository: {
    archived: (r) => r.archivedAt !== null,
    definitions: (r, _, ctx) => listDefinitions(ctx.services.sequelize, { includeArchived: false, repositoryId: r.id }),
  },
  TaskDefinition: {
    archived: (d) => d.archivedAt !== null,
    repository: (d, _, ctx) =>
      d.repositoryId
        ? ctx.cache.memo(`repository:${d.repositoryId}`, () => findRepository(ctx.services.sequelize, d.repositoryId!))
        : null,
    scriptPath: async (d, _, ctx) => {
      const repo = d.repositoryId
        ? await ctx.cache.memo(`repository:${d.repositoryId}`, () =>
            findRepository(ctx.services.sequelize, d.repositoryId!),
          )
        : null;
      return scriptPath(d.script, repo?.location);
    },
    scriptStatus: async (d, _, ctx) => {
      const repo = d.repositoryId
        ? await ctx.cache.memo(`repository:${d.repositoryId}`, () =>
            findRepository(ctx.services.sequelize, d.repositoryId!),
          )
        : null;
      return scriptStatus(scriptPath(d.script, repo?.location));
    },
    clusterOptions: (d) => d.clusterOptions ?? {},
  },
  ClusterOptions: {
    extraArgs: (o) => o.extraArgs ?? [],
  },
};
