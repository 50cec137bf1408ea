/** Task repositories and definitions over HTTP against real PostgreSQL, with scripts on disk. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../../test/helpers.js';
import { startApiHarness, type ApiHarness } from '../../../server/test-support.js';

let h: ApiHarness;
let repoDir: string;

const REPO = 'repository { id name location description archived definitions { id name } }';
const DEF = `definition { id name description repository { id } script scriptPath args expectedExitCode localWorkUnits
  clusterWorkUnits clusterOptions { partition cpus memoryMb timeLimitMinutes extraArgs } timeoutSeconds maxRetries
  retryBackoffSeconds archived scriptStatus { exists executable message contents } }`;

const createRepo = (input: Record<string, unknown>) =>
  h.gql(
    `mutation($input: TaskRepositoryInput!) { createTaskRepository(input: $input) { ${REPO} errors { field message } } }`,
    { input },
  );
const createDef = (input: Record<string, unknown>) =>
  h.gql(
    `mutation($input: TaskDefinitionInput!) { createTaskDefinition(input: $input) { ${DEF} errors { field message } } }`,
    { input },
  );

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  repoDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-tasks-'));
  await fs.mkdir(path.join(repoDir, 'bin'));
  await fs.writeFile(path.join(repoDir, 'bin', 'align.sh'), '#!/bin/sh\necho aligning "$3"\n', { mode: 0o755 });
  await fs.writeFile(path.join(repoDir, 'bin', 'plain.sh'), '#!/bin/sh\n', { mode: 0o644 });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(repoDir, { recursive: true, force: true });
});

describe('task repositories', () => {
  it('creates, lists, updates and archives a repository', async () => {
    const r = await createRepo({ name: 'lab', location: repoDir, description: 'scripts' });
    expect(r.data.createTaskRepository.errors).toEqual([]);
    const repo = r.data.createTaskRepository.repository;
    expect(repo).toMatchObject({
      name: 'lab',
      location: repoDir,
      description: 'scripts',
      archived: false,
      definitions: [],
    });

    const upd = await h.gql(
      `mutation($id: ID!, $input: TaskRepositoryInput!) { updateTaskRepository(id: $id, input: $input) { repository { name description } errors { field } } }`,
      { id: repo.id, input: { name: 'lab2', location: repoDir } },
    );
    expect(upd.data.updateTaskRepository).toEqual({ repository: { name: 'lab2', description: 'scripts' }, errors: [] });
    const list = await h.gql(`query($id: ID!) { taskRepositories { id } taskRepository(id: $id) { name } }`, {
      id: repo.id,
    });
    expect(list.data).toEqual({ taskRepositories: [{ id: repo.id }], taskRepository: { name: 'lab2' } });

    const archived = await h.gql(
      `mutation($id: ID!) { archiveTaskRepository(id: $id) { repository { archived } errors { field } } }`,
      {
        id: repo.id,
      },
    );
    expect(archived.data.archiveTaskRepository).toEqual({ repository: { archived: true }, errors: [] });
    const after = await h.gql('{ live: taskRepositories { id } all: taskRepositories(includeArchived: true) { id } }');
    expect(after.data).toEqual({ live: [], all: [{ id: repo.id }] });
  });

  it('refuses a location that is not an absolute readable folder, and duplicate names', async () => {
    expect((await createRepo({ name: 'x', location: 'relative' })).data.createTaskRepository.errors).toEqual([
      { field: 'location', message: expect.stringMatching(/not absolute/) },
    ]);
    expect(
      (await createRepo({ name: 'x', location: path.join(repoDir, 'missing') })).data.createTaskRepository.errors,
    ).toEqual([{ field: 'location', message: expect.stringMatching(/does not exist/) }]);
    await createRepo({ name: 'dup', location: repoDir });
    expect((await createRepo({ name: 'dup', location: repoDir })).data.createTaskRepository.errors).toEqual([
      { field: 'name', message: expect.stringMatching(/exists/) },
    ]);
  });
});

describe('task definitions', () => {
  let repoId: string;

  beforeAll(async () => {
    repoId = (await createRepo({ name: 'defs', location: repoDir })).data.createTaskRepository.repository.id;
  });

  it('creates a definition in a repository, with script status and contents', async () => {
    const r = await createDef({
      name: 'align',
      repositoryId: repoId,
      script: 'bin/align.sh',
      args: ['${CHANNEL}', 'two words'],
      expectedExitCode: 0,
      localWorkUnits: 2,
      clusterWorkUnits: 0.5,
      clusterOptions: { partition: 'debug', cpus: 2, memoryMb: 512, timeLimitMinutes: 5, extraArgs: ['--qos=short'] },
      timeoutSeconds: 60,
      maxRetries: 2,
      retryBackoffSeconds: 1.5,
    });
    expect(r.data.createTaskDefinition.errors).toEqual([]);
    expect(r.data.createTaskDefinition.definition).toMatchObject({
      name: 'align',
      repository: { id: repoId },
      script: 'bin/align.sh',
      scriptPath: path.join(repoDir, 'bin', 'align.sh'),
      args: ['${CHANNEL}', 'two words'],
      localWorkUnits: 2,
      clusterWorkUnits: 0.5,
      clusterOptions: { partition: 'debug', cpus: 2, memoryMb: 512, timeLimitMinutes: 5, extraArgs: ['--qos=short'] },
      timeoutSeconds: 60,
      maxRetries: 2,
      retryBackoffSeconds: 1.5,
      archived: false,
      scriptStatus: { exists: true, executable: true, message: null, contents: '#!/bin/sh\necho aligning "$3"\n' },
    });
    const repo = await h.gql(`query($id: ID!) { taskRepository(id: $id) { definitions { name } } }`, { id: repoId });
    expect(repo.data.taskRepository.definitions).toEqual([{ name: 'align' }]);
  });

  it('reports scripts that are missing or not executable', async () => {
    const plain = await createDef({ name: 'plain', repositoryId: repoId, script: 'bin/plain.sh' });
    expect(plain.data.createTaskDefinition.definition.scriptStatus).toEqual({
      exists: true,
      executable: false,
      message: expect.stringMatching(/chmod \+x/),
      contents: '#!/bin/sh\n',
    });
    const missing = await createDef({ name: 'missing', script: '/nonexistent/run.sh' });
    expect(missing.data.createTaskDefinition.definition.scriptStatus).toEqual({
      exists: false,
      executable: false,
      message: expect.stringMatching(/does not exist/),
      contents: null,
    });
  });

  it('refuses a script path that leaves the repository, and other bad input, by field', async () => {
    const escape = await createDef({ name: 'escape', repositoryId: repoId, script: '../outside.sh' });
    expect(escape.data.createTaskDefinition).toEqual({
      definition: null,
      errors: [{ field: 'script', message: expect.stringMatching(/leaves the repository/) }],
    });
    const absoluteOutside = await createDef({ name: 'abs', repositoryId: repoId, script: '/etc/passwd' });
    expect(absoluteOutside.data.createTaskDefinition.errors[0].field).toBe('script');
    const relativeNoRepo = await createDef({ name: 'rel', script: 'run.sh' });
    expect(relativeNoRepo.data.createTaskDefinition.errors).toEqual([
      { field: 'script', message: expect.stringMatching(/absolute path or a repositoryId/) },
    ]);
    const many = await createDef({
      script: '/bin/true',
      localWorkUnits: -1,
      timeoutSeconds: 0,
      maxRetries: -2,
      expectedExitCode: 300,
      clusterOptions: { cpus: 0, extraArgs: ['qos'] },
    });
    expect(many.data.createTaskDefinition.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'clusterOptions.cpus',
      'clusterOptions.extraArgs.0',
      'expectedExitCode',
      'localWorkUnits',
      'maxRetries',
      'name',
      'timeoutSeconds',
    ]);
    const noScript = await createDef({ name: 'no script' });
    expect(noScript.data.createTaskDefinition.errors).toEqual([
      { field: 'script', message: expect.stringMatching(/required/) },
    ]);
  });

  it('updates, duplicates and archives definitions; refuses to archive one a stage uses', async () => {
    const d = (await createDef({ name: 'base', script: '/bin/true', args: ['a'] })).data.createTaskDefinition
      .definition;
    const upd = await h.gql(
      `mutation($id: ID!) { updateTaskDefinition(id: $id, input: { args: ["b", "c"], timeoutSeconds: null, maxRetries: 1 }) {
         definition { args timeoutSeconds maxRetries script } errors { field } } }`,
      { id: d.id },
    );
    expect(upd.data.updateTaskDefinition).toEqual({
      definition: { args: ['b', 'c'], timeoutSeconds: null, maxRetries: 1, script: '/bin/true' },
      errors: [],
    });
    const dup = await h.gql(
      `mutation($id: ID!) { duplicateTaskDefinition(id: $id) { definition { id name args } errors { field } } }`,
      {
        id: d.id,
      },
    );
    expect(dup.data.duplicateTaskDefinition.definition).toMatchObject({ name: 'base (copy)', args: ['b', 'c'] });
    const named = await h.gql(
      `mutation($id: ID!) { duplicateTaskDefinition(id: $id, name: "other") { definition { name } } }`,
      {
        id: d.id,
      },
    );
    expect(named.data.duplicateTaskDefinition.definition).toEqual({ name: 'other' });

    const project = await h.gql(
      `mutation($root: String!) { createProject(input: { name: "uses", rootPath: $root }) { project { id } } }`,
      { root: repoDir },
    );
    await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
      input: {
        projectId: project.data.createProject.project.id,
        name: 'user',
        taskDefinitionId: d.id,
        outputPath: '/tmp/x',
      },
    });
    const refused = await h.gql(
      `mutation($id: ID!) { archiveTaskDefinition(id: $id) { definition { id } errors { field message } } }`,
      {
        id: d.id,
      },
    );
    expect(refused.data.archiveTaskDefinition).toEqual({
      definition: null,
      errors: [{ field: 'id', message: expect.stringMatching(/used by stage\(s\) "user"/) }],
    });
    const copyId = dup.data.duplicateTaskDefinition.definition.id;
    const ok = await h.gql(
      `mutation($id: ID!) { archiveTaskDefinition(id: $id) { definition { archived } errors { field } } }`,
      {
        id: copyId,
      },
    );
    expect(ok.data.archiveTaskDefinition).toEqual({ definition: { archived: true }, errors: [] });
    const lists = await h.gql(
      `query($id: ID!) { live: taskDefinitions { id } all: taskDefinitions(includeArchived: true) { id } one: taskDefinition(id: $id) { archived } }`,
      {
        id: copyId,
      },
    );
    expect(lists.data.live.map((x: { id: string }) => x.id)).not.toContain(copyId);
    expect(lists.data.all.map((x: { id: string }) => x.id)).toContain(copyId);
    expect(lists.data.one).toEqual({ archived: true });
  });
});
