import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { mergeResolvers, mergeTypeDefs } from '@graphql-tools/merge';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { applyAccessPolicy } from './access.js';
import type { Resolvers } from './generated/resolvers.js';
import { resolvers as auth } from './modules/auth/resolvers.js';
import { resolvers as common } from './modules/common/resolvers.js';
import { resolvers as executions } from './modules/executions/resolvers.js';
import { resolvers as metrics } from './modules/metrics/resolvers.js';
import { resolvers as projects } from './modules/projects/resolvers.js';
import { resolvers as stages } from './modules/stages/resolvers.js';
import { resolvers as tasks } from './modules/tasks/resolvers.js';
import { resolvers as workers } from './modules/workers/resolvers.js';

/**
 * Folder of the .graphql sources. They stay in src/ (tsc does not copy them): the package root is two levels above
 * both src/graphql and dist/graphql.
 */
export const SCHEMA_DIR = path.resolve(import.meta.dirname, '..', '..', 'src', 'graphql', 'schema');

/** The merged type definitions of every src/graphql/schema/*.graphql file. */
export function loadTypeDefs(dir = SCHEMA_DIR): DocumentNode {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return mergeTypeDefs(files.map((f) => readFileSync(path.join(dir, f), 'utf8')));
}

export const allResolvers: Resolvers = mergeResolvers([
  common,
  auth,
  projects,
  stages,
  tasks,
  executions,
  workers,
  metrics,
]);

/** The executable schema: sources, resolvers (every field of the sources must resolve), access rules. */
export function buildSchema(): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: allResolvers as Parameters<typeof makeExecutableSchema>[0]['resolvers'],
    resolverValidationOptions: {
      requireResolversToMatchSchema: 'error',
      requireResolversForResolveType: 'error',
    },
  });
  return applyAccessPolicy(schema);
}
