/**
 * Every field of every type reachable from the read queries resolves without error on real data: a guard against
 * a schema field added without a resolver (a non-null field would fail only at run time).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GraphQLField, GraphQLNamedType, GraphQLObjectType, GraphQLType } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/helpers.js';
import { insertLattice, setTileState, startApiHarness, type ApiHarness } from '../server/test-support.js';
import { buildSchema } from './schema.js';

let h: ApiHarness;
let root: string;

// Duck-typed walking: vitest may load a second copy of graphql for test files, which breaks instanceof checks.
const named = (t: GraphQLType): GraphQLNamedType =>
  'ofType' in t && t.ofType ? named(t.ofType as GraphQLType) : (t as GraphQLNamedType);
const isObject = (t: GraphQLNamedType): t is GraphQLObjectType => t.astNode?.kind === 'ObjectTypeDefinition';

/** Arguments for fields that require some. */
const ARGS: Record<string, string> = { 'Project.plane': '(z: 0)' };

/** A selection of every field, recursing into object types not already on the path, to `depth` levels. */
function selection(type: GraphQLObjectType, depth: number, path: string[]): string {
  const parts: string[] = [];
  for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
    const key = `${type.name}.${field.name}`;
    const required = field.args.some((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined);
    if (required && !ARGS[key]) continue;
    const target = named(field.type);
    if (isObject(target)) {
      if (depth === 0 || path.includes(target.name)) continue;
      const inner = selection(target, depth - 1, [...path, target.name]);
      if (inner) parts.push(`${field.name}${ARGS[key] ?? ''} { ${inner} }`);
    } else {
      parts.push(`${field.name}${ARGS[key] ?? ''}`);
    }
  }
  return parts.join(' ');
}

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-coverage-'));
  await fs.writeFile(path.join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  const repo = await h.gql(
    `mutation($l: String!) { createTaskRepository(input: { name: "r", location: $l }) { repository { id } } }`,
    {
      l: root,
    },
  );
  const def = await h.gql(
    `mutation($r: ID!) { createTaskDefinition(input: { name: "d", repositoryId: $r, script: "run.sh" }) { definition { id } } }`,
    {
      r: repo.data.createTaskRepository.repository.id,
    },
  );
  const p = await h.gql(
    `mutation($root: String!) { createProject(input: { name: "cov", rootPath: $root, logRootPath: $root }) { project { id } } }`,
    {
      root,
    },
  );
  const projectId = p.data.createProject.project.id;
  const a = await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
    input: {
      projectId,
      name: 'a',
      taskDefinitionId: def.data.createTaskDefinition.definition.id,
      outputPath: '/tmp/a',
    },
  });
  const stageId = a.data.createStage.stage.id;
  await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
    input: {
      projectId,
      parentId: stageId,
      name: 'b',
      taskDefinitionId: def.data.createTaskDefinition.definition.id,
      outputPath: '/tmp/b',
    },
  });
  await insertLattice(h.sequelize, projectId, { nx: 2, ny: 2, zs: [0] });
  const tileId = await setTileState(h.sequelize, stageId, { x: 0, y: 0, z: 0 }, 'failed', 1);
  const w = await h.gql(
    `mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { workerId } }`,
    { input: { name: 'cov-w', host: 'h', version: '1', cpus: 1, memoryMb: 1, localCapacity: 1, clusterCapacity: 0 } },
    h.workerToken,
  );
  await h.sequelize.query(
    `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt, status, worker_id, finished_at, stdout_path)
     SELECT project_id, id, $2, task_definition_id, 1, 'failed', $3, now(), $4 FROM stages WHERE id = $1`,
    { bind: [stageId, tileId, w.data.registerWorker.workerId, path.join(root, 'x.out')] },
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(root, { recursive: true, force: true });
});

it('resolves every field reachable from the read queries', async () => {
  const schema = buildSchema();
  const query = schema.getQueryType()!;
  const roots = Object.values(query.getFields()).filter((f) => !f.args.some((a) => a.type.toString().endsWith('!')));
  const text = `{ ${roots
    .map((f) => {
      const t = named(f.type);
      return isObject(t) ? `${f.name} { ${selection(t, 4, [t.name])} }` : f.name;
    })
    .join(' ')} }`;
  expect(text).toContain('plane(z: 0)');
  expect(text).toContain('scriptStatus');
  expect(text).toContain('executions');
  const r = await h.gql(text);
  expect(r.errors).toBeUndefined();
  expect(r.data.projects[0].stages[0].tiles.items.length).toBeGreaterThan(0);
  expect(
    r.data.projects[0].stages[0].tiles.items.some((t: { executions: unknown[] }) => t.executions.length === 1),
  ).toBe(true);
});
