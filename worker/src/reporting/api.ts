/**
 * The worker's client of the coordinator's GraphQL API, authenticated with the worker token. Calls are plain
 * fetches with keep-alive; failures throw {@link CoordinatorError} and the caller retries.
 */
import type { ExecutionReport, HeartbeatInput, WorkerDirective, WorkerRegistration } from '@tileflow/shared';

export class CoordinatorError extends Error {
  readonly code: string;
  constructor(message: string, code = 'COORDINATOR', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'CoordinatorError';
  }
}

export type Registration = WorkerRegistration;

const DIRECTIVE =
  'status localCapacity clusterCapacity cancel stages { stageId queueName localWorkUnits clusterWorkUnits target }';

/** GraphQL enums are upper case with underscores; the shared enums are lower case with dashes. */
const toEnum = (v: string) => v.toUpperCase().replace(/-/g, '_');
const fromEnum = (v: string) => v.toLowerCase().replace(/_/g, '-');

function directiveFromGraphql(d: WorkerDirective): WorkerDirective {
  return {
    ...d,
    status: fromEnum(d.status) as WorkerDirective['status'],
    stages: d.stages.map((s) => ({ ...s, target: fromEnum(s.target) as typeof s.target })),
  };
}

export interface CoordinatorApi {
  register(input: {
    name: string;
    host: string;
    version: string;
    cpus: number;
    memoryMb: number;
    localCapacity: number;
    clusterCapacity: number;
    clusterExecutions: string[];
  }): Promise<Registration>;
  heartbeat(input: HeartbeatInput): Promise<WorkerDirective>;
  report(sessionId: string, reports: ExecutionReport[]): Promise<{ applied: number; rejected: string[] }>;
}

export function createCoordinatorApi(url: string, token: string, timeoutMs = 10_000): CoordinatorApi {
  async function call<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new CoordinatorError(`coordinator at ${url} unreachable: ${(err as Error).message}`, 'UNREACHABLE', {
        cause: err,
      });
    }
    const body = (await res.json().catch(() => ({}))) as {
      data?: T;
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
    };
    if (body.errors?.length) {
      const e = body.errors[0];
      throw new CoordinatorError(e.message, e.extensions?.code ?? 'GRAPHQL');
    }
    if (!res.ok || !body.data) throw new CoordinatorError(`coordinator answered HTTP ${res.status}`, 'HTTP');
    return body.data;
  }

  return {
    async register(input) {
      const data = await call<{ registerWorker: Registration }>(
        `mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) {
           workerId sessionId directive { ${DIRECTIVE} } reattach { executionId clusterJobId stdoutPath stderrPath expectedExitCode workUnits } } }`,
        { input },
      );
      return { ...data.registerWorker, directive: directiveFromGraphql(data.registerWorker.directive) };
    },
    async heartbeat(input) {
      const data = await call<{ heartbeat: WorkerDirective }>(
        `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { ${DIRECTIVE} } }`,
        { input },
      );
      return directiveFromGraphql(data.heartbeat);
    },
    async report(sessionId, reports) {
      const data = await call<{ reportExecutions: { applied: number; rejected: string[] } }>(
        `mutation($sessionId: ID!, $reports: [ExecutionReportInput!]!) {
           reportExecutions(sessionId: $sessionId, reports: $reports) { applied rejected } }`,
        {
          sessionId,
          reports: reports.map((r) => ({
            ...r,
            status: toEnum(r.status),
            target: r.target ? toEnum(r.target) : undefined,
            failureReason: r.failureReason ? toEnum(r.failureReason) : r.failureReason,
          })),
        },
      );
      return data.reportExecutions;
    },
  };
}
