import type { InputKind } from '@tileflow/shared';
import { baseName, checkRelativePath } from './item.js';
import { WatchedFile, type FileContent } from './input-file.js';
import { hashBytes, JsonCursor, malformedAt, parseElement, type JsonScanSpec } from './json-scan.js';
import {
  InputMalformedError,
  type InputExtents,
  type InputHeader,
  type InputItem,
  type InputReadResult,
  type InputReading,
  type InputSource,
  type RejectedItem,
  type UnchangedItem,
} from './types.js';

/**
 * MouseLight's two JSON inputs, read as its scheduler read them (pipeline-scheduler `projectPipelineScheduler.ts`):
 *
 * - pipeline-input.json: `{ pipelineFormat, extents: {minimumX, maximumX, …Z}, projectInfo: {customParameters},
 *   planeMarkers: {z: [..]}, tiles: [{ id, relativePath, isComplete, position: {x,y,z}, step: {x,y,z} }] }`
 * - dashboard.json: `{ monitor: {extents: {…}}, planeMarkers, tileMap: { "<key>": [{ id, relativePath, isComplete,
 *   contents: { latticePosition: {x,y,z}, latticeStep: {x,y,z} } }] } }`
 *
 * As in the original, the layout is recognised by content (a `tiles` array or a `tileMap` object), whatever the
 * file is called; the two kinds differ by their default file name. Paths have `\` turned into `/`; the tile name is
 * the last path segment; `id` is kept in `user_data`.
 */
const SPEC: JsonScanSpec = {
  arrays: new Set(['tiles']),
  arrayMaps: new Set(['tileMap']),
  headers: new Set(['extents', 'monitor', 'projectInfo', 'planeMarkers']),
};

const PIPELINE_TILE = 0;
const DASHBOARD_TILE = 1;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An integer or null; anything else is malformed. */
function intOrNull(v: unknown, what: string, fail: (message: string) => never): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2147483647) return v;
  return fail(`${what} must be an integer, got ${JSON.stringify(v)}`);
}

function numberOrNull(v: unknown, what: string, fail: (message: string) => never): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  return fail(`${what} must be a number, got ${JSON.stringify(v)}`);
}

function readExtents(v: unknown, where: string, fail: (message: string) => never): InputExtents | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(`"${where}" must be an object`);
  return {
    minX: intOrNull(v.minimumX, `${where}.minimumX`, fail),
    maxX: intOrNull(v.maximumX, `${where}.maximumX`, fail),
    minY: intOrNull(v.minimumY, `${where}.minimumY`, fail),
    maxY: intOrNull(v.maximumY, `${where}.maximumY`, fail),
    minZ: intOrNull(v.minimumZ, `${where}.minimumZ`, fail),
    maxZ: intOrNull(v.maximumZ, `${where}.maximumZ`, fail),
  };
}

function readHeader(headers: Map<string, unknown>, fail: (message: string) => never): InputHeader {
  const header: InputHeader = {};
  const extents = headers.get('extents');
  const monitor = headers.get('monitor');
  if (extents !== undefined && extents !== null) header.extents = readExtents(extents, 'extents', fail);
  else if (isObject(monitor)) header.extents = readExtents(monitor.extents, 'monitor.extents', fail);

  const markers = headers.get('planeMarkers');
  if (markers !== undefined && markers !== null) {
    if (!isObject(markers)) fail('"planeMarkers" must be an object');
    const z = (markers as Json).z;
    if (z !== undefined && z !== null) {
      if (!Array.isArray(z)) fail('"planeMarkers.z" must be an array of integers');
      header.skipZ = [...new Set((z as unknown[]).map((v, i) => intOrNull(v, `planeMarkers.z[${i}]`, fail) as number))]
        .filter((v) => v !== null)
        .sort((a, b) => a - b);
    }
  }

  const info = headers.get('projectInfo');
  if (isObject(info) && info.customParameters !== undefined && info.customParameters !== null) {
    const custom = info.customParameters;
    if (!isObject(custom)) fail('"projectInfo.customParameters" must be an object');
    header.parameters = {};
    for (const [k, v] of Object.entries(custom as Json)) {
      header.parameters[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  return header;
}

/** Turns one tile element into an item, or a rejection when its path leaves the root. */
function toItem(root: string, raw: unknown, shape: number, fail: (message: string) => never): InputItem | RejectedItem {
  if (!isObject(raw)) return fail('tile must be an object');
  const rp = raw.relativePath;
  if (typeof rp !== 'string') return fail('tile has no "relativePath" string');
  const checked = checkRelativePath(root, rp);
  if ('reason' in checked) return { relativePath: rp, reason: checked.reason };
  let pos: unknown;
  let step: unknown;
  let where: string;
  if (shape === PIPELINE_TILE) {
    pos = raw.position;
    step = raw.step;
    where = '';
  } else {
    const contents = raw.contents;
    if (contents !== undefined && contents !== null && !isObject(contents)) return fail('"contents" must be an object');
    pos = contents?.latticePosition;
    step = contents?.latticeStep;
    where = 'contents.';
  }
  const posName = shape === PIPELINE_TILE ? 'position' : 'latticePosition';
  const stepName = shape === PIPELINE_TILE ? 'step' : 'latticeStep';
  if (pos !== undefined && pos !== null && !isObject(pos)) return fail(`"${where}${posName}" must be an object`);
  if (step !== undefined && step !== null && !isObject(step)) return fail(`"${where}${stepName}" must be an object`);
  const p = (pos ?? {}) as Json;
  const s = (step ?? {}) as Json;
  const userData: Record<string, unknown> = {};
  if (raw.id !== undefined && raw.id !== null) userData.id = raw.id;
  return {
    relativePath: checked.path,
    tileName: baseName(checked.path),
    x: intOrNull(p.x, `${posName}.x`, fail),
    y: intOrNull(p.y, `${posName}.y`, fail),
    z: intOrNull(p.z, `${posName}.z`, fail),
    stepX: numberOrNull(s.x, `${stepName}.x`, fail),
    stepY: numberOrNull(s.y, `${stepName}.y`, fail),
    stepZ: numberOrNull(s.z, `${stepName}.z`, fail),
    isComplete: Boolean(raw.isComplete),
    userData,
  };
}

/** Elements parsed per JSON.parse call: one call per element costs more than the parsing itself. */
const PARSE_BATCH = 512;

/** Stands for a null position in the typed arrays (positions are checked to fit in an int32 above it). */
const NO_POSITION = -2147483648;

function grow<T extends Float64Array | Uint32Array | Int32Array>(a: T, min = 0): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(a.length * 2, min, 1024));
  b.set(a);
  return b;
}

/**
 * What the last committed reading saw of each element (by element index, rejected ones included): a hash of its
 * bytes, the ordinal it was yielded under (-1: rejected), and its position (for the computed extents). An element
 * whose bytes are the same at the same index is yielded as an {@link UnchangedItem} without being parsed: a
 * microscope appending tiles rewrites the whole file, but only the new and changed tiles cost a parse.
 */
class ElementMemo {
  count = 0;
  hash = new Float64Array(1024);
  ordinal = new Int32Array(1024);
  x = new Int32Array(1024);
  y = new Int32Array(1024);
  z = new Int32Array(1024);

  push(hash: number, ordinal: number, x: number | null, y: number | null, z: number | null): void {
    if (this.count === this.hash.length) {
      this.hash = grow(this.hash);
      this.ordinal = grow(this.ordinal);
      this.x = grow(this.x);
      this.y = grow(this.y);
      this.z = grow(this.z);
    }
    const i = this.count++;
    this.hash[i] = hash;
    this.ordinal[i] = ordinal;
    this.x[i] = x ?? NO_POSITION;
    this.y[i] = y ?? NO_POSITION;
    this.z[i] = z ?? NO_POSITION;
  }
}

/** Bounds of the item positions, for files that declare no extents. */
class Bounds {
  private b = [Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
  add(x: number, y: number, z: number): void {
    const b = this.b;
    if (x !== NO_POSITION) {
      if (x < b[0]) b[0] = x;
      if (x > b[1]) b[1] = x;
    }
    if (y !== NO_POSITION) {
      if (y < b[2]) b[2] = y;
      if (y > b[3]) b[3] = y;
    }
    if (z !== NO_POSITION) {
      if (z < b[4]) b[4] = z;
      if (z > b[5]) b[5] = z;
    }
  }
  extents(): InputExtents {
    const v = (n: number) => (Number.isFinite(n) ? n : null);
    const b = this.b;
    return { minX: v(b[0]), maxX: v(b[1]), minY: v(b[2]), maxY: v(b[3]), minZ: v(b[4]), maxZ: v(b[5]) };
  }
}

class JsonReading implements InputReading {
  readonly status = 'read' as const;
  /** Byte range and array (segment) of each entry yielded, by ordinal, for pick(). */
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private segments = new Uint32Array(1024);
  /** Shape of each segment (one per array walked: `tiles`, or one group of `tileMap`). */
  private readonly segmentShapes: number[] = [];
  private count = 0;
  private header: InputHeader | undefined;
  private readonly rejected: RejectedItem[] = [];
  private readonly memo = new ElementMemo();
  private readonly bounds = new Bounds();

  constructor(
    private readonly root: string,
    private readonly content: FileContent,
    private readonly source: JsonInputSource,
    /** The last committed reading's elements; null on the first reading. */
    private readonly previous: ElementMemo | null,
  ) {}

  private remember(el: { start: number; end: number }, segment: number): number {
    if (this.count === this.starts.length) {
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.segments = grow(this.segments);
    }
    this.starts[this.count] = el.start;
    this.ends[this.count] = el.end;
    this.segments[this.count] = segment;
    return this.count++;
  }

  /**
   * Parses consecutive elements of one array at once: the bytes between them are only "," and white space (the
   * scan checked it), so the range is a JSON array's contents. On a parse error, element by element, to name it.
   */
  private parseRun(els: ReadonlyArray<{ start: number; end: number }>, firstElement: number): unknown[] {
    const buf = this.content.buffer;
    if (els.length > 1) {
      try {
        const values = JSON.parse(`[${buf.toString('utf8', els[0].start, els[els.length - 1].end)}]`) as unknown[];
        if (values.length === els.length) return values;
      } catch {
        // fall through: find the broken element
      }
    }
    return els.map((el, k) => parseElement(buf, { key: '', group: null, ...el }, firstElement + k));
  }

  *items(): Generator<InputItem | UnchangedItem> {
    const buf = this.content.buffer;
    const prev = this.previous;
    const memo = this.memo;
    try {
      const cursor = new JsonCursor(buf, SPEC);
      /** Index of the next element to walk, and of the first element of `run`. */
      let element = 0;
      let runStart = 0;
      let segment = -1;
      let shape = PIPELINE_TILE;
      let lastKey: string | undefined;
      let lastGroup: string | null | undefined;
      let run: Array<{ start: number; end: number }> = [];
      let runHashes: number[] = [];
      // An arrow function cannot be a generator: the generator below reads the reader through this alias.
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const self = this;
      function* flush(): Generator<InputItem> {
        if (run.length === 0) return;
        const values = self.parseRun(run, runStart);
        for (let k = 0; k < run.length; k++) {
          const el = run[k];
          const n = runStart + k;
          const item = toItem(self.root, values[k], shape, (message) => {
            throw malformedAt(buf, el.start, message, n);
          });
          if ('reason' in item) {
            self.rejected.push(item);
            memo.push(runHashes[k], -1, null, null, null);
            continue;
          }
          memo.push(runHashes[k], self.remember(el, segment), item.x, item.y, item.z);
          self.bounds.add(item.x ?? NO_POSITION, item.y ?? NO_POSITION, item.z ?? NO_POSITION);
          yield item;
        }
        run = [];
        runHashes = [];
      }
      for (;;) {
        if (!cursor.next()) {
          yield* flush();
          this.header = readHeader(cursor.headers, (message) => {
            throw new InputMalformedError(message);
          });
          break;
        }
        if (cursor.key !== lastKey || cursor.group !== lastGroup) {
          yield* flush();
          segment++;
          shape = cursor.key === 'tiles' ? PIPELINE_TILE : DASHBOARD_TILE;
          this.segmentShapes.push(shape);
          lastKey = cursor.key;
          lastGroup = cursor.group;
        }
        const e = element++;
        const start = cursor.start;
        const end = cursor.end;
        const hash = hashBytes(buf, start, end, shape);
        if (prev !== null && e < prev.count && prev.hash[e] === hash && prev.ordinal[e] >= 0) {
          // Same bytes as last time: not parsed again.
          yield* flush();
          const ordinal = this.remember(cursor, segment);
          memo.push(hash, ordinal, prev.x[e], prev.y[e], prev.z[e]);
          this.bounds.add(prev.x[e], prev.y[e], prev.z[e]);
          yield { unchanged: true, previous: prev.ordinal[e] };
          continue;
        }
        if (run.length === 0) runStart = e;
        run.push({ start, end });
        runHashes.push(hash);
        if (run.length >= PARSE_BATCH) yield* flush();
      }
    } catch (e) {
      if (e instanceof InputMalformedError) this.source.rememberFailure(this.content.signature, e.describe());
      throw e;
    }
  }

  *pick(ordinals: ArrayLike<number>): Generator<InputItem> {
    const fail = (message: string): never => {
      throw new InputMalformedError(message);
    };
    let k = 0;
    while (k < ordinals.length) {
      // A run of consecutive ordinals in one array, parsed at once when no rejected element sits between them.
      const first = ordinals[k];
      const segment = this.segments[first];
      let m = 1;
      while (
        m < PARSE_BATCH &&
        k + m < ordinals.length &&
        ordinals[k + m] === first + m &&
        this.segments[first + m] === segment
      ) {
        m++;
      }
      const els = Array.from({ length: m }, (_, j) => ({ start: this.starts[first + j], end: this.ends[first + j] }));
      const values = this.parseRun(els, first);
      const shape = this.segmentShapes[segment];
      for (let j = 0; j < m; j++) yield toItem(this.root, values[j], shape, fail) as InputItem;
      k += m;
    }
  }

  summary(): { header: InputHeader; rejected: RejectedItem[] } {
    if (!this.header) throw new Error('summary() before items() was walked');
    return {
      header: { ...this.header, extents: this.header.extents ?? this.bounds.extents() },
      rejected: this.rejected,
    };
  }

  commit(): void {
    this.source.commit(this.content.signature, this.memo);
  }
}

/** The JSON input source of one project. */
export class JsonInputSource implements InputSource {
  private readonly file: WatchedFile;
  private committed: ElementMemo | null = null;

  constructor(
    readonly kind: InputKind,
    private readonly root: string,
    file: string,
  ) {
    this.file = new WatchedFile(root, file);
  }

  async read(): Promise<InputReadResult> {
    const content = await this.file.read();
    if ('status' in content) return content;
    return new JsonReading(this.root, content, this, this.committed);
  }

  /** @internal A reading was recorded. */
  commit(signature: string, memo: ElementMemo): void {
    this.file.commit(signature);
    this.committed = memo;
  }

  /** @internal A reading found the file malformed. */
  rememberFailure(signature: string, message: string): void {
    this.file.rememberFailure(signature, message);
  }
}
