/**
 * Pipeline benchmark (issue 4): N tiles × 3 map stages of a no-op script on one local worker of capacity 2,
 * end to end (discovery, readiness, dispatch, execution, recording), against two baselines measured in the same
 * run on the same script and argv: (a) `xargs -P2` and (b) a bare Node loop spawning the executions two at a time.
 * Then the new-tile-to-first-start latency with many tiles already known.
 *
 *   npx tsx bench/pipeline.ts [--tiles 10000] [--known 100000] [--samples 30] [--only tileflow]
 *
 * Uses the project's services (scripts/services.sh start) and the built dist/ (npx tsc -b). Writes
 * bench/results/pipeline.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryTypes, type Sequelize } from 'sequelize';
import { readServicesConfig } from '@tileflow/shared';
import { createSequelize } from '../coordinator/src/db/connection.js';
import { migrateUp } from '../coordinator/src/db/migrate.js';
import { SyntheticAcquisition } from '../coordinator/src/tools/synth.js';
import { loadCliEnv } from '../coordinator/src/cli/env.js';
import { REPO, ensureBuilt, freePort, startProcess, stackEnv, waitHealthy, type Proc } from '../test/processes.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const TILES = opt('tiles', 10_000);
const KNOWN = opt('known', 100_000);
const SAMPLES = opt('samples', 30);
const STAGES = 3;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const RUNS = TILES * STAGES;

const sh = (cmd: string, argv: string[]) =>
  new Promise<void>((resolve, reject) => {
    const c = spawn(cmd, argv, { stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });

async function baselineXargs(script: string, dir: string): Promise<number> {
  const lines: string[] = [];
  for (let i = 0; i < RUNS; i++) lines.push(`${dir}/src ${dir}/dst z${i % 20}/y${i % 7}/x${i} tile-${i}`);
  const list = path.join(dir, 'xargs.txt');
  await fs.writeFile(list, lines.join('\n') + '\n');
  const t0 = performance.now();
  await sh('xargs', ['-a', list, '-P2', '-L1', script]);
  return (performance.now() - t0) / 1000;
}

async function baselineNodeLoop(script: string, dir: string): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < RUNS) {
      const i = next++;
      await sh(script, [`${dir}/src`, `${dir}/dst`, `z${i % 20}/y${i % 7}/x${i}`, `tile-${i}`]);
    }
  };
  await Promise.all([lane(), lane()]);
  return (performance.now() - t0) / 1000;
}

async function freshDatabase(name: string): Promise<Sequelize> {
  const db = readServicesConfig().db;
  const admin = createSequelize({ ...db, database: 'postgres' });
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const s = createSequelize({ ...db, database: name });
  await migrateUp(s);
  return s;
}

async function one<T extends object>(s: Sequelize, sql: string, bind: unknown[] = []): Promise<T> {
  const rows = await s.query<T>(sql, { bind, type: QueryTypes.SELECT });
  return rows[0];
}

async function startSystem(database: string, prefix: string): Promise<{ procs: Proc[]; env: Record<string, string> }> {
  const port = await freePort();
  const env = stackEnv(database, prefix, port);
  const coordinator = startProcess('coordinator', 'coordinator/dist/main.js', ['all'], env);
  try {
    await waitHealthy(env.TILEFLOW_URL, coordinator);
  } catch (err) {
    await coordinator.kill();
    throw err;
  }
  const worker = startProcess('worker', 'worker/dist/main.js', [], {
    ...env,
    TILEFLOW_WORKER_NAME: 'bench-1',
    TILEFLOW_WORKER_LOCAL_CAPACITY: '2',
  });
  return { procs: [coordinator, worker], env };
}

async function pipelineRun(script: string, dir: string): Promise<{ seconds: number; perTaskMs: number }> {
  const s = await freshDatabase('tileflow_bench');
  const root = path.join(dir, 'acq');
  const nx = 25;
  const ny = 20;
  const nz = Math.ceil(TILES / (nx * ny));
  const acq = new SyntheticAcquisition({ root, format: 'pipeline-json', x: nx, y: ny, z: nz, dataFiles: false });
  await acq.append(TILES);
  const project = await one<{ id: string }>(
    s,
    `INSERT INTO projects (name, root_path, log_root_path, input_kind, is_processing) VALUES ('bench', $1, $2, 'pipeline-json', false)
     RETURNING id`,
    [root, path.join(dir, 'logs')],
  );
  const def = await one<{ id: string }>(
    s,
    `INSERT INTO task_definitions (name, script) VALUES ('noop', $1) RETURNING id`,
    [script],
  );
  let parent: string | null = null;
  const stageIds: string[] = [];
  for (let i = 0; i < STAGES; i++) {
    const st: { id: string } = await one<{ id: string }>(
      s,
      `INSERT INTO stages (project_id, parent_id, name, task_definition_id, output_path, backfill_after)
       VALUES ($1, $2, $3, $4, $5, 0) RETURNING id`,
      [project.id, parent, `s${i}`, def.id, path.join(dir, 'out', `s${i}`)],
    );
    stageIds.push(st.id);
    parent = st.id;
  }
  const { procs } = await startSystem('tileflow_bench', `bench${Date.now()}`);
  try {
    // Discovery first, so the figure is the processing of known tiles.
    for (;;) {
      const n = await one<{ n: number }>(s, 'SELECT count(*)::int AS n FROM tiles WHERE project_id = $1', [project.id]);
      if (n.n >= TILES) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = performance.now();
    await s.query(`UPDATE projects SET is_processing = true WHERE id = $1`, { bind: [project.id] });
    await s.query(`SELECT pg_notify('tileflow_changes', $1)`, {
      bind: [JSON.stringify({ type: 'topology', projectId: project.id })],
    });
    let last = -1;
    for (;;) {
      const done = await one<{ n: number }>(
        s,
        `SELECT count(*)::int AS n FROM stage_tile_states WHERE stage_id = ANY($1::uuid[]) AND status = 'complete'`,
        [stageIds],
      );
      if (done.n !== last) {
        last = done.n;
        if (process.stderr.isTTY) process.stderr.write(`\r  ${done.n}/${RUNS} executions complete`);
      }
      if (done.n >= RUNS) break;
      if (procs.some((p) => p.child.exitCode !== null)) throw new Error(procs.map((p) => p.output()).join('\n'));
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stderr.write('\n');
    const seconds = (performance.now() - t0) / 1000;
    const dup = await one<{ n: number }>(
      s,
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM task_executions WHERE status = 'succeeded'
         GROUP BY stage_id, tile_id HAVING count(*) > 1) d`,
    );
    if (dup.n > 0) throw new Error(`${dup.n} tiles recorded complete more than once`);
    return { seconds, perTaskMs: (seconds * 1000) / RUNS };
  } finally {
    for (const p of [...procs].reverse()) await p.kill('SIGTERM');
    await s.close();
  }
}

async function latencyRun(
  script: string,
  dir: string,
): Promise<{ p50: number; p95: number; max: number; samples: number }> {
  const s = await freshDatabase('tileflow_bench_latency');
  const root = path.join(dir, 'acq-latency');
  const nx = 100;
  const ny = 100;
  const nz = Math.ceil(KNOWN / (nx * ny)) + 1;
  const acq = new SyntheticAcquisition({ root, format: 'pipeline-json', x: nx, y: ny, z: nz, dataFiles: false });
  await acq.append(KNOWN);
  const project = await one<{ id: string }>(
    s,
    `INSERT INTO projects (name, root_path, log_root_path, input_kind, is_processing) VALUES ('latency', $1, $2, 'pipeline-json', true)
     RETURNING id`,
    [root, path.join(dir, 'logs-latency')],
  );
  const def = await one<{ id: string }>(
    s,
    `INSERT INTO task_definitions (name, script) VALUES ('noop', $1) RETURNING id`,
    [script],
  );
  const { procs } = await startSystem('tileflow_bench_latency', `lat${Date.now()}`);
  try {
    for (;;) {
      const n = await one<{ n: number }>(s, 'SELECT count(*)::int AS n FROM tiles WHERE project_id = $1', [project.id]);
      if (n.n >= KNOWN) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The known tiles were processed long ago: the stage and its complete rows are written in one transaction,
    // before the scheduler sees the stage.
    await s.transaction(async (transaction) => {
      await s.query(`UPDATE tiles SET propagate = false WHERE project_id = $1`, { bind: [project.id], transaction });
      const [stage] = await s.query<{ id: string }>(
        `INSERT INTO stages (project_id, name, task_definition_id, output_path) VALUES ($1, 's0', $2, $3) RETURNING id`,
        { bind: [project.id, def.id, path.join(dir, 'out-latency')], type: QueryTypes.SELECT, transaction },
      );
      await s.query(
        `INSERT INTO stage_tile_states (stage_id, tile_id, project_id, x, y, z, status)
         SELECT $1, id, project_id, x, y, z, 'complete' FROM tiles WHERE project_id = $2`,
        { bind: [stage.id, project.id], transaction },
      );
    });
    await s.query(`SELECT pg_notify('tileflow_changes', $1)`, {
      bind: [JSON.stringify({ type: 'topology', projectId: project.id })],
    });
    await new Promise((r) => setTimeout(r, 2000));
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const written = Date.now();
      await acq.append(1);
      const rel = acq.relativePathOf(KNOWN + i);
      for (;;) {
        const e = await one<{ started: Date | null }>(
          s,
          `SELECT min(e.submitted_at) AS started FROM task_executions e JOIN tiles t ON t.id = e.tile_id
           WHERE t.project_id = $1 AND t.relative_path = $2`,
          [project.id, rel],
        );
        if (e?.started) {
          latencies.push(e.started.getTime() - written);
          break;
        }
        if (Date.now() - written > 30_000) throw new Error(`tile ${rel} never started`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { p50: q(0.5), p95: q(0.95), max: latencies[latencies.length - 1], samples: latencies.length };
  } finally {
    for (const p of [...procs].reverse()) await p.kill('SIGTERM');
    await s.close();
  }
}

async function main() {
  // The repository's .env (the Redis password, ports), as `npm run bench` would have it.
  Object.assign(process.env, loadCliEnv(process.env, REPO));
  ensureBuilt();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-bench-'));
  const script = path.join(dir, 'noop.sh');
  await fs.writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  console.log(
    `pipeline benchmark: ${TILES} tiles × ${STAGES} stages = ${RUNS} executions, capacity 2, on ${os.cpus().length} cores`,
  );
  if (ONLY === 'tileflow') {
    const tf = await pipelineRun(script, dir);
    console.log(`  tileflow:               ${tf.seconds.toFixed(1)} s (${tf.perTaskMs.toFixed(2)} ms/task)`);
    return;
  }
  const xargs = await baselineXargs(script, dir);
  console.log(`  (a) xargs -P2:          ${xargs.toFixed(1)} s (${((xargs * 1000) / RUNS).toFixed(2)} ms/task)`);
  const loop = await baselineNodeLoop(script, dir);
  console.log(`  (b) node spawn loop:    ${loop.toFixed(1)} s (${((loop * 1000) / RUNS).toFixed(2)} ms/task)`);
  const tf = await pipelineRun(script, dir);
  console.log(`  tileflow:               ${tf.seconds.toFixed(1)} s (${tf.perTaskMs.toFixed(2)} ms/task)`);
  console.log(
    `  ratio vs (b): ${(tf.seconds / loop).toFixed(2)}× (target ≤ 1.5×); vs (a): ${(tf.seconds / xargs).toFixed(2)}× (stretch ≤ 2×)`,
  );
  const lat = await latencyRun(script, dir);
  console.log(
    `  new tile → first start with ${KNOWN} known: p50 ${lat.p50} ms, p95 ${lat.p95} ms, max ${lat.max} ms (${lat.samples} samples; target p95 ≤ 1000 ms)`,
  );
  const result = {
    when: new Date().toISOString(),
    tiles: TILES,
    stages: STAGES,
    executions: RUNS,
    xargsSeconds: xargs,
    nodeLoopSeconds: loop,
    tileflowSeconds: tf.seconds,
    ratioVsNodeLoop: tf.seconds / loop,
    ratioVsXargs: tf.seconds / xargs,
    latency: { known: KNOWN, ...lat },
  };
  await fs.mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
  await fs.writeFile(path.join(import.meta.dirname, 'results', 'pipeline.json'), JSON.stringify(result, null, 2));
  await fs.rm(dir, { recursive: true, force: true });
}

await main();
