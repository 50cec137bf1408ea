/**
 * The API process's HTTP server: GraphQL at /graphql (Apollo Server, no framework), socket.io at /socket.io,
 * GET /healthz, and the built web client with SPA fallback — all on one node:http server.
 * Nothing happens at construction: `listen()` starts Apollo, the change listener and the socket; `close()` stops
 * accepting, lets requests in flight finish (10 s at most) and closes each part.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Redis } from 'ioredis';
import type { Sequelize } from 'sequelize';
import { bearerToken, createAuthenticator } from '../auth/caller.js';
import { createSessionTokens } from '../auth/tokens.js';
import { ensureFirstAdmin } from '../auth/users.js';
import type { CoordinatorConfig } from '../config/index.js';
import { getModels } from '../db/models/index.js';
import { RequestCache, type ApiServices, type GraphQLContext } from '../graphql/context.js';
import { buildSchema } from '../graphql/schema.js';
import { databaseOk, redisOk } from '../graphql/modules/common/service.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/influx.js';
import { createRealtime, type RealtimeServer } from '../realtime/server.js';
import type { SchedulerActions, WorkerProtocol } from '../scheduler/contracts.js';
import { createGraphQLHandler } from './graphql-handler.js';
import { createStaticHandler } from './static.js';

export interface ApiDeps {
  config: CoordinatorConfig;
  sequelize: Sequelize;
  /** Optional: health and the dashboard report Redis and the scheduler's last pass through it. */
  redis?: Redis;
  metrics: Metrics;
  actions: SchedulerActions;
  workerProtocol: WorkerProtocol;
  logger: Logger;
  /** Realtime aggregation window in ms; default 250. */
  realtimeWindowMs?: number;
}

export interface ApiServer {
  httpServer: http.Server;
  io: RealtimeServer;
  /** Creates the first admin if needed, starts every part and listens on config.api host/port (0 = any free port). */
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/**
 * The stable code of one of our typed errors (`readonly code = 'STALE_SESSION'`), or undefined. System errors
 * (ENOENT…, which name paths) and library errors are not passed through.
 */
function typedErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || 'errno' in err || 'syscall' in err) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{2,}$/.test(code) ? code : undefined;
}

/** Longest wait for requests in flight at shutdown. */
const DRAIN_MS = 10_000;

export function createApiServer(deps: ApiDeps): ApiServer {
  const { config, sequelize, logger } = deps;
  const log = logger.child({ part: 'api' });
  const tokens = createSessionTokens(config.auth.sessionSecret, config.auth.sessionHours);
  const authenticator = createAuthenticator({
    sequelize,
    tokens,
    workerToken: config.auth.workerToken,
    anonymousRead: config.auth.anonymousRead,
  });
  const services: ApiServices = {
    config,
    sequelize,
    models: getModels(sequelize),
    redis: deps.redis,
    metrics: deps.metrics,
    actions: deps.actions,
    workerProtocol: deps.workerProtocol,
    tokens,
    logger: log,
  };

  const apollo = new ApolloServer<GraphQLContext>({
    schema: buildSchema(),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      const original = unwrapResolverError(error);
      if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR' || original instanceof GraphQLError) return formatted;
      // Our typed errors carry a stable code (StaleSessionError: STALE_SESSION…): the caller acts on it.
      const code = typedErrorCode(original);
      if (code) return { ...formatted, extensions: { ...formatted.extensions, code } };
      // Unexpected failures are logged whole and answered without internals (SQL, paths, stack).
      log.error({ err: original, path: formatted.path }, 'resolver failed');
      return { ...formatted, message: 'Internal error: see the coordinator log' };
    },
  });

  const contextFor = async (req: IncomingMessage): Promise<GraphQLContext> => ({
    caller: await authenticator.callerForToken(bearerToken(req.headers.authorization)),
    services,
    cache: new RequestCache(),
  });
  const graphql = createGraphQLHandler(apollo, contextFor);
  const serveStatic = createStaticHandler(config.api.clientDir);

  let inFlight = 0;
  let idle: (() => void) | undefined;

  async function healthz(res: ServerResponse): Promise<void> {
    const [database, redis] = await Promise.all([databaseOk(sequelize), redisOk(deps.redis)]);
    const ok = database && (deps.redis ? redis : true);
    res
      .writeHead(ok ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      .end(JSON.stringify({ ok, database, redis: deps.redis ? redis : null }));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/graphql') return graphql(req, res, url.search);
    if (url.pathname === '/healthz') return healthz(res);
    return serveStatic(req, res, url.pathname);
  }

  const httpServer = http.createServer((req, res) => {
    // socket.io handles its own path before this listener runs.
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
    route(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url?.split('?')[0] }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    });
  });

  const realtime = createRealtime({
    httpServer,
    authenticator,
    sequelize,
    db: config.services.db,
    logger: log.child({ part: 'realtime' }),
    windowMs: deps.realtimeWindowMs,
  });

  let started = false;
  return {
    httpServer,
    io: realtime.io,
    async listen() {
      await ensureFirstAdmin(sequelize, config.auth, log);
      await apollo.start();
      started = true;
      await realtime.start();
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.api.port, config.api.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port } = httpServer.address() as AddressInfo;
      log.debug({ host: config.api.host, port }, 'API listening');
      return { port };
    },
    async close() {
      await realtime.close();
      // Stop accepting, disconnect the sockets (socket.io closes the HTTP server too when it listens), end idle
      // keep-alive connections at once, and give requests in flight up to DRAIN_MS.
      const serverClosed = httpServer.listening
        ? new Promise<void>((resolve) => void realtime.io.close(() => resolve()))
        : (realtime.io.disconnectSockets(true), Promise.resolve());
      httpServer.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, DRAIN_MS);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      httpServer.closeAllConnections();
      await serverClosed;
      if (started) await apollo.stop();
    },
  };
}
