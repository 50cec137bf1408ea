/**
 * Projects and stages over HTTP against real PostgreSQL: every query and mutation, field errors, and the counts,
 * planes and tile pages read from tiles inserted with SQL.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../../test/helpers.js';
import { insertLattice, setTileState, startApiHarness, type ApiHarness } from '../../../server/test-support.js';

/** An entity as the API answered it (the tests read its fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read deep into the answers they assert on
type Answer = any;

let h: ApiHarness;
let root: string;
let scriptPath: string;
let definitionId: string;

const PROJECT_FIELDS = `id name description rootPath logRootPath inputKind inputOptions inputState isProcessing archived
  extents { minX maxX } regionOfInterest { minX maxX minY maxY minZ maxZ } skippedZPlanes parameters { key value }
  tileCount`;

async function createProject(input: Record<string, unknown>) {
  const r = await h.gql(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { ${PROJECT_FIELDS} } errors { field message } } }`,
    { input: { rootPath: root, ...input } },
  );
  expect(r.errors).toBeUndefined();
  return r.data.createProject as { project: Answer; errors: Array<{ field: string; message: string }> };
}

async function createStage(input: Record<string, unknown>) {
  const r = await h.gql(
    `mutation($input: CreateStageInput!) {
       createStage(input: $input) { stage { id name kind parentId outputPath target isProcessing archived } errors { field message } }
     }`,
    { input: { taskDefinitionId: definitionId, outputPath: path.join(root, 'out'), ...input } },
  );
  expect(r.errors).toBeUndefined();
  return r.data.createStage as { stage: Answer; errors: Array<{ field: string; message: string }> };
}

const backfillOf = async (stageId: string) =>
  (
    await h.sequelize.query<{ b: string | null }>('SELECT backfill_after::text AS b FROM stages WHERE id = $1', {
      bind: [stageId],
      type: QueryTypes.SELECT,
    })
  )[0].b;

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-projects-'));
  scriptPath = path.join(root, 'run.sh');
  await fs.writeFile(scriptPath, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const d = await h.gql(
    `mutation($input: TaskDefinitionInput!) { createTaskDefinition(input: $input) { definition { id } errors { field message } } }`,
    { input: { name: 'run', script: scriptPath } },
  );
  definitionId = d.data.createTaskDefinition.definition.id;
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe('projects', () => {
  it('creates a project and reads it back with every field', async () => {
    const { project, errors } = await createProject({
      name: 'Sample A',
      description: 'first',
      logRootPath: path.join(root, 'logs'),
      regionOfInterest: { minX: 0, maxX: 10 },
      skippedZPlanes: [5, 3, 5],
      parameters: [{ key: 'CHANNEL', value: '2' }],
    });
    expect(errors).toEqual([]);
    expect(project).toMatchObject({
      name: 'Sample A',
      description: 'first',
      rootPath: root,
      inputKind: 'PIPELINE_JSON',
      inputOptions: {},
      inputState: 'UNKNOWN',
      isProcessing: false,
      archived: false,
      regionOfInterest: { minX: 0, maxX: 10, minY: null, maxY: null, minZ: null, maxZ: null },
      skippedZPlanes: [3, 5],
      parameters: [{ key: 'CHANNEL', value: '2' }],
      tileCount: 0,
    });
    const list = await h.gql('{ projects { id name } project(id: "' + project.id + '") { name } }');
    expect(list.data.projects).toEqual([{ id: project.id, name: 'Sample A' }]);
    expect(list.data.project).toEqual({ name: 'Sample A' });
  });

  it('names the field and what to do for bad input', async () => {
    const relative = await createProject({ name: 'Rel', rootPath: 'data/acq' });
    expect(relative.project).toBeNull();
    expect(relative.errors).toEqual([{ field: 'rootPath', message: expect.stringMatching(/not absolute/) }]);

    const missing = await createProject({ name: 'Missing', rootPath: path.join(root, 'nope') });
    expect(missing.errors).toEqual([{ field: 'rootPath', message: expect.stringMatching(/does not exist/) }]);

    const file = await createProject({ name: 'File', rootPath: scriptPath });
    expect(file.errors).toEqual([{ field: 'rootPath', message: expect.stringMatching(/not a folder/) }]);

    const many = await createProject({
      name: 'Sample A',
      logRootPath: 'logs',
      regionOfInterest: { minZ: 9, maxZ: 2 },
      parameters: [
        { key: '1BAD', value: 'x' },
        { key: 'OK', value: 'a' },
        { key: 'OK', value: 'b' },
      ],
    });
    expect(many.errors.map((e) => e.field).sort()).toEqual([
      'logRootPath',
      'name',
      'parameters.0.key',
      'parameters.2.key',
      'regionOfInterest.minZ',
    ]);
    expect(many.errors.find((e) => e.field === 'name')?.message).toMatch(/exists/);

    const glob = await createProject({ name: 'Glob', inputKind: 'GLOB' });
    expect(glob.errors).toEqual([{ field: 'inputOptions.pattern', message: expect.stringMatching(/required/) }]);
    const unknownOption = await createProject({
      name: 'Glob',
      inputKind: 'GLOB',
      inputOptions: { pattern: '*.mp4', colour: 1 },
    });
    expect(unknownOption.errors).toEqual([
      { field: 'inputOptions.colour', message: expect.stringMatching(/unknown option/) },
    ]);
  });

  it('updates, duplicates (with the stage tree), archives, starts and pauses', async () => {
    const { project } = await createProject({ name: 'Lifecycle' });
    const a = (await createStage({ projectId: project.id, name: 'a' })).stage;
    const b = (await createStage({ projectId: project.id, name: 'b', parentId: a.id, kind: 'ADJACENT_Z' })).stage;
    expect(b).toMatchObject({ parentId: a.id, kind: 'ADJACENT_Z', target: 'ANY', isProcessing: true });

    const upd = await h.gql(
      `mutation($id: ID!) { updateProject(id: $id, input: { description: "d2", skippedZPlanes: [1], regionOfInterest: { minY: 1 } }) {
         project { description skippedZPlanes regionOfInterest { minY maxX } } errors { field } } }`,
      { id: project.id },
    );
    expect(upd.data.updateProject).toEqual({
      project: { description: 'd2', skippedZPlanes: [1], regionOfInterest: { minY: 1, maxX: null } },
      errors: [],
    });
    const bad = await h.gql(
      `mutation($id: ID!) { updateProject(id: $id, input: { rootPath: "x" }) { project { id } errors { field } } }`,
      {
        id: project.id,
      },
    );
    expect(bad.data.updateProject).toEqual({ project: null, errors: [{ field: 'rootPath' }] });

    const dup = await h.gql(
      `mutation($id: ID!) { duplicateProject(id: $id, name: "Lifecycle copy") {
         project { id name isProcessing skippedZPlanes stages { id name parentId kind } } errors { field } } }`,
      { id: project.id },
    );
    const copy = dup.data.duplicateProject.project;
    expect(copy.name).toBe('Lifecycle copy');
    expect(copy.id).not.toBe(project.id);
    expect(copy.skippedZPlanes).toEqual([1]);
    const [ca, cb] = copy.stages;
    expect([ca.name, cb.name]).toEqual(['a', 'b']);
    expect(ca.parentId).toBeNull();
    expect(cb.parentId).toBe(ca.id);
    expect(ca.id).not.toBe(a.id);

    const start = await h.gql(
      `mutation($id: ID!) { startProject(id: $id) { project { isProcessing } errors { field } } }`,
      {
        id: project.id,
      },
    );
    expect(start.data.startProject).toEqual({ project: { isProcessing: true }, errors: [] });
    const pause = await h.gql(
      `mutation($id: ID!) { pauseProject(id: $id) { project { isProcessing } errors { field } } }`,
      {
        id: project.id,
      },
    );
    expect(pause.data.pauseProject).toEqual({ project: { isProcessing: false }, errors: [] });

    const archived = await h.gql(
      `mutation($id: ID!) { archiveProject(id: $id) { project { archived } errors { field } } }`,
      {
        id: project.id,
      },
    );
    expect(archived.data.archiveProject).toEqual({ project: { archived: true }, errors: [] });
    const lists = await h.gql('{ live: projects { id } all: projects(includeArchived: true) { id } }');
    expect(lists.data.live.map((p: { id: string }) => p.id)).not.toContain(project.id);
    expect(lists.data.all.map((p: { id: string }) => p.id)).toContain(project.id);
    const again = await h.gql(
      `mutation($id: ID!) { startProject(id: $id) { project { id } errors { field message } } }`,
      {
        id: project.id,
      },
    );
    expect(again.data.startProject.errors).toEqual([{ field: 'id', message: expect.stringMatching(/no project/) }]);
  });
});

describe('stages', () => {
  let projectId: string;
  let otherProjectStage: string;

  beforeAll(async () => {
    projectId = (await createProject({ name: 'Stages' })).project.id;
    const other = (await createProject({ name: 'Other' })).project.id;
    otherProjectStage = (await createStage({ projectId: other, name: 'foreign' })).stage.id;
  });

  it('creates a stage that backfills from its parent (backfill_after = 0)', async () => {
    const { stage, errors } = await createStage({ projectId, name: 'map', description: 'first', target: 'LOCAL' });
    expect(errors).toEqual([]);
    expect(stage).toMatchObject({ name: 'map', kind: 'MAP', parentId: null, target: 'LOCAL', isProcessing: true });
    expect(await backfillOf(stage.id)).toBe('0');
    const q = await h.gql(
      `query($id: ID!) { stage(id: $id) { name description project { id } parent { id } children { id }
         taskDefinition { id scriptPath } archived createdAt } }`,
      { id: stage.id },
    );
    expect(q.data.stage).toMatchObject({
      name: 'map',
      description: 'first',
      project: { id: projectId },
      parent: null,
      children: [],
      taskDefinition: { id: definitionId, scriptPath },
      archived: false,
    });
  });

  it('refuses bad stage input field by field', async () => {
    const foreign = await createStage({ projectId, name: 'x', parentId: otherProjectStage });
    expect(foreign.errors).toEqual([{ field: 'parentId', message: expect.stringMatching(/another project/) }]);
    const many = await createStage({
      projectId,
      name: '',
      taskDefinitionId: '00000000-0000-4000-8000-000000000000',
      outputPath: 'relative/out',
    });
    expect(many.errors.map((e) => e.field).sort()).toEqual(['name', 'outputPath', 'taskDefinitionId']);
    const noProject = await createStage({ projectId: '00000000-0000-4000-8000-000000000000', name: 'x' });
    expect(noProject.errors).toEqual([{ field: 'projectId', message: expect.stringMatching(/no project/) }]);
  });

  it('refuses an adjacent stage when the input has no lattice positions', async () => {
    const videos = (await createProject({ name: 'Videos', inputKind: 'GLOB', inputOptions: { pattern: '*.mp4' } }))
      .project.id;
    const adj = await createStage({ projectId: videos, name: 'pairs', kind: 'ADJACENT_X' });
    expect(adj.errors).toEqual([{ field: 'kind', message: expect.stringMatching(/no lattice positions on x/) }]);
    expect((await createStage({ projectId: videos, name: 'per-video' })).errors).toEqual([]);

    const positioned = (
      await createProject({
        name: 'Positioned',
        inputKind: 'GLOB',
        inputOptions: { pattern: '*/*', itemType: 'directory', positionPattern: '(?<z>\\d+)/(?<x>\\d+)' },
      })
    ).project.id;
    expect((await createStage({ projectId: positioned, name: 'adj-x', kind: 'ADJACENT_X' })).errors).toEqual([]);
    expect((await createStage({ projectId: positioned, name: 'adj-y', kind: 'ADJACENT_Y' })).errors[0].field).toBe(
      'kind',
    );

    // Recorded tiles decide once there are some: tiles without positions.
    await h.sequelize.query(
      `INSERT INTO tiles (project_id, relative_path, tile_name) VALUES ($1, 'a.mp4', 'a'), ($1, 'b.mp4', 'b')`,
      { bind: [positioned] },
    );
    expect((await createStage({ projectId: positioned, name: 'adj-x2', kind: 'ADJACENT_X' })).errors[0].field).toBe(
      'kind',
    );
  });

  it('moves stages, refusing cycles, and archives a stage moving its children up', async () => {
    const a = (await createStage({ projectId, name: 'A' })).stage;
    const b = (await createStage({ projectId, name: 'B', parentId: a.id })).stage;
    const c = (await createStage({ projectId, name: 'C', parentId: b.id })).stage;
    const move = (id: string, parentId: string | null) =>
      h.gql(
        `mutation($id: ID!, $parentId: ID) { moveStage(id: $id, parentId: $parentId) { stage { id parentId } errors { field message } } }`,
        { id, parentId },
      );
    const cycle = await move(a.id, c.id);
    expect(cycle.data.moveStage).toEqual({
      stage: null,
      errors: [{ field: 'parentId', message: expect.stringMatching(/cycle/) }],
    });
    expect((await move(a.id, a.id)).data.moveStage.errors[0].message).toMatch(/own parent/);
    expect((await move(a.id, otherProjectStage)).data.moveStage.errors[0].message).toMatch(/another project/);

    await h.sequelize.query('UPDATE stages SET backfill_after = NULL WHERE id = $1', { bind: [c.id] });
    const ok = await move(c.id, null);
    expect(ok.data.moveStage).toEqual({ stage: { id: c.id, parentId: null }, errors: [] });
    expect(await backfillOf(c.id)).toBe('0');
    await move(c.id, b.id);

    await h.sequelize.query('UPDATE stages SET backfill_after = NULL WHERE id = ANY($1::uuid[])', {
      bind: [[b.id, c.id]],
    });
    const archived = await h.gql(
      `mutation($id: ID!) { archiveStage(id: $id) { stage { id archived isProcessing } errors { field } } }`,
      { id: b.id },
    );
    expect(archived.data.archiveStage).toEqual({
      stage: { id: b.id, archived: true, isProcessing: false },
      errors: [],
    });
    const after = await h.gql(`query($id: ID!) { stage(id: $id) { parentId } }`, { id: c.id });
    expect(after.data.stage.parentId).toBe(a.id);
    expect(await backfillOf(c.id)).toBe('0');
    const project = await h.gql(`query($id: ID!) { project(id: $id) { stages { id } } }`, { id: projectId });
    expect(project.data.project.stages.map((s: { id: string }) => s.id)).not.toContain(b.id);
  });

  it('updates, starts and pauses a stage', async () => {
    const s = (await createStage({ projectId, name: 'to-edit' })).stage;
    await h.sequelize.query('UPDATE stages SET backfill_after = NULL WHERE id = $1', { bind: [s.id] });
    const upd = await h.gql(
      `mutation($id: ID!) { updateStage(id: $id, input: { name: "edited", kind: ADJACENT_Y, target: CLUSTER, outputPath: "/tmp/out2" }) {
         stage { name kind target outputPath } errors { field } } }`,
      { id: s.id },
    );
    expect(upd.data.updateStage).toEqual({
      stage: { name: 'edited', kind: 'ADJACENT_Y', target: 'CLUSTER', outputPath: '/tmp/out2' },
      errors: [],
    });
    expect(await backfillOf(s.id)).toBe('0');
    const bad = await h.gql(
      `mutation($id: ID!) { updateStage(id: $id, input: { outputPath: "x" }) { stage { id } errors { field } } }`,
      {
        id: s.id,
      },
    );
    expect(bad.data.updateStage.errors).toEqual([{ field: 'outputPath' }]);
    const paused = await h.gql(
      `mutation($id: ID!) { pauseStage(id: $id) { stage { isProcessing } errors { field } } }`,
      { id: s.id },
    );
    expect(paused.data.pauseStage).toEqual({ stage: { isProcessing: false }, errors: [] });
    const started = await h.gql(
      `mutation($id: ID!) { startStage(id: $id) { stage { isProcessing } errors { field } } }`,
      { id: s.id },
    );
    expect(started.data.startStage).toEqual({ stage: { isProcessing: true }, errors: [] });
  });
});

describe('counts, planes and tile pages', () => {
  let projectId: string;
  let s1: string;
  let s2: string;

  beforeAll(async () => {
    projectId = (await createProject({ name: 'Lattice', regionOfInterest: { maxX: 3 }, skippedZPlanes: [2] })).project
      .id;
    // 5 × 2 tiles on planes 0..3: 40 tiles; x = 4 is outside the ROI (8 tiles), plane 2 is skipped (10 tiles,
    // 2 of them outside the ROI already): eligible = 40 - 8 - 8 = 24. One eligible tile goes missing: 23.
    expect(await insertLattice(h.sequelize, projectId, { nx: 5, ny: 2, zs: [0, 1, 2, 3] })).toBe(40);
    await h.sequelize.query(`UPDATE tiles SET is_missing = true WHERE project_id = $1 AND relative_path = '3/1/3'`, {
      bind: [projectId],
    });
    await h.sequelize.query(
      `UPDATE tiles SET relative_path = 'special/50%_done_' || relative_path WHERE project_id = $1 AND z = 1 AND x = 1`,
      { bind: [projectId] },
    );
    s1 = (await createStage({ projectId, name: 'one' })).stage.id;
    s2 = (await createStage({ projectId, name: 'two', parentId: s1 })).stage.id;
    for (const [x, y, z, status] of [
      [0, 0, 0, 'complete'],
      [1, 0, 0, 'complete'],
      [2, 0, 0, 'failed'],
      [3, 0, 0, 'processing'],
      [0, 1, 0, 'queued'],
      [1, 1, 0, 'canceled'],
      [2, 1, 0, 'incomplete'],
      [0, 0, 1, 'waiting'],
    ] as const) {
      await setTileState(h.sequelize, s1, { x, y, z }, status, status === 'failed' ? 3 : 0);
    }
    await setTileState(h.sequelize, s2, { x: 0, y: 0, z: 0 }, 'complete');
  });

  it('counts per stage: incomplete = eligible tiles minus the other statuses', async () => {
    const r = await h.gql(
      `query($id: ID!) { project(id: $id) { tileCount planes
         stageCounts { stageId counts { incomplete waiting queued processing complete failed canceled } }
         stages { id counts { incomplete complete } } } }`,
      { id: projectId },
    );
    expect(r.errors).toBeUndefined();
    const p = r.data.project;
    expect(p.tileCount).toBe(39);
    expect(p.planes).toEqual([0, 1, 2, 3]);
    expect(p.stageCounts).toEqual([
      {
        stageId: s1,
        counts: { incomplete: 23 - 7, waiting: 1, queued: 1, processing: 1, complete: 2, failed: 1, canceled: 1 },
      },
      {
        stageId: s2,
        counts: { incomplete: 22, waiting: 0, queued: 0, processing: 0, complete: 1, failed: 0, canceled: 0 },
      },
    ]);
    expect(p.stages).toEqual([
      { id: s1, counts: { incomplete: 16, complete: 2 } },
      { id: s2, counts: { incomplete: 22, complete: 1 } },
    ]);
  });

  it('lists a plane with each stage status in stage order (no row = incomplete)', async () => {
    const r = await h.gql(
      `query($id: ID!) { project(id: $id) { plane(z: 0) { z tiles { tileId x y relativePath statuses } } empty: plane(z: 99) { tiles { tileId } } } }`,
      { id: projectId },
    );
    const plane = r.data.project.plane;
    expect(plane.z).toBe(0);
    expect(plane.tiles).toHaveLength(10);
    expect(plane.tiles.map((t: { x: number; y: number }) => `${t.x},${t.y}`).slice(0, 6)).toEqual([
      '0,0',
      '1,0',
      '2,0',
      '3,0',
      '4,0',
      '0,1',
    ]);
    const at = (x: number, y: number) => plane.tiles.find((t: { x: number; y: number }) => t.x === x && t.y === y);
    expect(at(0, 0)).toMatchObject({ relativePath: '0/0/0', statuses: ['COMPLETE', 'COMPLETE'] });
    expect(at(2, 0).statuses).toEqual(['FAILED', 'INCOMPLETE']);
    expect(at(4, 1).statuses).toEqual(['INCOMPLETE', 'INCOMPLETE']);
    expect(r.data.project.empty.tiles).toEqual([]);
  });

  it('pages a stage tiles by status, with a literal substring search', async () => {
    const page = async (args: string) =>
      (
        await h.gql(
          `query($id: ID!) { stage(id: $id) { tiles(${args}) { total items { tileId relativePath x y z status attempts updatedAt } } } }`,
          { id: s1 },
        )
      ).data.stage.tiles;
    const failed = await page('status: FAILED');
    expect(failed.total).toBe(1);
    expect(failed.items[0]).toMatchObject({ relativePath: '0/0/2', x: 2, y: 0, z: 0, status: 'FAILED', attempts: 3 });

    const incomplete = await page('status: INCOMPLETE, limit: 5');
    expect(incomplete.total).toBe(16);
    expect(incomplete.items).toHaveLength(5);
    expect(incomplete.items.every((t: { status: string }) => t.status === 'INCOMPLETE')).toBe(true);

    const all = await page('limit: 100');
    expect(all.total).toBe(23);
    const second = await page('offset: 20, limit: 10');
    expect(second.total).toBe(23);
    expect(second.items).toHaveLength(3);
    expect((await page('offset: 500')).total).toBe(23);
    expect((await page('status: COMPLETE, offset: 10')).total).toBe(2);

    const literal = await page('search: "50%_d"');
    expect(literal.items.map((t: { relativePath: string }) => t.relativePath)).toEqual([
      'special/50%_done_1/0/1',
      'special/50%_done_1/1/1',
    ]);
    expect((await page('search: "5_%"')).total).toBe(0);
    expect(
      (await page('status: WAITING, search: "0/0"')).items.map((t: { relativePath: string }) => t.relativePath),
    ).toEqual(['1/0/0']);
  });

  it('lists the executions of a tile, newest first', async () => {
    const [{ id: tileId }] = await h.sequelize.query<{ id: string }>(
      `SELECT id::text AS id FROM tiles WHERE project_id = $1 AND relative_path = '0/0/2'`,
      { bind: [projectId], type: QueryTypes.SELECT },
    );
    for (const attempt of [1, 2, 3]) {
      await h.sequelize.query(
        `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt, status, exit_code, argv, finished_at)
         VALUES ($1, $2, $3, $4, $5, 'failed', 3, ARRAY['/bin/x', 'a b'], now())`,
        { bind: [projectId, s1, tileId, definitionId, attempt] },
      );
    }
    const r = await h.gql(
      `query($id: ID!, $tileId: ID!) {
         stage(id: $id) { tiles(status: FAILED) { items { tileId executions { attempt status exitCode argv } } } }
         executions(stageId: $id, tileId: $tileId) { attempt stageId tileId worker { id } }
       }`,
      { id: s1, tileId },
    );
    expect(r.data.stage.tiles.items[0].tileId).toBe(tileId);
    expect(r.data.stage.tiles.items[0].executions.map((e: { attempt: number }) => e.attempt)).toEqual([3, 2, 1]);
    expect(r.data.stage.tiles.items[0].executions[0]).toEqual({
      attempt: 3,
      status: 'FAILED',
      exitCode: 3,
      argv: ['/bin/x', 'a b'],
    });
    expect(r.data.executions).toEqual([3, 2, 1].map((attempt) => ({ attempt, stageId: s1, tileId, worker: null })));
  });
});
