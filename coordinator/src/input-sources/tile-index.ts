import { QueryTypes, type Sequelize } from 'sequelize';
import { parseFingerprint } from './item.js';

/**
 * What is recorded of one project's tiles, in memory: relative path → fingerprint and missing flag, so that a poll
 * compares the input with it instead of reading the tiles table. Built once from the database (paged, never the
 * whole table in one result) on the first poll of a project, then kept up to date by the watcher after each commit.
 *
 * Layout: a Map from path to a small-integer slot (stored unboxed by V8) and typed arrays by slot, about 100 bytes
 * per tile with the path string itself.
 */
export class TileIndex {
  private readonly slots = new Map<string, number>();
  private fps = new Float64Array(1024);
  private seen = new Uint32Array(1024);
  private missing = new Uint8Array(1024);
  private count = 0;
  private live = 0;
  private generation = 0;
  private seenLiveCount = 0;

  /** Tiles recorded (missing or not). */
  get size(): number {
    return this.count;
  }

  /** Tiles recorded and not marked missing. */
  get liveCount(): number {
    return this.live;
  }

  /** Starts a comparison pass; returns its generation. */
  beginPass(): number {
    this.generation = (this.generation + 1) >>> 0 || 1;
    this.seenLiveCount = 0;
    return this.generation;
  }

  /** Live tiles seen so far in the current pass. */
  get seenLive(): number {
    return this.seenLiveCount;
  }

  slotOf(path: string): number | undefined {
    return this.slots.get(path);
  }

  fingerprint(slot: number): number {
    return this.fps[slot];
  }

  isMissing(slot: number): boolean {
    return this.missing[slot] === 1;
  }

  /** Marks a slot seen in the current pass; false when it was already seen (a duplicate path in the input). */
  markSeen(slot: number): boolean {
    if (this.seen[slot] === this.generation) return false;
    this.seen[slot] = this.generation;
    if (this.missing[slot] === 0) this.seenLiveCount++;
    return true;
  }

  private grow(): void {
    const n = this.fps.length * 2;
    const fps = new Float64Array(n);
    fps.set(this.fps);
    const seen = new Uint32Array(n);
    seen.set(this.seen);
    const missing = new Uint8Array(n);
    missing.set(this.missing);
    this.fps = fps;
    this.seen = seen;
    this.missing = missing;
  }

  /** Records a tile as written: its fingerprint, and whether it is missing. */
  set(path: string, fingerprint: number, isMissing: boolean): void {
    let slot = this.slots.get(path);
    if (slot === undefined) {
      if (this.count === this.fps.length) this.grow();
      slot = this.count++;
      this.slots.set(path, slot);
      this.missing[slot] = 1; // counted as live below
      this.seen[slot] = this.generation;
    }
    this.fps[slot] = fingerprint;
    this.setMissing(slot, isMissing);
  }

  setMissing(slot: number, isMissing: boolean): void {
    const was = this.missing[slot] === 1;
    if (was === isMissing) return;
    this.missing[slot] = isMissing ? 1 : 0;
    this.live += isMissing ? -1 : 1;
  }

  /** Paths of live tiles not seen in the current pass (gone from the input). */
  *unseenLive(): Generator<[string, number]> {
    const gen = this.generation;
    for (const entry of this.slots) {
      const slot = entry[1];
      if (this.missing[slot] === 0 && this.seen[slot] !== gen) yield entry;
    }
  }

  /** Loads a project's recorded tiles, `pageSize` rows at a time in relative-path order. */
  static async load(sequelize: Sequelize, projectId: string, pageSize = 50_000): Promise<TileIndex> {
    const index = new TileIndex();
    let after = '';
    let first = true;
    for (;;) {
      const rows = await sequelize.query<{ relative_path: string; fingerprint: string; is_missing: boolean }>(
        `SELECT relative_path, fingerprint, is_missing FROM tiles
          WHERE project_id = $1 ${first ? '' : 'AND relative_path > $3'}
          ORDER BY relative_path LIMIT $2`,
        { bind: first ? [projectId, pageSize] : [projectId, pageSize, after], type: QueryTypes.SELECT },
      );
      for (const r of rows) index.set(r.relative_path, parseFingerprint(r.fingerprint), r.is_missing);
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1].relative_path;
      first = false;
    }
    return index;
  }
}
