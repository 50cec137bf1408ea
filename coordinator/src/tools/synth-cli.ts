#!/usr/bin/env node
/**
 * Writes a synthetic acquisition (see synth.ts), all at once or tile by tile like a microscope still running.
 *
 *   node coordinator/dist/tools/synth-cli.js --root /tmp/acq --x 10 --y 10 --z 5 --format pipeline-json
 *   npx tsx coordinator/src/tools/synth-cli.ts --root /tmp/acq --x 20 --y 20 --z 10 --append-rate 50
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SYNTH_FORMATS, SyntheticAcquisition, type SynthFormat } from './synth.js';

const positiveInt = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
  return Number(v);
};
const wholeNumber = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`);
  return Number(v);
};
const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number > 0`);
  return n;
};
const intList = (v: string) => {
  const parts = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.some((s) => !/^-?\d+$/.test(s))) throw new InvalidArgumentError('--skip-z takes whole numbers, e.g. 3,7');
  return parts.map(Number);
};

const program = new Command('synth')
  .description('Write a synthetic acquisition: tile folders on an x/y/z lattice and their manifest.')
  .requiredOption('--root <dir>', 'acquisition folder (created if missing)')
  .addOption(
    new Option('--format <format>', 'what to write').choices(SYNTH_FORMATS as string[]).default('pipeline-json'),
  )
  .option('--x <n>', 'tiles along x', positiveInt('--x'), 4)
  .option('--y <n>', 'tiles along y', positiveInt('--y'), 4)
  .option('--z <n>', 'tiles along z', positiveInt('--z'), 2)
  .option('--bytes <n>', 'bytes per tile data file', wholeNumber('--bytes'), 16)
  .option('--no-data', 'write only the manifest, no per-tile data files (manifest formats)')
  .option('--skip-z <list>', 'planes listed in planeMarkers.z, comma-separated', intList)
  .option('--prefix <text>', 'prefix of tile folder names (may hold spaces, quotes, $())', '')
  .option('--marker <name>', 'marker file of each tile folder (glob-folders)', 'tile.done')
  .option('--manifest <name>', 'manifest file name (default by format)')
  .option('--incomplete-lag <n>', 'newest N tiles listed as not complete yet', wholeNumber('--incomplete-lag'), 0)
  .option('--initial <n>', 'tiles written at once (default: all, or 0 with --append-rate)', wholeNumber('--initial'))
  .option(
    '--append-rate <tilesPerSecond>',
    'keep appending tiles at this rate until the lattice is full',
    positiveNumber('--append-rate'),
  )
  .option('--torn-writes', 'rewrite the manifest in place, in two halves (readers see half-written files)')
  .option('--torn-pause-ms <ms>', 'pause between the halves of a torn write', wholeNumber('--torn-pause-ms'), 200)
  .option('--quiet', 'no progress lines');

interface CliOptions {
  root: string;
  format: SynthFormat;
  x: number;
  y: number;
  z: number;
  bytes: number;
  data: boolean;
  skipZ?: number[];
  prefix: string;
  marker: string;
  manifest?: string;
  incompleteLag: number;
  initial?: number;
  appendRate?: number;
  tornWrites?: boolean;
  tornPauseMs: number;
  quiet?: boolean;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<CliOptions>();
  const acq = new SyntheticAcquisition({
    root: o.root,
    format: o.format,
    x: o.x,
    y: o.y,
    z: o.z,
    bytes: o.bytes,
    dataFiles: o.data,
    skipZ: o.skipZ ?? [],
    prefix: o.prefix,
    marker: o.marker,
    manifest: o.manifest,
    incompleteLag: o.incompleteLag,
  });
  const write = { torn: o.tornWrites ?? false, tornPauseMs: o.tornPauseMs };
  const progress = () => {
    if (!o.quiet)
      process.stdout.write(
        `${JSON.stringify({ written: acq.written, planned: acq.planned, at: new Date().toISOString() })}\n`,
      );
  };
  const initial = o.initial ?? (o.appendRate ? 0 : acq.planned);
  await acq.append(initial, write);
  progress();
  if (!o.appendRate) return;

  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Appends what the rate allows since the start, at most every 1/rate s and at least every 250 ms of wall time.
  const tickMs = Math.max(250, 1000 / o.appendRate);
  const started = Date.now();
  const base = acq.written;
  while (!stopping && acq.written < acq.planned) {
    await new Promise((r) => setTimeout(r, tickMs));
    const due = base + Math.floor(((Date.now() - started) / 1000) * o.appendRate);
    if (due > acq.written) {
      await acq.append(due - acq.written, write);
      progress();
    }
  }
  // The acquisition is over: the newest tiles are complete too.
  if (!stopping && o.incompleteLag > 0) {
    await acq.finish(write);
    progress();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`synth: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
