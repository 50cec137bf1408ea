/**
 * Executions, logs, resubmit and cancel, and the worker protocol over HTTP with the worker token, against real
 * PostgreSQL and the scheduler's real actions and protocol. Executions are dispatched here by SQL, as the scheduler
 * would.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../../test/helpers.js';
import { insertLattice, setTileState, startApiHarness, type ApiHarness } from '../../../server/test-support.js';

let h: ApiHarness;
let root: string;
let logRoot: string;
let projectId: string;
let stageId: string;
let definitionId: string;
let workerId: string;
let sessionId: string;

const asWorker = (q: string, v?: Record<string, unknown>) => h.gql(q, v, h.workerToken);

/** Queues one execution of a tile, as dispatch does: the execution row and the tile state in one go. */
async function dispatch(relativePath: string): Promise<{ executionId: string; tileId: string }> {
  const [row] = await h.sequelize.query<{ execution_id: string; tile_id: string }>(
    `WITH t AS (SELECT id FROM tiles WHERE project_id = $1 AND relative_path = $3),
          e AS (INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt)
                SELECT $1, $2, t.id, $4, coalesce((SELECT max(attempt) FROM task_executions x WHERE x.tile_id = t.id AND x.stage_id = $2), 0) + 1 FROM t
                RETURNING id, tile_id)
     INSERT INTO stage_tile_states (stage_id, tile_id, project_id, status, current_execution_id)
     SELECT $2, e.tile_id, $1, 'queued', e.id FROM e
     ON CONFLICT (stage_id, tile_id) DO UPDATE SET status = 'queued', current_execution_id = EXCLUDED.current_execution_id
     RETURNING current_execution_id AS execution_id, tile_id::text AS tile_id`,
    { bind: [projectId, stageId, relativePath, definitionId], type: QueryTypes.SELECT },
  );
  return { executionId: row.execution_id, tileId: row.tile_id };
}

const REPORT = `mutation($sessionId: ID!, $reports: [ExecutionReportInput!]!) {
  reportExecutions(sessionId: $sessionId, reports: $reports) { applied rejected } }`;

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-exec-'));
  logRoot = path.join(root, 'logs');
  await fs.mkdir(logRoot);
  const p = await h.gql(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { id } errors { field message } } }`,
    { input: { name: 'exec', rootPath: root, logRootPath: logRoot } },
  );
  projectId = p.data.createProject.project.id;
  const d = await h.gql(
    `mutation { createTaskDefinition(input: { name: "t", script: "/bin/true" }) { definition { id } } }`,
  );
  definitionId = d.data.createTaskDefinition.definition.id;
  const s = await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
    input: { projectId, name: 's', taskDefinitionId: definitionId, outputPath: path.join(root, 'out') },
  });
  stageId = s.data.createStage.stage.id;
  await insertLattice(h.sequelize, projectId, { nx: 3, ny: 1, zs: [0] });
  const r = await asWorker(
    `mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { workerId sessionId reattach { executionId } directive { status localCapacity clusterCapacity stages { stageId } cancel } } }`,
    {
      input: {
        name: 'w1',
        host: 'host-1',
        version: '0.1.0',
        cpus: 2,
        memoryMb: 2048,
        localCapacity: 2,
        clusterCapacity: 0,
      },
    },
  );
  expect(r.errors).toBeUndefined();
  ({ workerId, sessionId } = r.data.registerWorker);
  expect(r.data.registerWorker.reattach).toEqual([]);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('worker protocol over GraphQL', () => {
  it('heartbeats with the session and refuses a stale one with STALE_SESSION', async () => {
    const beat = (session: string) =>
      asWorker(
        `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { status localCapacity clusterCapacity stages { stageId queueName target } cancel } }`,
        {
          input: {
            workerId,
            sessionId: session,
            localLoad: 0,
            clusterLoad: 0,
            running: [],
            cpus: 2,
            memoryMb: 2048,
            loadAverage: 0.5,
          },
        },
      );
    const ok = await beat(sessionId);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.heartbeat).toMatchObject({ status: 'RUNNING', localCapacity: 2, clusterCapacity: 0, cancel: [] });
    const stale = await beat('00000000-0000-4000-8000-000000000000');
    expect(stale.errors?.[0].extensions?.code).toBe('STALE_SESSION');
  });

  it('records running and finished reports once, and serves the history and the logs', async () => {
    const { executionId, tileId } = await dispatch('0/0/0');
    const stdout = path.join(logRoot, `stage-${stageId}`, `${executionId}.out`);
    await fs.mkdir(path.dirname(stdout), { recursive: true });
    await fs.writeFile(stdout, 'line 1\nline 2 — ünïcödé\nline 3\n');
    const running = await asWorker(REPORT, {
      sessionId,
      reports: [
        { executionId, status: 'SUBMITTED', target: 'LOCAL', workUnits: 1, at: new Date().toISOString() },
        {
          executionId,
          status: 'RUNNING',
          argv: ['/bin/true', root, 'a b'],
          stdoutPath: stdout,
          at: new Date().toISOString(),
        },
      ],
    });
    expect(running.data.reportExecutions).toEqual({ applied: 2, rejected: [] });
    const finished = {
      executionId,
      status: 'SUCCEEDED',
      exitCode: 0,
      cpuSeconds: 0.25,
      peakMemoryMb: 12.5,
      stdoutPath: stdout,
      at: new Date().toISOString(),
    };
    expect((await asWorker(REPORT, { sessionId, reports: [finished] })).data.reportExecutions.applied).toBe(1);
    // Idempotent: the same final report again changes nothing.
    expect((await asWorker(REPORT, { sessionId, reports: [finished] })).data.reportExecutions.applied).toBe(0);

    const q = await h.gql(
      `query($stageId: ID!, $tileId: ID!, $id: ID!) {
         executions(stageId: $stageId, tileId: $tileId) { id attempt status exitCode cpuSeconds peakMemoryMb target argv worker { id name } stdoutPath queuedAt startedAt finishedAt }
         execution(id: $id) { id status failureReason }
         stage(id: $stageId) { counts { complete processing } }
       }`,
      { stageId, tileId, id: executionId },
    );
    expect(q.errors).toBeUndefined();
    expect(q.data.executions).toEqual([
      expect.objectContaining({
        id: executionId,
        attempt: 1,
        status: 'SUCCEEDED',
        exitCode: 0,
        cpuSeconds: 0.25,
        peakMemoryMb: 12.5,
        target: 'LOCAL',
        argv: ['/bin/true', root, 'a b'],
        worker: { id: workerId, name: 'w1' },
        stdoutPath: stdout,
      }),
    ]);
    expect(q.data.execution).toEqual({ id: executionId, status: 'SUCCEEDED', failureReason: null });
    expect(q.data.stage.counts).toEqual({ complete: 1, processing: 0 });

    const log = async (args: string) =>
      (
        await h.gql(`query($id: ID!) { executionLog(id: $id, ${args}) { offset nextOffset size text } }`, {
          id: executionId,
        })
      ).data.executionLog;
    const size = Buffer.byteLength('line 1\nline 2 — ünïcödé\nline 3\n');
    expect(await log('stream: STDOUT')).toEqual({
      offset: 0,
      nextOffset: size,
      size,
      text: 'line 1\nline 2 — ünïcödé\nline 3\n',
    });
    expect(await log('stream: STDOUT, offset: 7, limit: 6')).toEqual({
      offset: 7,
      nextOffset: 13,
      size,
      text: 'line 2',
    });
    expect(await log('stream: STDOUT, tailBytes: 7')).toEqual({
      offset: size - 7,
      nextOffset: size,
      size,
      text: 'line 3\n',
    });
    // A limit ending inside "—" (3 bytes from offset 14) stops before it; following from nextOffset gets it whole.
    const cut = await log('stream: STDOUT, offset: 7, limit: 8');
    expect(cut).toEqual({ offset: 7, nextOffset: 14, size, text: 'line 2 ' });
    expect((await log(`stream: STDOUT, offset: ${cut.nextOffset}, limit: 3`)).text).toBe('—');
    expect(await log('stream: STDERR')).toBeNull();
  });

  it('refuses to serve a log outside the project log root', async () => {
    const { executionId } = await dispatch('0/0/1');
    await h.sequelize.query(`UPDATE task_executions SET stdout_path = '/etc/passwd', stderr_path = $2 WHERE id = $1`, {
      bind: [executionId, path.join(logRoot, '..', 'logs-evil', 'x.err')],
    });
    for (const stream of ['STDOUT', 'STDERR']) {
      const r = await h.gql(`query($id: ID!) { executionLog(id: $id, stream: ${stream}) { text } }`, {
        id: executionId,
      });
      expect(r.errors?.[0].extensions?.code, stream).toBe('FORBIDDEN');
      expect(r.errors?.[0].message).toMatch(/outside the project's log root/);
    }
    await h.sequelize.query(`UPDATE task_executions SET stdout_path = $2 WHERE id = $1`, {
      bind: [executionId, path.join(logRoot, 'not-yet.out')],
    });
    const pending = await h.gql(
      `query($id: ID!) { executionLog(id: $id, stream: STDOUT) { offset nextOffset size text } }`,
      { id: executionId },
    );
    expect(pending.data.executionLog).toEqual({ offset: 0, nextOffset: 0, size: 0, text: '' });
  });
});

describe('resubmit and cancel', () => {
  it('resubmits failed tiles by status, by id and by path; refuses unknown paths and ambiguous selectors', async () => {
    const a = await setTileState(h.sequelize, stageId, { relativePath: '0/0/0' }, 'failed', 3);
    await setTileState(h.sequelize, stageId, { relativePath: '0/0/1' }, 'failed', 3);
    await setTileState(h.sequelize, stageId, { relativePath: '0/0/2' }, 'complete');
    const byStatus = await h.gql(
      `mutation($stageId: ID!) { resubmitTiles(stageId: $stageId, status: FAILED) { count errors { field message } } }`,
      { stageId },
    );
    expect(byStatus.data.resubmitTiles).toEqual({ count: 2, errors: [] });
    const states = await h.sequelize.query<{ status: string }>(
      `SELECT status FROM stage_tile_states WHERE stage_id = $1 AND tile_id = $2`,
      { bind: [stageId, a], type: QueryTypes.SELECT },
    );
    expect(states).toEqual([{ status: 'incomplete' }]);

    const byId = await h.gql(
      `mutation($stageId: ID!, $ids: [ID!]) { resubmitTiles(stageId: $stageId, tileIds: $ids) { count errors { field } } }`,
      { stageId, ids: [a] },
    );
    expect(byId.data.resubmitTiles).toEqual({ count: 1, errors: [] });

    const byPath = await h.gql(
      `mutation($stageId: ID!, $paths: [String!]!) { resubmitTilePaths(stageId: $stageId, relativePaths: $paths) { count errors { field message } } }`,
      { stageId, paths: ['0/0/2'] },
    );
    expect(byPath.data.resubmitTilePaths).toEqual({ count: 1, errors: [] });
    const unknown = await h.gql(
      `mutation($stageId: ID!, $paths: [String!]!) { resubmitTilePaths(stageId: $stageId, relativePaths: $paths) { count errors { field message } } }`,
      { stageId, paths: ['0/0/2', 'no/such/tile'] },
    );
    expect(unknown.data.resubmitTilePaths).toEqual({
      count: 0,
      errors: [{ field: 'relativePaths', message: expect.stringMatching(/"no\/such\/tile"/) }],
    });
    const both = await h.gql(
      `mutation($stageId: ID!) { resubmitTiles(stageId: $stageId, tileIds: ["1"], status: FAILED) { count errors { field message } } }`,
      { stageId },
    );
    expect(both.data.resubmitTiles.errors).toEqual([
      { field: 'tileIds', message: expect.stringMatching(/either tileIds or status/) },
    ]);
    const badIds = await h.gql(
      `mutation($stageId: ID!) { resubmitTiles(stageId: $stageId, tileIds: ["abc"]) { count errors { field } } }`,
      { stageId },
    );
    expect(badIds.data.resubmitTiles.errors).toEqual([{ field: 'tileIds' }]);
    const noStage = await h.gql(
      `mutation { resubmitTiles(stageId: "nope", status: FAILED) { count errors { field } } }`,
    );
    expect(noStage.data.resubmitTiles.errors).toEqual([{ field: 'stageId' }]);
  });

  it('cancels queued tiles of a stage', async () => {
    const { executionId } = await dispatch('0/0/2');
    const r = await h.gql(`mutation($stageId: ID!) { cancelTiles(stageId: $stageId) { count errors { field } } }`, {
      stageId,
    });
    expect(r.data.cancelTiles).toEqual({ count: 1, errors: [] });
    const e = await h.gql(`query($id: ID!) { execution(id: $id) { status failureReason } }`, { id: executionId });
    expect(e.data.execution).toEqual({ status: 'CANCELED', failureReason: 'CANCELED' });
    const none = await h.gql(
      `mutation($stageId: ID!) { cancelTiles(stageId: $stageId, tileIds: ["1"]) { count errors { field } } }`,
      {
        stageId,
      },
    );
    expect(none.data.cancelTiles).toEqual({ count: 0, errors: [] });
  });
});

describe('workers', () => {
  it('lists workers, updates the desired state (refusing negative capacity) and removes only stopped ones', async () => {
    const list = await h.gql(
      '{ workers { id name host status inPool localCapacity clusterCapacity cpus memoryMb version lastHeartbeatAt } }',
    );
    expect(list.data.workers).toEqual([
      expect.objectContaining({
        id: workerId,
        name: 'w1',
        host: 'host-1',
        status: 'RUNNING',
        inPool: true,
        localCapacity: 2,
        cpus: 2,
        version: '0.1.0',
      }),
    ]);
    const bad = await h.gql(
      `mutation($id: ID!) { updateWorker(id: $id, input: { localCapacity: -1, clusterCapacity: -2 }) { worker { id } errors { field message } } }`,
      { id: workerId },
    );
    expect(bad.data.updateWorker.errors.map((e: { field: string }) => e.field)).toEqual([
      'localCapacity',
      'clusterCapacity',
    ]);
    const ok = await h.gql(
      `mutation($id: ID!) { updateWorker(id: $id, input: { localCapacity: 4, paused: true }) { worker { localCapacity } errors { field } } }`,
      { id: workerId },
    );
    expect(ok.data.updateWorker).toEqual({ worker: { localCapacity: 4 }, errors: [] });
    const beat = await asWorker(
      `mutation($input: HeartbeatInput!) { heartbeat(input: $input) { status localCapacity } }`,
      {
        input: {
          workerId,
          sessionId,
          localLoad: 0,
          clusterLoad: 0,
          running: [],
          cpus: 2,
          memoryMb: 2048,
          loadAverage: 0,
        },
      },
    );
    expect(beat.data.heartbeat).toEqual({ status: 'PAUSED', localCapacity: 4 });

    const refused = await h.gql(
      `mutation($id: ID!) { removeWorker(id: $id) { worker { id } errors { field message } } }`,
      { id: workerId },
    );
    expect(refused.data.removeWorker.errors).toEqual([
      { field: 'id', message: expect.stringMatching(/drain and stop it/) },
    ]);
    await h.sequelize.query(`UPDATE workers SET status = 'unavailable' WHERE id = $1`, { bind: [workerId] });
    const removed = await h.gql(`mutation($id: ID!) { removeWorker(id: $id) { worker { id } errors { field } } }`, {
      id: workerId,
    });
    expect(removed.data.removeWorker).toEqual({ worker: { id: workerId }, errors: [] });
    expect((await h.gql(`query($id: ID!) { worker(id: $id) { id } }`, { id: workerId })).data.worker).toBeNull();
  });
});
