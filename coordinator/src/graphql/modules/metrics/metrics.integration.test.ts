/** Dashboard, stage metrics from a real InfluxDB, and health, over HTTP. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../../test/helpers.js';
import { schedulerSeenKey } from '../../../scheduler/index.js';
import { insertLattice, setTileState, startApiHarness, type ApiHarness } from '../../../server/test-support.js';

let h: ApiHarness;
let root: string;

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-metrics-'));
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function project(name: string) {
  const p = await h.gql(
    `mutation($root: String!, $name: String!) { createProject(input: { name: $name, rootPath: $root }) { project { id } } }`,
    {
      root,
      name,
    },
  );
  const id = p.data.createProject.project.id as string;
  const d = await h.gql(
    `mutation { createTaskDefinition(input: { name: "t", script: "/bin/true" }) { definition { id } } }`,
  );
  const s = await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
    input: {
      projectId: id,
      name: 's',
      taskDefinitionId: d.data.createTaskDefinition.definition.id,
      outputPath: '/tmp/o',
    },
  });
  return { id, stageId: s.data.createStage.stage.id as string };
}

describe('dashboard', () => {
  it('sums tiles by status over live projects and counts workers and recent executions', async () => {
    const a = await project('dash-a');
    const b = await project('dash-b');
    await insertLattice(h.sequelize, a.id, { nx: 2, ny: 2, zs: [0] });
    await insertLattice(h.sequelize, b.id, { nx: 3, ny: 1, zs: [0] });
    await setTileState(h.sequelize, a.stageId, { x: 0, y: 0, z: 0 }, 'complete');
    await setTileState(h.sequelize, b.stageId, { x: 0, y: 0, z: 0 }, 'failed');
    await h.gql(`mutation($id: ID!) { startProject(id: $id) { errors { field } } }`, { id: a.id });
    await h.gql(
      `mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { workerId } }`,
      {
        input: { name: 'dash-w', host: 'h', version: '1', cpus: 1, memoryMb: 1, localCapacity: 1, clusterCapacity: 0 },
      },
      h.workerToken,
    );
    await h.sequelize.query(
      `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt, status, finished_at)
       SELECT s.project_id, s.id, t.id, s.task_definition_id, 1, 'succeeded', now() - interval '10 seconds'
       FROM stages s JOIN tiles t ON t.project_id = s.project_id WHERE s.id = $1
       UNION ALL
       SELECT s.project_id, s.id, t.id, s.task_definition_id, 2, 'succeeded', now() - interval '5 minutes'
       FROM stages s JOIN tiles t ON t.project_id = s.project_id WHERE s.id = $1`,
      { bind: [a.stageId] },
    );
    await h.redis.set(schedulerSeenKey(h.config.services.redis.prefix), '2030-01-02T03:04:05.000Z');
    const r = await h.gql(
      `{ dashboard { projects activeProjects workersOnline throughputPerMinute schedulerSeenAt
           tilesByStatus { incomplete waiting queued processing complete failed canceled } }
         health { version database redis schedulerSeenAt } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.dashboard).toEqual({
      projects: 2,
      activeProjects: 1,
      workersOnline: 1,
      throughputPerMinute: 4,
      schedulerSeenAt: '2030-01-02T03:04:05.000Z',
      tilesByStatus: { incomplete: 3 + 2, waiting: 0, queued: 0, processing: 0, complete: 1, failed: 1, canceled: 0 },
    });
    expect(r.data.health).toEqual({
      version: '0.1.0',
      database: true,
      redis: true,
      schedulerSeenAt: '2030-01-02T03:04:05.000Z',
    });
  });
});

describe('stageMetrics', () => {
  it('reads bucketed throughput, mean duration and peak memory per stage from InfluxDB', async () => {
    const { id, stageId } = await project('metrics');
    const now = Date.now();
    const bucketStart = Math.floor(now / 60_000) * 60_000 - 120_000;
    await h.metrics.writeExecution([
      {
        projectId: id,
        stageId,
        status: 'succeeded',
        durationSeconds: 2,
        peakMemoryMb: 100,
        at: new Date(bucketStart + 1000),
      },
      {
        projectId: id,
        stageId,
        status: 'succeeded',
        durationSeconds: 4,
        peakMemoryMb: 300,
        at: new Date(bucketStart + 2000),
      },
      { projectId: id, stageId, status: 'failed', durationSeconds: 6, at: new Date(bucketStart + 61_000) },
      { projectId: 'another', stageId, status: 'succeeded', durationSeconds: 1, at: new Date(bucketStart + 3000) },
    ]);
    const r = await h.gql(
      `query($id: ID!) { stageMetrics(projectId: $id, sinceMinutes: 10, bucketSeconds: 60) { time stageId count meanDurationSeconds maxPeakMemoryMb } }`,
      { id },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data.stageMetrics).toEqual([
      { time: new Date(bucketStart).toISOString(), stageId, count: 2, meanDurationSeconds: 3, maxPeakMemoryMb: 300 },
      {
        time: new Date(bucketStart + 60_000).toISOString(),
        stageId,
        count: 1,
        meanDurationSeconds: 6,
        maxPeakMemoryMb: null,
      },
    ]);
    const bad = await h.gql(`query($id: ID!) { stageMetrics(projectId: $id, sinceMinutes: 0) { count } }`, { id });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
