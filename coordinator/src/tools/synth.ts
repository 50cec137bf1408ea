import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A synthetic acquisition: what a microscope (or a camera rig) leaves in its acquisition folder, for tests, demos
 * and benchmarks of the input sources.
 *
 * Tiles sit on an x × y × z lattice and are acquired plane by plane (z, then y, then x), tile `i` being
 * `z = i / (X·Y)`, `y = (i / X) mod Y`, `x = i mod X`. Each tile is a folder `z0003/y0001/<prefix>x0002` holding a
 * small data file `<prefix>x0002-ngc.0.tif` (MouseLight names its tiles' files `<tile>-ngc.<channel>.tif`), except
 * in the `glob-files` format where each item is one file `z0003/y0001/<prefix>x0002.mp4`. The prefix lets tests
 * make names with spaces, quotes and `$()`.
 *
 * Formats (the input kinds of tileflow):
 * - `pipeline-json`: MouseLight's pipeline-input.json (`pipelineFormat`, `extents`, `projectInfo.customParameters`,
 *   `planeMarkers.z`, `tiles[{id, relativePath, isComplete, position, step}]`);
 * - `dashboard-json`: MouseLight's dashboard.json (`monitor.extents`, `planeMarkers`, `tileMap{z: [{id,
 *   relativePath, isComplete, contents{latticePosition, latticeStep}}]}`);
 * - `csv`: manifest.csv with `path,x,y,z,complete,note`;
 * - `glob-folders`: tile folders, each with a marker file written after its data (no manifest);
 * - `glob-files`: one file per item (no manifest).
 * Extents in the manifests cover the full planned lattice. Manifests are rewritten atomically (temp file + rename)
 * unless `torn` writing is asked for, which rewrites the file in place in two halves, to show readers a half-written
 * file.
 */
export type SynthFormat = 'pipeline-json' | 'dashboard-json' | 'csv' | 'glob-folders' | 'glob-files';
export const SYNTH_FORMATS: readonly SynthFormat[] = [
  'pipeline-json',
  'dashboard-json',
  'csv',
  'glob-folders',
  'glob-files',
];

export interface SynthOptions {
  /** The acquisition folder; created if missing. */
  root: string;
  format: SynthFormat;
  /** Lattice size (tiles along each axis), each ≥ 1. */
  x: number;
  y: number;
  z: number;
  /** Bytes of each tile's data file. Default 16; 0 makes empty files. */
  bytes?: number;
  /** Write the per-tile data files (manifest formats only may skip them). Default true. */
  dataFiles?: boolean;
  /** Planes listed in `planeMarkers.z`. */
  skipZ?: number[];
  /** Prefix of each tile's folder (or file) name. Default empty. */
  prefix?: string;
  /** The newest this many tiles are listed as not complete yet (being acquired). Default 0. */
  incompleteLag?: number;
  /** Marker file written into each tile folder after its data (glob-folders). Default `tile.done`. */
  marker?: string;
  /** Manifest file name. Defaults: pipeline-input.json, dashboard.json, manifest.csv. */
  manifest?: string;
  /** `projectInfo.customParameters` of pipeline-input.json. */
  customParameters?: Record<string, string>;
  /** Data files written at once. Default 32. */
  concurrency?: number;
}

export interface WriteManifestOptions {
  /** Rewrite in place instead of temp file + rename. */
  torn?: boolean;
  /** Torn writes: pause between the two halves, ms. Default 200. */
  tornPauseMs?: number;
  /** Torn writes: stop after this many bytes and leave the file half-written (tests). */
  stopAfterBytes?: number;
}

const pad = (n: number) => String(n).padStart(4, '0');

/** RFC 4180 quoting for one CSV field. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export class SyntheticAcquisition {
  readonly planned: number;
  readonly manifestName: string | null;
  private count = 0;
  private readonly o: Required<Omit<SynthOptions, 'manifest' | 'customParameters'>> &
    Pick<SynthOptions, 'customParameters'>;

  constructor(options: SynthOptions) {
    for (const axis of ['x', 'y', 'z'] as const) {
      if (!Number.isInteger(options[axis]) || options[axis] < 1) throw new Error(`${axis} must be a whole number ≥ 1`);
    }
    if (options.prefix?.includes('/')) throw new Error('prefix must not contain "/"');
    this.o = {
      bytes: 16,
      dataFiles: true,
      skipZ: [],
      prefix: '',
      incompleteLag: 0,
      marker: 'tile.done',
      concurrency: 32,
      ...options,
    };
    this.planned = options.x * options.y * options.z;
    const defaults: Record<SynthFormat, string | null> = {
      'pipeline-json': 'pipeline-input.json',
      'dashboard-json': 'dashboard.json',
      csv: 'manifest.csv',
      'glob-folders': null,
      'glob-files': null,
    };
    this.manifestName = defaults[options.format] === null ? null : (options.manifest ?? defaults[options.format]);
  }

  /** Tiles written so far. */
  get written(): number {
    return this.count;
  }

  /** Path of the manifest, or null for the glob formats. */
  get manifestPath(): string | null {
    return this.manifestName === null ? null : path.join(this.o.root, this.manifestName);
  }

  positionOf(i: number): { x: number; y: number; z: number } {
    const { x: X, y: Y } = this.o;
    return { x: i % X, y: Math.floor(i / X) % Y, z: Math.floor(i / (X * Y)) };
  }

  /** Relative path of tile `i` (its folder; its file for glob-files). */
  relativePathOf(i: number): string {
    const p = this.positionOf(i);
    const name = `${this.o.prefix}x${pad(p.x)}`;
    return `z${pad(p.z)}/y${pad(p.y)}/${this.o.format === 'glob-files' ? `${name}.mp4` : name}`;
  }

  /** Data file of tile `i`, relative to the root. */
  dataFileOf(i: number): string {
    if (this.o.format === 'glob-files') return this.relativePathOf(i);
    const p = this.positionOf(i);
    return `${this.relativePathOf(i)}/${this.o.prefix}x${pad(p.x)}-ngc.0.tif`;
  }

  /** Is tile `i` listed as complete, given what was written so far. */
  isComplete(i: number): boolean {
    return i < this.count - this.o.incompleteLag;
  }

  private async writeTileFiles(from: number, to: number): Promise<void> {
    const { root, bytes, format, marker, concurrency } = this.o;
    if (!this.o.dataFiles && format !== 'glob-folders' && format !== 'glob-files') return;
    const data = Buffer.alloc(bytes, 0x2a);
    let next = from;
    const made = new Set<string>();
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const file = path.join(root, this.dataFileOf(i));
        const dir = path.dirname(file);
        if (!made.has(dir)) {
          await fs.mkdir(dir, { recursive: true });
          made.add(dir);
        }
        await fs.writeFile(file, data);
        if (format === 'glob-folders') await fs.writeFile(path.join(root, this.relativePathOf(i), marker), '');
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, to - from)) }, worker));
  }

  /**
   * Acquires the next `n` tiles (fewer when the lattice is full): writes their files, then rewrites the manifest.
   * Returns how many were added.
   */
  async append(n: number, manifest: WriteManifestOptions = {}): Promise<number> {
    await fs.mkdir(this.o.root, { recursive: true });
    const from = this.count;
    const to = Math.min(this.planned, from + Math.max(0, n));
    await this.writeTileFiles(from, to);
    this.count = to;
    if (this.manifestName !== null) await this.writeManifest(manifest);
    return to - from;
  }

  /** The acquisition is over: every written tile is listed complete (the manifest is rewritten). */
  async finish(manifest: WriteManifestOptions = {}): Promise<void> {
    this.o.incompleteLag = 0;
    if (this.manifestName !== null) await this.writeManifest(manifest);
  }

  /** Acquires every remaining tile. */
  async writeAll(manifest: WriteManifestOptions = {}): Promise<number> {
    return this.append(this.planned - this.count, manifest);
  }

  private extentsJson(): string {
    const { x, y, z } = this.o;
    return JSON.stringify({ minimumX: 0, maximumX: x - 1, minimumY: 0, maximumY: y - 1, minimumZ: 0, maximumZ: z - 1 });
  }

  /** The manifest's text, in chunks of about 1 MB. */
  *manifestChunks(): Generator<string> {
    const format = this.o.format;
    let buf = '';
    const CHUNK = 1 << 20;
    const markers = JSON.stringify({ z: this.o.skipZ });
    if (format === 'pipeline-json') {
      const info = JSON.stringify({ customParameters: this.o.customParameters ?? {} });
      buf += `{"pipelineFormat":"1","projectInfo":${info},"extents":${this.extentsJson()},"planeMarkers":${markers},"tiles":[`;
      for (let i = 0; i < this.count; i++) {
        const p = this.positionOf(i);
        buf +=
          `${i ? ',' : ''}\n{"id":${i},"relativePath":${JSON.stringify(this.relativePathOf(i))},` +
          `"isComplete":${this.isComplete(i)},"position":{"x":${p.x},"y":${p.y},"z":${p.z}},"step":{"x":1,"y":1,"z":1}}`;
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
      buf += '\n]}\n';
    } else if (format === 'dashboard-json') {
      buf += `{"monitor":{"extents":${this.extentsJson()}},"planeMarkers":${markers},"tileMap":{`;
      let plane = -1;
      for (let i = 0; i < this.count; i++) {
        const p = this.positionOf(i);
        if (p.z !== plane) {
          buf += `${plane >= 0 ? '],' : ''}\n"${p.z}":[`;
          plane = p.z;
        } else {
          buf += ',';
        }
        buf +=
          `\n{"id":${i},"relativePath":${JSON.stringify(this.relativePathOf(i))},"isComplete":${this.isComplete(i)},` +
          `"contents":{"latticePosition":{"x":${p.x},"y":${p.y},"z":${p.z}},"latticeStep":{"x":1,"y":1,"z":1}}}`;
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
      buf += `${plane >= 0 ? ']' : ''}\n}}\n`;
    } else if (format === 'csv') {
      buf += 'path,x,y,z,complete,note\n';
      for (let i = 0; i < this.count; i++) {
        const p = this.positionOf(i);
        buf += `${csvField(this.relativePathOf(i))},${p.x},${p.y},${p.z},${this.isComplete(i)},${csvField(`tile ${i}, "synthetic"`)}\n`;
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
    }
    if (buf) yield buf;
  }

  /** Rewrites the manifest with every tile written so far. */
  async writeManifest(options: WriteManifestOptions = {}): Promise<void> {
    const target = this.manifestPath;
    if (target === null) return;
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (!options.torn) {
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
      const fh = await fs.open(tmp, 'w');
      try {
        for (const chunk of this.manifestChunks()) await fh.write(chunk);
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, target);
      return;
    }
    // In place: truncate, write the first half, pause (readers see a half-written file), write the rest.
    const text = Buffer.from([...this.manifestChunks()].join(''));
    const half = options.stopAfterBytes ?? Math.floor(text.length / 2);
    const fh = await fs.open(target, 'w');
    try {
      await fh.write(text, 0, Math.min(half, text.length));
      if (options.stopAfterBytes !== undefined) return;
      await new Promise((r) => setTimeout(r, options.tornPauseMs ?? 200));
      await fh.write(text, half, text.length - half);
    } finally {
      await fh.close();
    }
  }
}
