import type { PlanesChangedEvent } from '@tileflow/shared';
import type { ChangeNotice } from '../db/notify.js';

/** What happened to one project during a window. */
export interface ProjectChanges {
  /** Tile states changed: recount the stages. */
  states: boolean;
  /** The input recorded or changed tiles: recount the tiles too. */
  tiles: boolean;
  /** Stages or settings changed. */
  topology: boolean;
  stageIds: Set<string>;
  planes: PlanesChangedEvent['planes'];
}

/** Everything gathered during one window, taken at once by the flush. */
export interface WindowChanges {
  projects: Map<string, ProjectChanges>;
  /** Worker ids that changed; `all` when a notice named none. */
  workers: Set<string> | 'all' | null;
}

/**
 * Folds change notices into one summary per window: per project, whether counts must be recomputed and which planes
 * changed (with how many notices touched each); per worker, whether to resend the list. Pure bookkeeping: the flush
 * reads the truth from the tables.
 */
export class NoticeAggregator {
  private projects = new Map<string, ProjectChanges>();
  private planeIndex = new Map<string, Map<string, { stageId: string | null; z: number | null; changes: number }>>();
  private workers: Set<string> | 'all' | null = null;

  get pending(): boolean {
    return this.projects.size > 0 || this.workers !== null;
  }

  private project(id: string): ProjectChanges {
    let p = this.projects.get(id);
    if (!p) {
      p = { states: false, tiles: false, topology: false, stageIds: new Set(), planes: [] };
      this.projects.set(id, p);
      this.planeIndex.set(id, new Map());
    }
    return p;
  }

  private plane(projectId: string, stageId: string | null, z: number | null): void {
    const index = this.planeIndex.get(projectId)!;
    const key = `${stageId ?? ''}|${z ?? ''}`;
    const entry = index.get(key);
    if (entry) entry.changes++;
    else index.set(key, { stageId, z, changes: 1 });
  }

  add(notice: ChangeNotice): void {
    switch (notice.type) {
      case 'tiles': {
        const p = this.project(notice.projectId);
        p.tiles = true;
        if (notice.planes?.length) for (const z of new Set(notice.planes)) this.plane(notice.projectId, null, z);
        else this.plane(notice.projectId, null, null);
        return;
      }
      case 'states': {
        const p = this.project(notice.projectId);
        p.states = true;
        for (const s of notice.stageIds) p.stageIds.add(s);
        if (notice.planes?.length) {
          const seen = new Set<string>();
          for (const { stageId, z } of notice.planes) {
            const key = `${stageId}|${z}`;
            if (seen.has(key)) continue;
            seen.add(key);
            this.plane(notice.projectId, stageId, z);
          }
        } else {
          // Planes unknown (trimmed from a large notice): "some plane of these stages", the client refetches.
          for (const s of notice.stageIds) this.plane(notice.projectId, s, null);
        }
        return;
      }
      case 'topology': {
        const p = this.project(notice.projectId);
        p.topology = true;
        return;
      }
      case 'workers': {
        if (this.workers === 'all') return;
        if (!notice.workerId) {
          this.workers = 'all';
          return;
        }
        const set = this.workers ?? new Set<string>();
        set.add(notice.workerId);
        this.workers = set;
        return;
      }
    }
  }

  /** Marks a project as changed everywhere (after a lost connection, notices may have been missed). */
  touch(projectId: string): void {
    const p = this.project(projectId);
    p.states = p.tiles = p.topology = true;
    this.plane(projectId, null, null);
  }

  touchWorkers(): void {
    this.workers = 'all';
  }

  /** Returns the window's changes and starts a new window. */
  take(): WindowChanges {
    for (const [id, p] of this.projects) {
      p.planes = [...this.planeIndex.get(id)!.values()].sort(
        (a, b) => (a.stageId ?? '').localeCompare(b.stageId ?? '') || (a.z ?? -Infinity) - (b.z ?? -Infinity),
      );
    }
    const taken = { projects: this.projects, workers: this.workers };
    this.projects = new Map();
    this.planeIndex = new Map();
    this.workers = null;
    return taken;
  }
}

/** Parses a NOTIFY payload; null for anything that is not a change notice. */
export function parseNotice(payload: string | undefined): ChangeNotice | null {
  if (!payload) return null;
  try {
    const n = JSON.parse(payload) as ChangeNotice;
    if (typeof n !== 'object' || n === null) return null;
    switch (n.type) {
      case 'tiles':
      case 'topology':
        return typeof n.projectId === 'string' ? n : null;
      case 'states':
        return typeof n.projectId === 'string' && Array.isArray(n.stageIds) ? n : null;
      case 'workers':
        return n;
      default:
        return null;
    }
  } catch {
    return null;
  }
}
