/**
 * The `tileflow` command run as a subprocess against an API started here (real PostgreSQL and Redis): every form,
 * the `status --json` shape, .env discovery, and errors on stderr with a non-zero exit code.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/helpers.js';
import { insertLattice, setTileState, startApiHarness, type ApiHarness } from '../server/test-support.js';

const MAIN = path.resolve(import.meta.dirname, 'main.ts');
/** tsx's loader by absolute URL: the CLI runs from folders outside the repository. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let h: ApiHarness;
let work: string;
let root: string;
let script: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from `cwd` (a folder without a .env above it unless the test writes one) with only `env`. */
function tileflow(
  args: string[],
  o: { env?: Record<string, string>; cwd?: string; stdin?: string; auth?: boolean } = {},
): Promise<Run> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    ...(o.auth === false
      ? {}
      : { TILEFLOW_URL: h.url, TILEFLOW_USER: h.admin.username, TILEFLOW_PASSWORD: h.admin.password }),
    ...o.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: o.cwd ?? work, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.stdin ?? '');
  });
}

const UUID = /^[0-9a-f-]{36}$/;

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-cli-'));
  root = path.join(work, 'acquisitions', 'sample-1');
  await fs.mkdir(root, { recursive: true });
  script = path.join(work, 'scripts', 'align.sh');
  await fs.mkdir(path.dirname(script));
  await fs.writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(work, { recursive: true, force: true });
});

describe('tileflow CLI', () => {
  let projectId: string;
  let stageId: string;
  let childId: string;

  it('project create prints the new id; bad input goes to stderr with a non-zero code', async () => {
    const r = await tileflow([
      'project',
      'create',
      '--name',
      'Sample 1',
      '--root',
      'acquisitions/sample-1',
      '--log-root',
      'logs',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    projectId = r.stdout.trim();
    expect(projectId).toMatch(UUID);
    const p = await h.gql(`query($id: ID!) { project(id: $id) { name rootPath logRootPath inputKind } }`, {
      id: projectId,
    });
    expect(p.data.project).toEqual({
      name: 'Sample 1',
      rootPath: root,
      logRootPath: path.join(work, 'logs'),
      inputKind: 'PIPELINE_JSON',
    });

    const glob = await tileflow([
      'project',
      'create',
      '--name',
      'Videos',
      '--root',
      root,
      '--input',
      'glob',
      '--pattern',
      '*.mp4',
    ]);
    expect(glob.code).toBe(0);
    const g = await h.gql(`query($id: ID!) { project(id: $id) { inputKind inputOptions } }`, {
      id: glob.stdout.trim(),
    });
    expect(g.data.project).toEqual({ inputKind: 'GLOB', inputOptions: { pattern: '*.mp4' } });

    const [bad, badKind] = await Promise.all([
      tileflow(['project', 'create', '--name', 'Bad', '--root', path.join(work, 'missing')]),
      tileflow(['project', 'create', '--name', 'Bad', '--root', root, '--input', 'xml']),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/rootPath: .*does not exist/);
    expect(badKind.code).not.toBe(0);
    expect(badKind.stderr).toMatch(/--input.*xml|xml.*pipeline-json/s);
  }, 60_000);

  it('stage add prints the new id, makes or reuses the task definition and defaults the output folder', async () => {
    const r = await tileflow([
      'stage',
      'add',
      '--project',
      projectId,
      '--name',
      'align',
      '--script',
      'scripts/align.sh',
      '--arg',
      '${CHANNEL}',
      '--arg=--fast',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    stageId = r.stdout.trim();
    expect(stageId).toMatch(UUID);
    const s = await h.gql(
      `query($id: ID!) { stage(id: $id) { name kind parentId outputPath taskDefinition { id scriptPath args } } }`,
      {
        id: stageId,
      },
    );
    expect(s.data.stage).toMatchObject({
      name: 'align',
      kind: 'MAP',
      parentId: null,
      outputPath: path.join(work, 'acquisitions', 'Sample-1-align'),
      taskDefinition: { scriptPath: script, args: ['${CHANNEL}', '--fast'] },
    });

    const child = await tileflow([
      'stage',
      'add',
      '--project',
      projectId,
      '--name',
      'stitch',
      '--script',
      script,
      '--arg',
      '${CHANNEL}',
      '--arg',
      'fast',
      '--parent',
      stageId,
      '--kind',
      'adjacent-z',
      '--output',
      'out/stitch',
    ]);
    expect(child.code).toBe(0);
    childId = child.stdout.trim();
    const c = await h.gql(`query($id: ID!) { stage(id: $id) { kind parentId outputPath } }`, { id: childId });
    expect(c.data.stage).toEqual({
      kind: 'ADJACENT_Z',
      parentId: stageId,
      outputPath: path.join(work, 'out', 'stitch'),
    });

    const again = await tileflow([
      'stage',
      'add',
      '--project',
      projectId,
      '--name',
      'align2',
      '--script',
      script,
      '--arg',
      '${CHANNEL}',
      '--arg=--fast',
    ]);
    expect(again.code).toBe(0);
    const defs = await h.gql('{ taskDefinitions { id scriptPath args } }');
    expect(defs.data.taskDefinitions).toHaveLength(2);

    const foreign = await tileflow([
      'stage',
      'add',
      '--project',
      projectId,
      '--name',
      'x',
      '--script',
      script,
      '--parent',
      'nope',
    ]);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/parentId: no stage with id "nope"/);
    const noProject = await tileflow([
      'stage',
      'add',
      '--project',
      '00000000-0000-4000-8000-000000000000',
      '--name',
      'x',
      '--script',
      script,
    ]);
    expect(noProject.code).not.toBe(0);
    expect(noProject.stderr).toMatch(/No project with id/);
  }, 60_000);

  it('start and pause a project or one stage', async () => {
    const start = await tileflow(['start', '--project', projectId]);
    expect(start).toMatchObject({ code: 0, stdout: `project ${projectId} processing\n` });
    const pauseStage = await tileflow(['pause', '--project', projectId, '--stage', stageId]);
    expect(pauseStage).toMatchObject({ code: 0, stdout: `stage ${stageId} paused\n` });
    const q = await h.gql(
      `query($p: ID!, $s: ID!) { project(id: $p) { isProcessing } stage(id: $s) { isProcessing } }`,
      {
        p: projectId,
        s: stageId,
      },
    );
    expect(q.data).toEqual({ project: { isProcessing: true }, stage: { isProcessing: false } });
    expect((await tileflow(['start', '--project', projectId, '--stage', stageId])).stdout).toBe(
      `stage ${stageId} processing\n`,
    );
    expect((await tileflow(['pause', '--project', projectId])).stdout).toBe(`project ${projectId} paused\n`);
    const bad = await tileflow(['start', '--project', 'nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/id: no project/);
  }, 60_000);

  it('status prints a table, or exactly one JSON object with --json', async () => {
    await insertLattice(h.sequelize, projectId, { nx: 2, ny: 2, zs: [0, 1] });
    await setTileState(h.sequelize, stageId, { x: 0, y: 0, z: 0 }, 'complete');
    await setTileState(h.sequelize, stageId, { x: 1, y: 0, z: 0 }, 'failed');
    await setTileState(h.sequelize, stageId, { x: 0, y: 1, z: 0 }, 'failed');

    const json = await tileflow(['status', '--project', projectId, '--json']);
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    const status = JSON.parse(json.stdout) as {
      tiles: number;
      stages: Array<{ id: string; name: string; counts: Record<string, number> }>;
    };
    expect(status.tiles).toBe(8);
    expect(status.stages.map((s) => s.name)).toEqual(['align', 'stitch', 'align2']);
    expect(status.stages[0]).toMatchObject({
      id: stageId,
      name: 'align',
      counts: { incomplete: 5, waiting: 0, queued: 0, processing: 0, complete: 1, failed: 2, canceled: 0 },
    });
    for (const s of status.stages) {
      expect(Object.keys(s.counts).sort()).toEqual([
        'canceled',
        'complete',
        'failed',
        'incomplete',
        'processing',
        'queued',
        'waiting',
      ]);
    }

    const table = await tileflow(['status', '--project', projectId]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Sample 1 \(.*\): paused, input unknown, 8 tiles$/);
    expect(lines[1]).toMatch(
      /^STAGE\s+ID\s+INCOMPLETE\s+WAITING\s+QUEUED\s+PROCESSING\s+COMPLETE\s+FAILED\s+CANCELED$/,
    );
    expect(lines[2]).toMatch(new RegExp(`^align\\s+${stageId}\\s+5\\s+0\\s+0\\s+0\\s+1\\s+2\\s+0$`));
  }, 60_000);

  it('resubmit --failed and --tile; refuses neither or unknown tiles', async () => {
    const failed = await tileflow(['resubmit', '--stage', stageId, '--failed']);
    expect(failed).toMatchObject({ code: 0, stdout: 'resubmitted 2 tile(s)\n' });
    const byPath = await tileflow(['resubmit', '--stage', stageId, '--tile', '0/0/0']);
    expect(byPath).toMatchObject({ code: 0, stdout: 'resubmitted 1 tile(s)\n' });
    const none = await tileflow(['resubmit', '--stage', stageId]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--failed or --tile/);
    const unknown = await tileflow(['resubmit', '--stage', stageId, '--tile', '0/0/0', 'not/a/tile']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/relativePaths: no tile with relative path "not\/a\/tile"/);
  }, 60_000);

  it('user create writes the database directly, with the password from stdin or TILEFLOW_NEW_PASSWORD', async () => {
    const db = h.config.services.db;
    const dbEnv = {
      TILEFLOW_DB_HOST: db.host,
      TILEFLOW_DB_PORT: String(db.port),
      TILEFLOW_DB_NAME: db.database,
      TILEFLOW_DB_USER: db.user,
    };
    const viaStdin = await tileflow(['user', 'create', '--name', 'grace', '--role', 'admin'], {
      auth: false,
      env: dbEnv,
      stdin: 'grace-password\n',
    });
    expect(viaStdin.stderr).toBe('');
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.stdout).toMatch(/^created admin "grace"/);
    expect(await h.signIn('grace', 'grace-password')).toBeTruthy();

    const viaEnv = await tileflow(['user', 'create', '--name', 'vic', '--role', 'viewer'], {
      auth: false,
      env: { ...dbEnv, TILEFLOW_NEW_PASSWORD: 'vic-password' },
    });
    expect(viaEnv.code).toBe(0);
    const me = await h.gql('{ me { role } }', {}, await h.signIn('vic', 'vic-password'));
    expect(me.data.me).toEqual({ role: 'VIEWER' });

    const [dup, noPassword, badRole] = await Promise.all([
      tileflow(['user', 'create', '--name', 'vic', '--role', 'viewer'], {
        auth: false,
        env: { ...dbEnv, TILEFLOW_NEW_PASSWORD: 'vic-password' },
      }),
      tileflow(['user', 'create', '--name', 'x', '--role', 'viewer'], { auth: false, env: dbEnv }),
      tileflow(['user', 'create', '--name', 'x', '--role', 'root'], { auth: false, env: dbEnv }),
    ]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/username: user "vic" already exists/);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/TILEFLOW_NEW_PASSWORD/);
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/root/);
  }, 60_000);

  it('reads .env from a parent folder, uses TILEFLOW_TOKEN, and says what is missing', async () => {
    const repo = path.join(work, 'repo');
    await fs.mkdir(path.join(repo, 'deep', 'er'), { recursive: true });
    await fs.writeFile(
      path.join(repo, '.env'),
      `TILEFLOW_URL=${h.url}\nTILEFLOW_ADMIN_USER=${h.admin.username}\nTILEFLOW_ADMIN_PASSWORD=${h.admin.password}\nTILEFLOW_USER=\n`,
    );
    const fromEnvFile = await tileflow(['status', '--project', projectId, '--json'], {
      auth: false,
      cwd: path.join(repo, 'deep', 'er'),
    });
    expect(fromEnvFile.stderr).toBe('');
    expect(JSON.parse(fromEnvFile.stdout).tiles).toBe(8);

    const token = await h.signIn();
    const withToken = await tileflow(['status', '--project', projectId, '--json'], {
      auth: false,
      env: { TILEFLOW_URL: h.url, TILEFLOW_TOKEN: token },
    });
    expect(withToken.code).toBe(0);

    // Independent failures, run side by side.
    const [none, wrong, down, usage] = await Promise.all([
      tileflow(['status', '--project', projectId], { auth: false, env: { TILEFLOW_URL: h.url } }),
      tileflow(['status', '--project', projectId], { env: { TILEFLOW_PASSWORD: 'wrong-password' } }),
      tileflow(['status', '--project', projectId], { env: { TILEFLOW_URL: 'http://127.0.0.1:9' } }),
      tileflow(['stage', 'add', '--project', projectId]),
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No credentials: set TILEFLOW_TOKEN, or TILEFLOW_USER and TILEFLOW_PASSWORD/);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Sign-in of "admin" refused/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Cannot reach the coordinator at http:\/\/127.0.0.1:9/);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/required option '--name <name>'/);
  }, 60_000);
});
