/**
 * SLURM executor benchmark, against the project's single-node SLURM (scripts/services.sh start slurm).
 *
 *   npx tsx bench/slurm.ts [--tiles 1000] [--poll-seconds 2] [--modes baseline,single,array] [--array-limit N]
 *                          [--submit-concurrency N]
 *
 * For each mode, N no-op runs (/bin/true) from submission until every one is over:
 * - baseline: `sbatch --wrap=true` N times in a bash loop, then squeue every 0.2 s until none of them is pending or
 *   running (what a lab's shell loop does; PLATFORM.md measured ~16 jobs/s with the scheduler tuning);
 * - single: N × executor.start() (one sbatch each), finished events counted;
 * - array: executor.startMany() (one sbatch --array for the burst).
 * Reports runs/s, wall time, sbatch calls, and the SLURM status commands issued against the poll intervals that
 * elapsed (one squeue per interval, whatever the number of jobs). Writes bench/results/slurm.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { PreparedRun, RunOutcome } from '../worker/src/executors/types.js';
import { createSlurmExecutor, type SlurmExecutorStats } from '../worker/src/executors/slurm/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const tiles = Number(arg('--tiles') ?? 1000);
if (!Number.isInteger(tiles) || tiles < 1) throw new Error(`--tiles: ${arg('--tiles')} is not a whole number ≥ 1`);
const pollSeconds = Number(arg('--poll-seconds') ?? process.env.TILEFLOW_SLURM_POLL_SECONDS ?? 2);
const modes = (arg('--modes') ?? 'baseline,single,array').split(',');
const arrayLimit = arg('--array-limit') ? Number(arg('--array-limit')) : undefined;
const submitConcurrency = arg('--submit-concurrency') ? Number(arg('--submit-concurrency')) : undefined;
const root = fileURLToPath(new URL('..', import.meta.url));

/** SLURM_CONF: the project's, from `scripts/services.sh env`, unless the environment names one. */
function slurmConf(): string {
  if (process.env.SLURM_CONF) return process.env.SLURM_CONF;
  const out = execFileSync('bash', [path.join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('export SLURM_CONF='));
  if (!line)
    throw new Error('scripts/services.sh env printed no SLURM_CONF: start SLURM with scripts/services.sh start slurm');
  return line.slice('export SLURM_CONF='.length).replace(/\\(.)/g, '$1');
}

const env = { ...process.env, SLURM_CONF: slurmConf() };
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Jobs of anyone still pending or running (the cluster is shared with whatever else runs). */
function activeJobs(ids?: string[]): number {
  const args = ['--noheader', '--array', '--states=PENDING,RUNNING,CONFIGURING,COMPLETING', '--Format=JobID:|'];
  if (ids) args.push(`--jobs=${ids.join(',')}`);
  const res = spawnSync('squeue', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`squeue failed: ${res.stderr}`);
  return res.stdout.split('\n').filter(Boolean).length;
}

async function waitForIdleCluster(): Promise<number> {
  const before = activeJobs();
  while (activeJobs() > 0) await sleep(500);
  return before;
}

interface ModeResult {
  mode: string;
  runs: number;
  wallSeconds: number;
  runsPerSecond: number;
  submitSeconds: number;
  sbatchCalls: number;
  statusQueries: number;
  pollIntervalsElapsed: number | null;
  polls: number | null;
  statusQueriesPerInterval: number | null;
  jobcompReads: number | null;
  endings: Record<string, number>;
  /** Runs reported finished more than once (must be 0). */
  duplicateFinishes: number | null;
}

async function baseline(dir: string): Promise<ModeResult> {
  const t0 = performance.now();
  // The loop a lab would write; job ids collected to know when they are all over.
  const out = execFileSync(
    'bash',
    [
      '-c',
      `cd "$1" && for ((i = 0; i < $2; i++)); do sbatch --parsable --output=/dev/null --wrap=true || exit 1; done`,
      'loop',
      dir,
      String(tiles),
    ],
    { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const submitSeconds = (performance.now() - t0) / 1000;
  const ids = out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(';')[0]);
  let statusQueries = 0;
  for (;;) {
    statusQueries++;
    if (activeJobs(ids) === 0) break;
    await sleep(200);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  return {
    mode: 'baseline: sbatch --wrap=true loop + squeue every 0.2 s',
    runs: ids.length,
    wallSeconds: round(wallSeconds),
    runsPerSecond: round(ids.length / wallSeconds),
    submitSeconds: round(submitSeconds),
    sbatchCalls: ids.length,
    statusQueries,
    pollIntervalsElapsed: null,
    polls: null,
    statusQueriesPerInterval: null,
    jobcompReads: null,
    endings: {},
    duplicateFinishes: null,
  };
}

async function viaExecutor(dir: string, array: boolean): Promise<ModeResult> {
  const outcomes = new Map<string, RunOutcome>();
  let duplicates = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const executor = createSlurmExecutor(
    {
      started() {},
      finished(o) {
        if (outcomes.has(o.executionId)) duplicates++;
        outcomes.set(o.executionId, o);
        if (outcomes.size === tiles) resolveAll();
      },
    },
    {
      pollSeconds,
      env,
      arrayTaskLimit: arrayLimit,
      maxArraySize: Math.max(tiles, 1),
      maxConcurrentSubmissions: submitConcurrency,
    },
  );
  const tag = `${array ? 'a' : 's'}${process.pid}`;
  const runs: PreparedRun[] = Array.from({ length: tiles }, (_, i) => ({
    executionId: `bench-${tag}-${i}`,
    argv: ['/bin/true'],
    env: { TILE: String(i) },
    cwd: dir,
    stdoutPath: path.join(dir, 'logs', `bench-${tag}-${i}.out`),
    stderrPath: path.join(dir, 'logs', `bench-${tag}-${i}.err`),
    timeoutSeconds: null,
    clusterOptions: {},
    workUnits: 1,
  }));
  const t0 = performance.now();
  if (array) await executor.startMany(runs);
  else await Promise.all(runs.map((r) => executor.start(r)));
  const submitSeconds = (performance.now() - t0) / 1000;
  await all;
  const wallSeconds = (performance.now() - t0) / 1000;
  const stats: SlurmExecutorStats = executor.stats();
  await executor.close();
  const endings: Record<string, number> = {};
  for (const o of outcomes.values()) {
    const k = o.ending === 'exited' ? `exited ${o.exitCode}` : o.ending;
    endings[k] = (endings[k] ?? 0) + 1;
  }
  const intervals = wallSeconds / pollSeconds;
  return {
    mode: array ? 'executor: startMany (job arrays)' : 'executor: start per run (one sbatch each)',
    runs: tiles,
    wallSeconds: round(wallSeconds),
    runsPerSecond: round(tiles / wallSeconds),
    submitSeconds: round(submitSeconds),
    sbatchCalls: stats.submissions,
    statusQueries: stats.statusQueries,
    pollIntervalsElapsed: round(intervals, 1),
    polls: stats.polls,
    statusQueriesPerInterval: round(stats.statusQueries / intervals),
    jobcompReads: stats.jobcompReads,
    endings,
    duplicateFinishes: duplicates,
  };
}

async function main() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-bench-slurm-'));
  const results: ModeResult[] = [];
  const othersAtStart = activeJobs();
  try {
    for (const mode of modes) {
      await waitForIdleCluster();
      process.stderr.write(`${mode}: ${tiles} runs…\n`);
      if (mode === 'baseline') results.push(await baseline(dir));
      else if (mode === 'single') results.push(await viaExecutor(dir, false));
      else if (mode === 'array') results.push(await viaExecutor(dir, true));
      else throw new Error(`--modes: unknown mode ${mode} (baseline, single, array)`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  const report = {
    when: new Date().toISOString(),
    host: { cpus: os.cpus().length, node: process.version },
    slurm: execFileSync('sbatch', ['--version'], { env, encoding: 'utf8' }).trim(),
    tiles,
    pollSeconds,
    arrayTaskLimit: arrayLimit ?? null,
    submitConcurrency: submitConcurrency ?? 'default (8)',
    otherJobsActiveAtStart: othersAtStart,
    results,
  };
  console.table(
    results.map((r) => ({
      mode: r.mode,
      'runs/s': r.runsPerSecond,
      'wall s': r.wallSeconds,
      'submit s': r.submitSeconds,
      sbatch: r.sbatchCalls,
      'status queries': r.statusQueries,
      'poll intervals': r.pollIntervalsElapsed ?? '-',
      'queries/interval': r.statusQueriesPerInterval ?? '-',
    })),
  );
  for (const r of results) if (Object.keys(r.endings).length) console.log(`${r.mode}: ${JSON.stringify(r.endings)}`);
  await fs.mkdir(path.join(root, 'bench/results'), { recursive: true });
  await fs.writeFile(path.join(root, 'bench/results/slurm.json'), JSON.stringify(report, null, 2) + '\n');
  console.log('written bench/results/slurm.json');
}

await main();
