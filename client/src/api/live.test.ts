import { describe, expect, it } from 'vitest';
import type { StatusCounts } from '@tileflow/shared';
import {
  completionRate,
  eventTouchesPlane,
  initialLiveState,
  liveReducer,
  planeRevision,
  type LiveAction,
  type LiveState,
} from './live';

const c = (over: Partial<StatusCounts> = {}): StatusCounts => ({
  incomplete: 0,
  waiting: 0,
  queued: 0,
  processing: 0,
  complete: 0,
  failed: 0,
  canceled: 0,
  ...over,
});

const run = (actions: LiveAction[], from: LiveState = initialLiveState) => actions.reduce(liveReducer, from);

describe('liveReducer: stageCounts', () => {
  it("replaces a project's counts in place and leaves other projects alone", () => {
    const s1 = run([
      {
        type: 'stageCounts',
        at: 1000,
        event: { projectId: 'p', tiles: 10, stages: [{ stageId: 'a', counts: c({ incomplete: 10 }) }] },
      },
      {
        type: 'stageCounts',
        at: 1000,
        event: { projectId: 'q', tiles: 4, stages: [{ stageId: 'x', counts: c({ complete: 4 }) }] },
      },
    ]);
    const s2 = liveReducer(s1, {
      type: 'stageCounts',
      at: 2000,
      event: {
        projectId: 'p',
        tiles: 12,
        stages: [
          { stageId: 'a', counts: c({ complete: 7, processing: 2, incomplete: 3 }) },
          { stageId: 'b', counts: c({ incomplete: 12 }) },
        ],
      },
    });
    expect(s2.projects.p.tiles).toBe(12);
    expect(s2.projects.p.counts).toEqual({
      a: c({ complete: 7, processing: 2, incomplete: 3 }),
      b: c({ incomplete: 12 }),
    });
    // Untouched project: same object (components selecting it do not re-render).
    expect(s2.projects.q).toBe(s1.projects.q);
    // The previous state is not mutated.
    expect(s1.projects.p.counts.a.complete).toBe(0);
  });

  it('drops stages that the newest event no longer lists (a removed stage)', () => {
    const s = run([
      {
        type: 'stageCounts',
        at: 1,
        event: {
          projectId: 'p',
          tiles: 1,
          stages: [
            { stageId: 'a', counts: c() },
            { stageId: 'b', counts: c() },
          ],
        },
      },
      { type: 'stageCounts', at: 2, event: { projectId: 'p', tiles: 1, stages: [{ stageId: 'a', counts: c() }] } },
    ]);
    expect(Object.keys(s.projects.p.counts)).toEqual(['a']);
  });

  it('keeps progress samples within the window for the completion rate', () => {
    const ev = (at: number, complete: number): LiveAction => ({
      type: 'stageCounts',
      at,
      event: {
        projectId: 'p',
        tiles: 100,
        stages: [
          { stageId: 'a', counts: c({ complete }) },
          { stageId: 'b', counts: c({ complete: complete / 2 }) },
        ],
      },
    });
    const s = run([ev(0, 0), ev(400_000, 20), ev(430_000, 40), ev(460_000, 60)]);
    // The sample at 0 is older than five minutes before the last one.
    expect(s.projects.p.samples.map((x) => x.at)).toEqual([400_000, 430_000, 460_000]);
    expect(s.projects.p.samples.map((x) => x.complete)).toEqual([30, 60, 90]);
    // 60 more completions over 60 s: 60 per minute.
    expect(completionRate(s.projects.p.samples, 460_000, 120_000)).toBeCloseTo(60);
    // Too short a span says nothing.
    expect(completionRate(s.projects.p.samples.slice(-1), 460_000)).toBeNull();
  });
});

describe('liveReducer: planesChanged', () => {
  const planes = (projectId: string, list: Array<[string | null, number | null]>): LiveAction => ({
    type: 'planesChanged',
    event: { projectId, planes: list.map(([stageId, z]) => ({ stageId, z, changes: 1 })) },
  });

  it('moves the revision of the listed planes only, once per event', () => {
    const s = run([
      planes('p', [
        ['a', 3],
        ['b', 3],
        ['a', 4],
      ]),
      planes('p', [['a', 3]]),
    ]);
    expect(planeRevision(s.projects.p, 3)).toBe(2);
    expect(planeRevision(s.projects.p, 4)).toBe(1);
    expect(planeRevision(s.projects.p, 5)).toBe(0);
    expect(planeRevision(s.projects.other, 3)).toBe(0);
    expect(s.projects.p.stageRevisions).toEqual({ a: 2, b: 1 });
  });

  it('treats a change without a plane as touching every plane', () => {
    const s = run([planes('p', [['a', 3]]), planes('p', [['a', null]])]);
    expect(planeRevision(s.projects.p, 3)).toBe(2);
    expect(planeRevision(s.projects.p, 99)).toBe(1);
  });

  it('counts input changes (no stage) separately, for the list of planes', () => {
    const s = run([planes('p', [[null, 7]]), planes('p', [['a', 7]])]);
    expect(s.projects.p.inputRevision).toBe(1);
    expect(planeRevision(s.projects.p, 7)).toBe(2);
    expect(s.projects.p.stageRevisions).toEqual({ a: 1 });
  });

  it('ignores an empty event (same state object)', () => {
    const s = run([planes('p', [['a', 1]])]);
    expect(liveReducer(s, planes('p', []))).toBe(s);
  });

  it('eventTouchesPlane: listed plane or unknown plane', () => {
    const e = { projectId: 'p', planes: [{ stageId: 'a', z: 2, changes: 5 }] };
    expect(eventTouchesPlane(e, 2)).toBe(true);
    expect(eventTouchesPlane(e, 3)).toBe(false);
    expect(eventTouchesPlane({ projectId: 'p', planes: [{ stageId: 'a', z: null, changes: 1 }] }, 3)).toBe(true);
  });
});

describe('liveReducer: executions, connection, reset', () => {
  it('keeps recent executions per project, newest last, and resets', () => {
    const at = new Date(0).toISOString();
    const s = run([
      {
        type: 'executions',
        event: [
          { executionId: 'e1', projectId: 'p', stageId: 'a', tileId: '1', status: 'succeeded', at },
          { executionId: 'e2', projectId: 'q', stageId: 'x', tileId: '2', status: 'failed', at },
          { executionId: 'e3', projectId: 'p', stageId: 'a', tileId: '3', status: 'failed', at },
        ],
      },
      { type: 'connection', connected: true },
    ]);
    expect(s.projects.p.executions.map((e) => e.executionId)).toEqual(['e1', 'e3']);
    expect(s.projects.q.executions.map((e) => e.executionId)).toEqual(['e2']);
    expect(s.connected).toBe(true);
    expect(liveReducer(s, { type: 'connection', connected: true })).toBe(s);
    expect(liveReducer(s, { type: 'reset' })).toEqual(initialLiveState);
  });
});
