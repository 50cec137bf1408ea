import type { ExecutionReport } from '@tileflow/shared';
import type { Resolvers } from '../../generated/resolvers.js';
import { findWorker, listWorkers, removeWorker, updateWorker } from './service.js';

/** GraphQL nulls become absent fields: the protocol's types use optional fields. */
const defined = <T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };

export const resolvers: Resolvers = {
  Query: {
    workers: (_, __, ctx) => listWorkers(ctx.services.sequelize),
    worker: (_, { id }, ctx) => findWorker(ctx.services.sequelize, id),
  },
  Mutation: {
    updateWorker: (_, { id, input }, ctx) => updateWorker(ctx.services.sequelize, id, input),
    removeWorker: (_, { id }, ctx) => removeWorker(ctx.services.sequelize, id),
    registerWorker: (_, { input }, ctx) =>
      ctx.services.workerProtocol.registerWorker({
        ...input,
        clusterExecutions: input.clusterExecutions ?? undefined,
      }),
    heartbeat: (_, { input }, ctx) => ctx.services.workerProtocol.heartbeat(input),
    reportExecutions: (_, { sessionId, reports }, ctx) =>
      ctx.services.workerProtocol.reportExecutions(
        sessionId,
        reports.map((r): ExecutionReport => ({
          ...defined({ ...r, at: undefined, startedAt: undefined }),
          // Explicit nulls are meaningful for these ("no exit code"): keep them.
          exitCode: r.exitCode,
          failureReason: r.failureReason,
          message: r.message,
          ...(r.startedAt ? { startedAt: r.startedAt.toISOString() } : {}),
          at: r.at.toISOString(),
        })),
      ),
  },
};
