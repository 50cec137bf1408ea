import type { InputKind, InputState } from '@tileflow/shared';

/**
 * The contract between an input source (one per input kind) and the watcher that records its items.
 *
 * A source only *reads*: it never touches the database. The watcher reads in two passes so that a malformed or
 * half-written input never changes recorded tiles: pass 1 walks every item (`InputReading.items()`, which throws
 * {@link InputMalformedError} part way if the input turns out to be broken) and only compares fingerprints; pass 2
 * (`InputReading.pick()`) produces again only the items that changed, and those are written.
 */

/** One item (tile, video, folder…) as the input describes it. */
export interface InputItem {
  /** Path relative to the project root, with `/` separators; the tile's key. Checked to stay under the root. */
  relativePath: string;
  /** Last path segment of `relativePath` (MouseLight's `tile_name`). */
  tileName: string;
  /** Lattice position; null when the input gives none. */
  x: number | null;
  y: number | null;
  z: number | null;
  /** Lattice step; null when the input gives none. */
  stepX: number | null;
  stepY: number | null;
  stepZ: number | null;
  /** The acquisition finished writing this item. */
  isComplete: boolean;
  /** Anything else the input said of the item (CSV extra columns, MouseLight tile id), stored as `user_data`. */
  userData: Record<string, unknown>;
  /**
   * The item exists but is not finished (a glob item whose size or mtime still changes): a recorded tile with this
   * path is left as it is (not marked missing), and an unrecorded one is not recorded yet.
   */
  pending?: boolean;
}

/**
 * An item that is byte-for-byte the one at ordinal `previous` of the last committed reading of the same source, and
 * was therefore not parsed again. Only sources that remember their last committed reading yield these (JSON); such
 * a source also reports extents in its summary (declared or computed), since the watcher cannot bound unparsed
 * items. `pick()` of its ordinal in the current reading still produces the full item.
 */
export interface UnchangedItem {
  unchanged: true;
  previous: number;
}

/** Sample extents in lattice coordinates, as declared by the input (MouseLight `extents`). */
export interface InputExtents {
  minX: number | null;
  maxX: number | null;
  minY: number | null;
  maxY: number | null;
  minZ: number | null;
  maxZ: number | null;
}

/** Project-level facts an input may declare besides its items. Absent fields are left unchanged on the project. */
export interface InputHeader {
  /** Declared extents (MouseLight `extents` / `monitor.extents`). When absent the watcher uses the items' bounds. */
  extents?: InputExtents;
  /** Planes to skip (MouseLight `planeMarkers.z`). */
  skipZ?: number[];
  /** User parameters (MouseLight `projectInfo.customParameters`), added to the project's parameters. */
  parameters?: Record<string, string>;
}

/** An item the source refused, reported in `input_message`; the other items are still recorded. */
export interface RejectedItem {
  relativePath: string;
  reason: string;
}

/** Where in the input a parse error is. */
export interface InputPosition {
  /** Byte offset from the start of the file. */
  offset?: number;
  /** 1-based line and column (JSON) or line (CSV). */
  line?: number;
  column?: number;
  /** 0-based index of the item (tile, row) being read. */
  item?: number;
}

/** The input could not be parsed. Nothing is written for a reading that raised it. */
export class InputMalformedError extends Error {
  readonly code = 'INPUT_MALFORMED';
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    readonly position: InputPosition = {},
    options?: { cause?: unknown },
  ) {
    super(withPosition(reason, position), options);
    this.name = 'InputMalformedError';
  }

  /** The message with its position, as shown in `input_message`. */
  describe(): string {
    return this.message;
  }
}

function withPosition(reason: string, p: InputPosition): string {
  const parts: string[] = [];
  if (p.line !== undefined) parts.push(`line ${p.line}${p.column !== undefined ? `, column ${p.column}` : ''}`);
  if (p.offset !== undefined) parts.push(`byte ${p.offset}`);
  if (p.item !== undefined) parts.push(`item #${p.item}`);
  return parts.length ? `${reason} (${parts.join(', ')})` : reason;
}

/** The input is there and could be listed or parsed. */
export interface InputReading {
  readonly status: 'read';
  /**
   * Every item, in input order. Throws {@link InputMalformedError} if the input is found broken while walking it;
   * call it once, before `pick`, `summary` and `commit`.
   */
  items(): Iterable<InputItem | UnchangedItem>;
  /** The items at these 0-based positions of `items()` (ascending), produced again (in full) for writing. */
  pick(ordinals: ArrayLike<number>): Iterable<InputItem>;
  /** What the input said besides its items, and the items it rejected. Valid once `items()` was walked. */
  summary(): { header: InputHeader; rejected: RejectedItem[] };
  /** The reading was recorded: the source may now answer `unchanged` while the input stays as it is. */
  commit(): void;
}

/**
 * Result of looking at an input once.
 * - `unchanged`: the input file is byte-for-byte the one last committed (same inode, size and mtime): not parsed.
 * - `busy`: the input changed while it was being read; try again at the next poll, change nothing.
 * - `failed`: no items could be read (root or file missing, bad location, malformed): keep recorded tiles as they are.
 */
export type InputReadResult =
  | { readonly status: 'unchanged' }
  | { readonly status: 'busy'; readonly message: string }
  | {
      readonly status: 'failed';
      readonly state: typeof InputState.Missing | typeof InputState.BadLocation | typeof InputState.Malformed;
      readonly message: string;
    }
  | InputReading;

/** One project's input, stateful across polls (it remembers what it read last). */
export interface InputSource {
  readonly kind: InputKind;
  read(): Promise<InputReadResult>;
}

/** Options of the `pipeline-json` kind (`projects.input_options`). */
export interface PipelineJsonOptions {
  /** The input file, relative to the project root. Default `pipeline-input.json`. */
  file?: string;
}

/** Options of the `dashboard-json` kind (`projects.input_options`). */
export interface DashboardJsonOptions {
  /** The input file, relative to the project root. Default `dashboard.json`. */
  file?: string;
}

/** Options of the `glob` kind (`projects.input_options`). */
export interface GlobOptions {
  /**
   * Glob (fast-glob/picomatch syntax) relative to the project root: one item per match, e.g. `**\/*.mp4` or
   * `z*\/y*\/x*`. Required. Absolute patterns and `..` segments are refused.
   */
  pattern: string;
  /**
   * A file name that must exist inside a folder item: the items are then the folders matching `pattern` that hold
   * this file (its size and mtime are what must be stable). Optional.
   */
  marker?: string;
  /** Without `marker`: whether matches are files (default) or folders. */
  itemType?: 'file' | 'directory';
  /**
   * Regular expression (JavaScript syntax) applied to the item's relative path, with named groups `x`, `y` and/or
   * `z` holding integers, e.g. `z(?<z>\\d+)/y(?<y>\\d+)/x(?<x>\\d+)`. Optional: without it positions are null.
   */
  positionPattern?: string;
  /** Seconds an item's size and mtime must stay the same, across two looks, before it is recorded. Default 2. */
  stableSeconds?: number;
  /** Globs of paths to leave out. Optional. */
  ignore?: string[];
}

/** Options of the `csv` kind (`projects.input_options`). */
export interface CsvOptions {
  /** The manifest, relative to the project root. Default `manifest.csv`. */
  file?: string;
  /** Field delimiter, one character. Default `,`. */
  delimiter?: string;
  /** Header of the column holding the item's relative path. Default `path`. */
  pathColumn?: string;
  /** Headers of the lattice position columns; used when present in the header row. Defaults `x`, `y`, `z`. */
  xColumn?: string;
  yColumn?: string;
  zColumn?: string;
  /**
   * Header of a column saying whether the item is complete (`true/false`, `1/0`, `yes/no`). Optional: without it
   * every listed row is complete.
   */
  completeColumn?: string;
}

/** Input options by kind. */
export interface InputOptionsByKind {
  'pipeline-json': PipelineJsonOptions;
  'dashboard-json': DashboardJsonOptions;
  glob: GlobOptions;
  csv: CsvOptions;
}

/** A field-level problem with input options, for the API's typed mutation results. */
export interface InputOptionsFieldError {
  /** The option's name, e.g. `pattern`. */
  field: string;
  message: string;
}
