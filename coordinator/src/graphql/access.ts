import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { canMutate, canRead, isAdmin } from '../auth/caller.js';
import type { GraphQLContext } from './context.js';
import { ForbiddenError, UnauthenticatedError } from './errors.js';

/**
 * Who may call a root field:
 * - `public`: anyone (health, me, signIn);
 * - `read`: a signed-in user, or anyone when TILEFLOW_ANONYMOUS_READ=true (never a worker token);
 * - `user`: any signed-in user, viewers included (changePassword);
 * - `operate`: a signed-in operator or admin (every other mutation);
 * - `admin`: a signed-in admin;
 * - `worker`: the worker token only (the worker protocol).
 */
export type Access = 'public' | 'read' | 'user' | 'operate' | 'admin' | 'worker';

const EXCEPTIONS: Record<string, Access> = {
  'Query.health': 'public',
  'Query.me': 'public',
  'Query.users': 'admin',
  'Mutation.signIn': 'public',
  'Mutation.changePassword': 'user',
  'Mutation.createUser': 'admin',
  'Mutation.registerWorker': 'worker',
  'Mutation.heartbeat': 'worker',
  'Mutation.reportExecutions': 'worker',
};

/** The rule of a root field: listed exceptions, otherwise queries read and mutations operate. */
export function accessOf(type: 'Query' | 'Mutation', field: string): Access {
  return EXCEPTIONS[`${type}.${field}`] ?? (type === 'Query' ? 'read' : 'operate');
}

/** Throws unless the caller may use a field with this rule. */
export function checkAccess(access: Access, ctx: GraphQLContext, fieldName: string): void {
  const { caller } = ctx;
  switch (access) {
    case 'public':
      return;
    case 'worker':
      if (caller.kind !== 'worker') {
        throw new ForbiddenError(`${fieldName} is for worker daemons: authenticate with TILEFLOW_WORKER_TOKEN`);
      }
      return;
    case 'read':
      if (canRead(caller, ctx.services.config.auth.anonymousRead)) return;
      if (caller.kind === 'worker') throw new ForbiddenError(`The worker token cannot call ${fieldName}`);
      throw new UnauthenticatedError();
    case 'user':
    case 'operate':
    case 'admin': {
      if (caller.kind === 'worker') throw new ForbiddenError(`The worker token cannot call ${fieldName}`);
      if (caller.kind !== 'user') throw new UnauthenticatedError();
      const role = caller.user.role;
      if (access === 'operate' && !canMutate(role)) {
        throw new ForbiddenError(
          `${fieldName} needs the operator or admin role; "${caller.user.username}" is a ${role}`,
        );
      }
      if (access === 'admin' && !isAdmin(role)) {
        throw new ForbiddenError(`${fieldName} needs the admin role; "${caller.user.username}" is a ${role}`);
      }
      return;
    }
  }
}

/**
 * Wraps every root field of the schema with its rule, so that no field can be added without one (default-deny:
 * queries need a reader, mutations an operator). Nested fields are reachable only through root fields.
 */
export function applyAccessPolicy(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    const typeName = type.name as 'Query' | 'Mutation';
    for (const field of Object.values(type.getFields())) {
      const access = accessOf(typeName, field.name);
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx: GraphQLContext, info) => {
        checkAccess(access, ctx, field.name);
        return resolve(source, args, ctx, info);
      };
    }
  }
  return schema;
}
