import fs, { type FSWatcher } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QueryTypes, type Sequelize } from 'sequelize';
import { InputKind, InputState, mapPath, resolveUnder } from '@tileflow/shared';
import type { Logger } from '../logger.js';
import { notifyChange } from '../db/notify.js';
import { fingerprintOf } from './item.js';
import { createInputSource, InputOptionsError, validateInputOptions } from './sources.js';
import { TileIndex } from './tile-index.js';
import { markMissing, upsertTiles, type WriteResult } from './tile-writer.js';
import {
  InputMalformedError,
  type InputExtents,
  type InputHeader,
  type InputItem,
  type InputReading,
  type InputSource,
  type RejectedItem,
} from './types.js';

/**
 * Discovery: records every project's input items into `tiles`, incrementally.
 *
 * Every `pollSeconds` the watcher lists the non-archived projects and looks at each one's input (fs.watch events on
 * the input's folder may wake a project sooner; polling stays the baseline since inotify never sees NFS writes from
 * other hosts). Cost grows with change, not with size:
 * - an input file with the same inode, size and mtime as the last recorded one is not even read;
 * - otherwise items are compared with an in-memory index of what is recorded (built once per project from the
 *   database, paged), and only new, changed, returning or vanished items are written, in batches of `batchSize`
 *   rows, one statement and one transaction per batch, each with its `tiles` change notice; a JSON source does not
 *   even parse the elements whose bytes are the same as in the last recorded reading (UnchangedItem);
 * - the project row (input_state, input_message, extents, skip_z, parameters) is written when one of them changes,
 *   and input_checked_at at least every `checkedAtRefreshSeconds` otherwise.
 * A malformed, half-written or unreadable input changes no tile (the whole input is walked before anything is
 * written); vanished items are marked `is_missing`, never deleted.
 *
 * Project fields from the input: extents are the input's (declared, or the bounds of its positions); `skip_z` is
 * replaced by `planeMarkers.z` when the input declares plane markers (the input is then authoritative, as in
 * MouseLight) and left to the API otherwise; `customParameters` only add keys the project does not have (a value
 * set on the project wins). A change of input state, extents, skipped planes or parameters sends a `topology`
 * notice (the scheduler reloads the project; the realtime layer can push the new input state).
 */
export interface InputWatcherOptions {
  sequelize: Sequelize;
  logger: Logger;
  /** Seconds between polls of every project. Default 2 (the coordinator passes `scheduler.inputPollSeconds`). */
  pollSeconds?: number;
  /** Rows per writing statement and transaction. Default 5000. */
  batchSize?: number;
  /** Projects polled at the same time (each uses one database connection at a time). Default 4. */
  concurrency?: number;
  /** Wake a project on fs.watch events of its input's folder. Default true. */
  fsWatch?: boolean;
  /** Seconds after which input_checked_at is refreshed even if nothing changed. Default 30. */
  checkedAtRefreshSeconds?: number;
  /** Maps root paths as stored to paths on this host ([from prefix, to prefix], longest first wins). */
  pathMap?: ReadonlyArray<readonly [string, string]>;
  /** Called after a poll that wrote tiles (e.g. to wake an in-process scheduler). Errors are logged. */
  onChange?: (report: ProjectPollReport) => void;
  /** Millisecond clock (glob stability, refresh of input_checked_at); tests pass their own. */
  now?: () => number;
}

/** What one poll of one project did. */
export interface ProjectPollReport {
  projectId: string;
  state: InputState;
  message: string | null;
  /** How the input was found: read and compared, unchanged (not parsed), busy (being rewritten), or failed. */
  outcome: 'read' | 'unchanged' | 'busy' | 'failed';
  /** Items in the input (when read). */
  items: number;
  /** Tiles inserted or updated. */
  written: number;
  /** Tiles newly marked missing. */
  missing: number;
  /** Items rejected (path leaving the root, duplicate path). */
  rejected: number;
  /** Planes (z) with changed tiles. */
  planes: Array<number | null>;
  /**
   * Milliseconds spent reading the input file or listing, comparing it with the index (pass 1, including building
   * the index from the table on a project's first poll), and writing (pass 2, missing marks and the project row).
   */
  timings: { readMs: number; compareMs: number; writeMs: number };
}

export interface InputWatcher {
  /** Starts polling (first poll at once). */
  start(): void;
  /** Stops polling and fs watches; resolves once the poll under way finished. */
  stop(): Promise<void>;
  /** Polls one project now (queued behind a poll of the same project under way); null if it is gone or archived. */
  pollProject(projectId: string): Promise<ProjectPollReport | null>;
  /** Polls every non-archived project once, one after the other. */
  pollAll(): Promise<ProjectPollReport[]>;
}

interface ProjectRow {
  id: string;
  root_path: string;
  input_kind: string;
  input_options: unknown;
}

/** Project-row values last written by this watcher; compared to skip identical writes. */
interface WrittenProject {
  key: string;
  at: number;
}

interface ProjectWatch {
  id: string;
  configKey: string;
  root: string;
  kind: string;
  source: InputSource | null;
  sourceError: string | null;
  index: TileIndex | null;
  written: WrittenProject | null;
  /** Tile slot of each entry of the last committed reading (see UnchangedItem), and of the reading in progress. */
  committedSlots: Int32Array | null;
  readingSlots: Int32Array | null;
  /** State, message and header last decided, reused when the input is unchanged. */
  last: { state: InputState; message: string | null; header: ProjectHeader | null } | null;
  queue: Promise<unknown>;
  fsWatcher: FSWatcher | null;
  wakeTimer: NodeJS.Timeout | null;
}

type ProjectHeader = InputHeader & { extents: InputExtents };

const MAX_LISTED_REJECTIONS = 5;

function describeRejections(rejected: RejectedItem[]): string {
  const listed = rejected
    .slice(0, MAX_LISTED_REJECTIONS)
    .map((r) => `${JSON.stringify(r.relativePath)} ${r.reason}`)
    .join('; ');
  const more = rejected.length > MAX_LISTED_REJECTIONS ? `; and ${rejected.length - MAX_LISTED_REJECTIONS} more` : '';
  return `${rejected.length} item(s) rejected: ${listed}${more}`;
}

/** Bounds of the item positions, for inputs that declare no extents. */
class Bounds {
  minX: number | null = null;
  maxX: number | null = null;
  minY: number | null = null;
  maxY: number | null = null;
  minZ: number | null = null;
  maxZ: number | null = null;
  add(item: InputItem): void {
    if (item.x !== null) {
      if (this.minX === null || item.x < this.minX) this.minX = item.x;
      if (this.maxX === null || item.x > this.maxX) this.maxX = item.x;
    }
    if (item.y !== null) {
      if (this.minY === null || item.y < this.minY) this.minY = item.y;
      if (this.maxY === null || item.y > this.maxY) this.maxY = item.y;
    }
    if (item.z !== null) {
      if (this.minZ === null || item.z < this.minZ) this.minZ = item.z;
      if (this.maxZ === null || item.z > this.maxZ) this.maxZ = item.z;
    }
  }
  extents(): InputExtents {
    return { minX: this.minX, maxX: this.maxX, minY: this.minY, maxY: this.maxY, minZ: this.minZ, maxZ: this.maxZ };
  }
}

export function createInputWatcher(options: InputWatcherOptions): InputWatcher {
  const { sequelize } = options;
  const log = options.logger.child({ component: 'input-watcher' });
  const pollMs = Math.max(100, (options.pollSeconds ?? 2) * 1000);
  const batchSize = options.batchSize ?? 5000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const useFsWatch = options.fsWatch ?? true;
  const refreshMs = (options.checkedAtRefreshSeconds ?? 30) * 1000;
  const pathMap = options.pathMap ?? [];
  const now = options.now ?? Date.now;

  const projects = new Map<string, ProjectWatch>();
  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let cycle: Promise<unknown> = Promise.resolve();

  function watchFor(row: ProjectRow): ProjectWatch {
    const root = mapPath(row.root_path, pathMap);
    const configKey = `${row.input_kind}\u0000${root}\u0000${JSON.stringify(row.input_options ?? {})}`;
    let w = projects.get(row.id);
    if (w && w.configKey === configKey) return w;
    if (!w) {
      w = {
        id: row.id,
        configKey,
        root,
        kind: row.input_kind,
        source: null,
        sourceError: null,
        index: null,
        committedSlots: null,
        readingSlots: null,
        written: null,
        last: null,
        queue: Promise.resolve(),
        fsWatcher: null,
        wakeTimer: null,
      };
      projects.set(row.id, w);
    }
    // New project, or its input moved or changed kind: a fresh source (the tile index stays: it mirrors the table).
    closeFsWatch(w);
    w.configKey = configKey;
    w.root = root;
    w.kind = row.input_kind;
    w.last = null;
    w.committedSlots = null;
    try {
      w.source = createInputSource(row.input_kind, root, row.input_options ?? {}, now);
      w.sourceError = null;
    } catch (e) {
      if (!(e instanceof InputOptionsError)) throw e;
      w.source = null;
      w.sourceError = e.message;
    }
    return w;
  }

  function closeFsWatch(w: ProjectWatch): void {
    w.fsWatcher?.close();
    w.fsWatcher = null;
    if (w.wakeTimer) clearTimeout(w.wakeTimer);
    w.wakeTimer = null;
  }

  /** Watches the folder of the input file (or the root for globs) to poll sooner after local changes. */
  function ensureFsWatch(w: ProjectWatch, row: ProjectRow): void {
    if (!useFsWatch || !running || w.fsWatcher || !w.source) return;
    let dir = w.root;
    let name: string | null = null;
    if (w.kind !== InputKind.Glob) {
      const checked = validateInputOptions(w.kind, row.input_options ?? {});
      const file = checked.ok ? (checked.options as { file?: string }).file : undefined;
      if (!file) return;
      try {
        const abs = resolveUnder(w.root, file);
        dir = path.dirname(abs);
        name = path.basename(abs);
      } catch {
        return;
      }
    }
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_event, filename) => {
        if (name !== null && filename !== null && filename !== name) return;
        if (w.wakeTimer) return;
        w.wakeTimer = setTimeout(() => {
          w.wakeTimer = null;
          if (running)
            void pollProject(w.id).catch((e) => log.error({ err: e, projectId: w.id }, 'poll after fs event failed'));
        }, 100);
        w.wakeTimer.unref();
      });
      watcher.on('error', () => closeFsWatch(w));
      w.fsWatcher = watcher;
    } catch {
      // The folder may not exist yet; polling covers it and the watch is tried again next cycle.
    }
  }

  async function writeProject(
    w: ProjectWatch,
    state: InputState,
    message: string | null,
    header: ProjectHeader | null,
  ): Promise<void> {
    const values = {
      state,
      message,
      extents: header?.extents ?? null,
      skipZ: header?.skipZ ?? null,
      parameters: header?.parameters ?? null,
    };
    const key = JSON.stringify(values);
    const t = now();
    const changed = w.written?.key !== key;
    if (!changed && w.written && t - w.written.at < refreshMs) return;
    const e = values.extents;
    await sequelize.transaction(async (transaction) => {
      await sequelize.query(
        `UPDATE projects SET
           input_state = $2, input_message = $3, input_checked_at = now(),
           extent_min_x = CASE WHEN $4::boolean THEN $5::int ELSE extent_min_x END,
           extent_max_x = CASE WHEN $4::boolean THEN $6::int ELSE extent_max_x END,
           extent_min_y = CASE WHEN $4::boolean THEN $7::int ELSE extent_min_y END,
           extent_max_y = CASE WHEN $4::boolean THEN $8::int ELSE extent_max_y END,
           extent_min_z = CASE WHEN $4::boolean THEN $9::int ELSE extent_min_z END,
           extent_max_z = CASE WHEN $4::boolean THEN $10::int ELSE extent_max_z END,
           skip_z = COALESCE($11::int[], skip_z),
           parameters = CASE WHEN $12::jsonb IS NULL THEN parameters ELSE $12::jsonb || parameters END
         WHERE id = $1`,
        {
          bind: [
            w.id,
            state,
            message,
            e !== null,
            e?.minX ?? null,
            e?.maxX ?? null,
            e?.minY ?? null,
            e?.maxY ?? null,
            e?.minZ ?? null,
            e?.maxZ ?? null,
            values.skipZ,
            values.parameters === null ? null : JSON.stringify(values.parameters),
          ],
          transaction,
        },
      );
      // Input state, extents or skipped planes changed: the scheduler and the UI reload the project.
      if (changed) await notifyChange(sequelize, { type: 'topology', projectId: w.id }, transaction);
    });
    w.written = { key, at: t };
  }

  /** Pass 1 and 2 over a reading; returns the report. Throws InputMalformedError before anything was written. */
  async function record(w: ProjectWatch, reading: InputReading, report: ProjectPollReport): Promise<ProjectHeader> {
    const started = performance.now();
    if (!w.index) w.index = await TileIndex.load(sequelize, w.id);
    const index = w.index;
    index.beginPass();
    const changed: number[] = [];
    const newPaths = new Set<string>();
    const duplicates: RejectedItem[] = [];
    const bounds = new Bounds();
    let ordinal = -1;
    let items = 0;
    // Slot of each entry of this reading (-1: none yet), kept with the commit to resolve UnchangedItems next time.
    let slots = new Int32Array(1024).fill(-1);
    const setSlot = (o: number, slot: number) => {
      if (o >= slots.length) {
        const grown = new Int32Array(slots.length * 2).fill(-1);
        grown.set(slots);
        slots = grown;
      }
      slots[o] = slot;
    };
    const committed = w.committedSlots;
    // Pass 1: compare every item with the index; nothing is written while the input may still prove malformed.
    for (const entry of reading.items()) {
      ordinal++;
      items++;
      let item: InputItem;
      if ('unchanged' in entry) {
        // Byte-for-byte the item recorded last time: its slot is known, nothing to compare.
        const known = committed !== null && entry.previous < committed.length ? committed[entry.previous] : -1;
        if (known >= 0 && index.markSeen(known)) {
          setSlot(ordinal, known);
          if (index.isMissing(known)) changed.push(ordinal);
          continue;
        }
        item = reading.pick([ordinal])[Symbol.iterator]().next().value as InputItem;
      } else {
        item = entry;
      }
      const slot = index.slotOf(item.relativePath);
      if (item.pending) {
        if (slot !== undefined) index.markSeen(slot);
        continue;
      }
      if (slot !== undefined) {
        if (!index.markSeen(slot)) {
          duplicates.push({ relativePath: item.relativePath, reason: 'is listed more than once (first kept)' });
          continue;
        }
        setSlot(ordinal, slot);
        if (index.fingerprint(slot) !== fingerprintOf(item) || index.isMissing(slot)) changed.push(ordinal);
      } else {
        if (newPaths.has(item.relativePath)) {
          duplicates.push({ relativePath: item.relativePath, reason: 'is listed more than once (first kept)' });
          continue;
        }
        newPaths.add(item.relativePath);
        changed.push(ordinal);
      }
      bounds.add(item);
    }
    newPaths.clear();
    report.timings.compareMs = performance.now() - started;
    const summary = reading.summary();
    const gone = index.liveCount - index.seenLive;
    report.items = items;
    const planes = new Set<number | null>();
    const addPlanes = (r: WriteResult) => r.planes.forEach((z) => planes.add(z));

    // Pass 2: write what changed, batch by batch; the index follows each committed batch.
    let batch: Array<{ item: InputItem; fingerprint: number; ordinal: number }> = [];
    const flush = async () => {
      const r = await upsertTiles(sequelize, w.id, batch);
      for (const row of batch) {
        index.set(row.item.relativePath, row.fingerprint, false);
        setSlot(row.ordinal, index.slotOf(row.item.relativePath) ?? -1);
      }
      report.written += r.changed;
      addPlanes(r);
      batch = [];
    };
    let k = 0;
    for (const item of reading.pick(changed)) {
      batch.push({ item, fingerprint: fingerprintOf(item), ordinal: changed[k++] });
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length > 0) await flush();

    // Items no longer in the input: marked missing, never deleted.
    if (gone > 0) {
      let paths: string[] = [];
      let goneSlots: number[] = [];
      const flushMissing = async () => {
        const r = await markMissing(sequelize, w.id, paths);
        for (const s of goneSlots) index.setMissing(s, true);
        report.missing += r.changed;
        addPlanes(r);
        paths = [];
        goneSlots = [];
      };
      for (const [p, slot] of index.unseenLive()) {
        paths.push(p);
        goneSlots.push(slot);
        if (paths.length >= batchSize) await flushMissing();
      }
      if (paths.length > 0) await flushMissing();
    }
    report.planes = [...planes];
    w.readingSlots = slots.subarray(0, ordinal + 1);
    const rejected = [...summary.rejected, ...duplicates];
    report.rejected = rejected.length;
    if (rejected.length > 0) {
      report.state = InputState.BadLocation;
      report.message = describeRejections(rejected);
    }
    return { ...summary.header, extents: summary.header.extents ?? bounds.extents() };
  }

  async function poll(w: ProjectWatch, row: ProjectRow): Promise<ProjectPollReport> {
    const report: ProjectPollReport = {
      projectId: w.id,
      state: InputState.Ok,
      message: null,
      outcome: 'read',
      items: 0,
      written: 0,
      missing: 0,
      rejected: 0,
      planes: [],
      timings: { readMs: 0, compareMs: 0, writeMs: 0 },
    };
    const plog = log.child({ projectId: w.id });
    ensureFsWatch(w, row);
    if (!w.source) {
      report.outcome = 'failed';
      report.state = InputState.Malformed;
      report.message = w.sourceError;
      w.last = { state: report.state, message: report.message, header: null };
      await writeProject(w, report.state, report.message, null);
      return report;
    }
    let t = performance.now();
    const result = await w.source.read();
    report.timings.readMs = performance.now() - t;
    if (result.status === 'unchanged' || result.status === 'busy') {
      report.outcome = result.status;
      report.state = w.last?.state ?? InputState.Ok;
      report.message = w.last?.message ?? null;
      if (w.last) await writeProject(w, report.state, report.message, w.last.header);
      return report;
    }
    if (result.status === 'failed') {
      report.outcome = 'failed';
      report.state = result.state;
      report.message = result.message;
      w.last = { state: report.state, message: report.message, header: null };
      await writeProject(w, report.state, report.message, null);
      return report;
    }
    let header: ProjectHeader;
    try {
      t = performance.now();
      header = await record(w, result, report);
    } catch (e) {
      if (e instanceof InputMalformedError) {
        report.outcome = 'failed';
        report.state = InputState.Malformed;
        report.message = e.describe();
        w.last = { state: report.state, message: report.message, header: null };
        await writeProject(w, report.state, report.message, null);
        return report;
      }
      // A database or file system error part way: the index may be ahead of or behind the table. Rebuild it.
      w.index = null;
      w.committedSlots = null;
      throw e;
    }
    result.commit();
    w.committedSlots = w.readingSlots;
    w.readingSlots = null;
    w.last = { state: report.state, message: report.message, header };
    await writeProject(w, report.state, report.message, header);
    report.timings.writeMs = performance.now() - t - report.timings.compareMs;
    if (report.written > 0 || report.missing > 0) {
      plog.info(
        { items: report.items, written: report.written, missing: report.missing, rejected: report.rejected },
        'input recorded',
      );
      try {
        options.onChange?.(report);
      } catch (e) {
        plog.error({ err: e }, 'onChange failed');
      }
    }
    return report;
  }

  function enqueue(row: ProjectRow): Promise<ProjectPollReport> {
    const w = watchFor(row);
    const next = w.queue.then(() => poll(w, row));
    w.queue = next.catch(() => undefined);
    return next;
  }

  async function loadRow(projectId: string): Promise<ProjectRow | null> {
    const rows = await sequelize.query<ProjectRow>(
      `SELECT id, root_path, input_kind, input_options FROM projects WHERE id = $1 AND archived_at IS NULL`,
      { bind: [projectId], type: QueryTypes.SELECT },
    );
    return rows[0] ?? null;
  }

  async function pollProject(projectId: string): Promise<ProjectPollReport | null> {
    const row = await loadRow(projectId);
    if (!row) {
      forget(projectId);
      return null;
    }
    return enqueue(row);
  }

  function forget(projectId: string): void {
    const w = projects.get(projectId);
    if (!w) return;
    closeFsWatch(w);
    projects.delete(projectId);
  }

  /** Non-archived projects; forgets the others. */
  async function listProjects(): Promise<ProjectRow[]> {
    const rows = await sequelize.query<ProjectRow>(
      `SELECT id, root_path, input_kind, input_options FROM projects WHERE archived_at IS NULL ORDER BY created_at, id`,
      { type: QueryTypes.SELECT },
    );
    const ids = new Set(rows.map((r) => r.id));
    for (const id of [...projects.keys()]) if (!ids.has(id)) forget(id);
    return rows;
  }

  async function pollAll(): Promise<ProjectPollReport[]> {
    const rows = await listProjects();
    // A few projects at a time; resolves once every one was polled.
    const reports: ProjectPollReport[] = [];
    let next = 0;
    const lane = async () => {
      while (next < rows.length) {
        const row = rows[next++];
        try {
          reports.push(await enqueue(row));
        } catch (e) {
          log.error({ err: e, projectId: row.id }, 'input poll failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, lane));
    return reports;
  }

  /**
   * The polling loop: each tick queues every project that has no poll queued or under way; at most `concurrency`
   * polls run at once, the next queued one starting as soon as one ends. A project whose poll lasts longer than the
   * interval (a first recording of a million tiles) is not waited for: the others keep their pace.
   */
  const pending: ProjectRow[] = [];
  const queued = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let active = 0;
  function pump(): void {
    while (running && active < concurrency && pending.length > 0) {
      const row = pending.shift() as ProjectRow;
      active++;
      const p: Promise<unknown> = enqueue(row)
        .catch((e) => log.error({ err: e, projectId: row.id }, 'input poll failed'))
        .finally(() => {
          active--;
          queued.delete(row.id);
          inFlight.delete(p);
          pump();
        });
      inFlight.add(p);
    }
  }

  async function tick(): Promise<void> {
    for (const row of await listProjects()) {
      if (queued.has(row.id)) continue;
      queued.add(row.id);
      pending.push(row);
    }
    pump();
  }

  function schedule(delay: number): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = null;
      cycle = tick()
        .catch((e) => log.error({ err: e }, 'input poll cycle failed'))
        .finally(() => schedule(pollMs));
    }, delay);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      for (const w of projects.values()) closeFsWatch(w);
      pending.length = 0;
      queued.clear();
      await cycle;
      await Promise.all(inFlight);
      await Promise.all([...projects.values()].map((w) => w.queue));
    },
    pollProject,
    pollAll,
  };
}
