/**
 * Discovery benchmark: the input watcher on a synthetic MouseLight pipeline-input.json of N tiles, against the
 * project's PostgreSQL (TILEFLOW_DB_* settings; a scratch database is created and dropped).
 *
 *   npx tsx bench/discovery.ts [--sizes 100000,1000000] [--data-files-max 200000] [--keep]
 *
 * For each size: the first cycle (everything recorded), unchanged cycles (file not re-read), a cycle after 1,000
 * new tiles, a cycle of a restarted watcher (index rebuilt from the table, whole file compared, nothing written), and
 * the process RSS after recording. Per-tile data files (0 bytes) are written up to --data-files-max tiles; above
 * that only the JSON is written (the watcher never opens tile files for this input kind). Prints a table and writes
 * bench/results/discovery.json.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryTypes } from 'sequelize';
import { EnvReader, readServicesConfig } from '@tileflow/shared';
import { createSequelize } from '../coordinator/src/db/connection.js';
import { migrateUp } from '../coordinator/src/db/migrate.js';
import { createInputWatcher, type InputWatcher } from '../coordinator/src/input-sources/watcher.js';
import { createLogger } from '../coordinator/src/logger.js';
import { SyntheticAcquisition } from '../coordinator/src/tools/synth.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sizes = (arg('--sizes') ?? '100000,1000000').split(',').map((s) => {
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1000) throw new Error(`--sizes: ${s} is not a whole number ≥ 1000`);
  return n;
});
const dataFilesMax = Number(arg('--data-files-max') ?? 200_000);
const keep = process.argv.includes('--keep');
const UNCHANGED_RUNS = 5;
const APPENDED = 1000;

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const ms = (t: number) => Math.round(t * 10) / 10;

function roundTimings(t: Record<string, number> | undefined) {
  return t && Object.fromEntries(Object.entries(t).map(([k, v]) => [k, ms(v)]));
}

interface SizeResult {
  tiles: number;
  dataFiles: boolean;
  manifestMB: number;
  generateSeconds: number;
  firstCycleMs: number;
  firstCycleWritten: number;
  firstCycleTimings: unknown;
  appendedCycleTimings: unknown;
  restartCycleTimings: unknown;
  unchangedCycleMs: number[];
  unchangedCycleMedianMs: number;
  appendedCycleMs: number;
  appendedCycleWritten: number;
  restartCycleMs: number;
  restartCycleWritten: number;
  rssAfterRecordingMB: number;
  heapUsedAfterRecordingMB: number;
  peakRssMB: number;
  tilesInTable: number;
}

async function runSize(n: number): Promise<SizeResult> {
  const logger = createLogger('bench', 'warn');
  const base = readServicesConfig(new EnvReader()).db;
  const dbName = `tileflow_bench_discovery_${process.pid}_${n}`;
  const admin = createSequelize(base);
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const sequelize = createSequelize({ ...base, database: dbName });
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `tileflow-bench-discovery-${n}-`));
  try {
    await migrateUp(sequelize);
    const perPlane = 100 * 100;
    const dataFiles = n + APPENDED <= dataFilesMax;
    const acq = new SyntheticAcquisition({
      root,
      format: 'pipeline-json',
      x: 100,
      y: 100,
      z: Math.ceil((n + APPENDED) / perPlane),
      bytes: 0,
      dataFiles,
      skipZ: [3],
    });
    process.stderr.write(`${n}: generating (${dataFiles ? 'JSON and 0-byte tile files' : 'JSON only'})…\n`);
    const g0 = performance.now();
    await acq.append(n);
    const generateSeconds = (performance.now() - g0) / 1000;
    const manifestMB = mb((await fs.stat(acq.manifestPath!)).size);

    const [{ id }] = await sequelize.query<{ id: string }>(
      `INSERT INTO projects (name, root_path, input_kind) VALUES ($1, $2, 'pipeline-json') RETURNING id`,
      { bind: [`bench-${n}`, root], type: QueryTypes.SELECT },
    );
    let watcher: InputWatcher | null = createInputWatcher({ sequelize, logger, fsWatch: false });

    process.stderr.write(`${n}: first cycle…\n`);
    let t = performance.now();
    const first = await watcher.pollProject(id);
    const firstCycleMs = performance.now() - t;
    global.gc?.();
    const mem = process.memoryUsage();

    const unchangedCycleMs: number[] = [];
    for (let i = 0; i < UNCHANGED_RUNS; i++) {
      t = performance.now();
      const r = await watcher.pollProject(id);
      unchangedCycleMs.push(performance.now() - t);
      if (r?.outcome !== 'unchanged' || r.written !== 0) throw new Error(`unchanged cycle did ${JSON.stringify(r)}`);
    }

    await acq.append(APPENDED);
    process.stderr.write(`${n}: cycle with ${APPENDED} new tiles…\n`);
    t = performance.now();
    const appended = await watcher.pollProject(id);
    const appendedCycleMs = performance.now() - t;

    // A restarted coordinator: the first watcher goes away (its index with it), a new one starts from the table.
    await watcher.stop();
    watcher = null;
    global.gc?.();
    process.stderr.write(`${n}: restarted watcher…\n`);
    const restarted = createInputWatcher({ sequelize, logger, fsWatch: false });
    t = performance.now();
    const restart = await restarted.pollProject(id);
    const restartCycleMs = performance.now() - t;
    await restarted.stop();

    const [{ count }] = await sequelize.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM tiles WHERE project_id = $1`,
      { bind: [id], type: QueryTypes.SELECT },
    );
    const sorted = [...unchangedCycleMs].sort((a, b) => a - b);
    return {
      tiles: n,
      dataFiles,
      manifestMB,
      generateSeconds: Math.round(generateSeconds * 10) / 10,
      firstCycleMs: ms(firstCycleMs),
      firstCycleWritten: first?.written ?? 0,
      firstCycleTimings: roundTimings(first?.timings),
      appendedCycleTimings: roundTimings(appended?.timings),
      restartCycleTimings: roundTimings(restart?.timings),
      unchangedCycleMs: unchangedCycleMs.map(ms),
      unchangedCycleMedianMs: ms(sorted[Math.floor(sorted.length / 2)]),
      appendedCycleMs: ms(appendedCycleMs),
      appendedCycleWritten: appended?.written ?? 0,
      restartCycleMs: ms(restartCycleMs),
      restartCycleWritten: restart?.written ?? 0,
      rssAfterRecordingMB: mb(mem.rss),
      heapUsedAfterRecordingMB: mb(mem.heapUsed),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      tilesInTable: count,
    };
  } finally {
    await sequelize.close();
    if (!keep) {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await fs.rm(root, { recursive: true, force: true });
    } else {
      process.stderr.write(`kept database ${dbName} and folder ${root}\n`);
    }
    await admin.close();
  }
}

const loadAtStart = os.loadavg();
const results: SizeResult[] = [];
for (const n of sizes) results.push(await runSize(n));

const rows: Array<[string, ...string[]]> = [
  ['tiles', ...results.map((r) => r.tiles.toLocaleString('en'))],
  ['tile data files', ...results.map((r) => (r.dataFiles ? '0-byte files' : 'JSON only'))],
  ['pipeline-input.json (MB)', ...results.map((r) => `${r.manifestMB}`)],
  ['first cycle (ms)', ...results.map((r) => `${r.firstCycleMs} (${r.firstCycleWritten} written)`)],
  ['  read / compare / write (ms)', ...results.map((r) => Object.values(r.firstCycleTimings as object).join(' / '))],
  ['unchanged cycle, median (ms)', ...results.map((r) => `${r.unchangedCycleMedianMs}`)],
  [
    `cycle with ${APPENDED} new tiles (ms)`,
    ...results.map((r) => `${r.appendedCycleMs} (${r.appendedCycleWritten} written)`),
  ],
  ['  read / compare / write (ms)', ...results.map((r) => Object.values(r.appendedCycleTimings as object).join(' / '))],
  ['restarted watcher cycle (ms)', ...results.map((r) => `${r.restartCycleMs} (${r.restartCycleWritten} written)`)],
  ['  read / compare / write (ms)', ...results.map((r) => Object.values(r.restartCycleTimings as object).join(' / '))],
  ['RSS after first cycle (MB)', ...results.map((r) => `${r.rssAfterRecordingMB}`)],
  ['peak RSS so far (MB)', ...results.map((r) => `${r.peakRssMB}`)],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) process.stdout.write(r.map((cell, c) => cell.padEnd(widths[c])).join('  ') + '\n');

const out = path.join(import.meta.dirname, 'results', 'discovery.json');
await fs.mkdir(path.dirname(out), { recursive: true });
await fs.writeFile(
  out,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      targets: { unchangedCycleMsAt100k: 200, rssMBAt1M: 1024 },
      loadAverage: { start: loadAtStart, end: os.loadavg() },
      note:
        'RSS is the whole benchmark process (watcher, generator, tsx); peak RSS is cumulative across sizes. ' +
        'Run with `node --expose-gc --import tsx bench/discovery.ts` to collect garbage before RSS is read.',
      results,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`written ${path.relative(process.cwd(), out)}\n`);
