/**
 * The demo end to end, over HTTP: a synthetic acquisition that keeps growing (pipeline-input.json read by the real
 * input watcher), the demo's three stages (checksum → downsample → compare-z, one z-adjacent) running the real
 * scripts of tasks/demo on a worker daemon that talks to the API, and `tileflow status --project ID --json` (the
 * real CLI, as a subprocess) watched until everything is complete, while the counts move.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedDemo } from '../coordinator/src/db/seeds/demo.js';
import { SyntheticAcquisition } from '../coordinator/src/tools/synth.js';
import { REPO } from './processes.js';
import { startStack, type Stack } from './stack.js';

const run = promisify(execFile);
let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-demo-'));
});

afterAll(async () => {
  await stack?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

interface Status {
  tiles: number;
  stages: Array<{ id: string; name: string; counts: Record<string, number> }>;
}

async function status(projectId: string): Promise<Status> {
  const { stdout } = await run(
    process.execPath,
    [path.join(REPO, 'coordinator/bin/tileflow.js'), 'status', '--project', projectId, '--json'],
    {
      env: { ...process.env, ...stack.cliEnv },
    },
  );
  return JSON.parse(stdout) as Status;
}

it('processes a growing acquisition through three stages to all-complete', async () => {
  const root = path.join(dir, 'acquisition');
  const acq = new SyntheticAcquisition({ root, format: 'pipeline-json', x: 3, y: 3, z: 4, bytes: 512 });
  await acq.append(9); // the first plane
  const ids = await seedDemo(stack.sequelize, {
    taskRoot: path.join(REPO, 'tasks', 'demo'),
    acquisitionRoot: root,
    outputRoot: path.join(dir, 'output'),
    start: true,
  });
  await stack.startWorker({ localCapacity: 2 });

  const seen: string[] = [];
  const deadline = Date.now() + 90_000;
  let s: Status;
  for (;;) {
    s = await status(ids.projectId);
    seen.push(JSON.stringify(s.stages.map((x) => x.counts.complete)));
    // Keep the microscope going while the pipeline runs: one more plane every round until the lattice is full.
    if (acq.written < 36) await acq.append(9);
    const done = s.tiles === 36 && s.stages.every((x) => x.counts.complete === 36);
    if (done) break;
    if (Date.now() > deadline) throw new Error(`not complete: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(s.stages.map((x) => x.name).sort()).toEqual(['checksum', 'compare-z', 'downsample']);
  for (const stage of s.stages) {
    expect(stage.counts).toMatchObject({
      incomplete: 0,
      queued: 0,
      processing: 0,
      failed: 0,
      canceled: 0,
      complete: 36,
    });
  }
  // The counts moved while we watched: more than one distinct reading before the end.
  expect(new Set(seen).size).toBeGreaterThan(2);
  // The scripts really ran: a checksum per tile, a downsampled copy, a comparison with the z+1 neighbour.
  const rel = acq.relativePathOf(0);
  expect(await fs.readFile(path.join(dir, 'output', 'checksum', rel, 'checksum.sha256'), 'utf8')).toMatch(
    /^[0-9a-f]{64} /,
  );
  const ds = await fs.readdir(path.join(dir, 'output', 'downsample', rel));
  expect(ds.some((f) => f.endsWith('.ds'))).toBe(true);
  expect(await fs.readFile(path.join(dir, 'output', 'compare-z', rel, 'compare-z.txt'), 'utf8')).toContain(
    `neighbour ${acq.relativePathOf(9)}`,
  );
  const last = acq.relativePathOf(35);
  expect(await fs.readFile(path.join(dir, 'output', 'compare-z', last, 'compare-z.txt'), 'utf8')).toContain(
    'no z+1 neighbour',
  );
  const [once] = await stack.sequelize.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_executions WHERE status = 'succeeded'`,
    { type: QueryTypes.SELECT },
  );
  expect(once.n).toBe(108);
}, 120_000);
