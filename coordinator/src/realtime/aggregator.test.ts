import { describe, expect, it } from 'vitest';
import { NoticeAggregator, parseNotice } from './aggregator.js';

const P = '00000000-0000-4000-8000-00000000000a';
const S = '00000000-0000-4000-8000-00000000000b';

describe('NoticeAggregator', () => {
  it('folds many state notices into one summary with per-plane change counts', () => {
    const a = new NoticeAggregator();
    for (let i = 0; i < 1000; i++) {
      a.add({ type: 'states', projectId: P, stageIds: [S], planes: [{ stageId: S, z: i % 3 }] });
    }
    a.add({ type: 'tiles', projectId: P, changed: 5, planes: [7, 7, null] });
    const w = a.take();
    expect([...w.projects.keys()]).toEqual([P]);
    const p = w.projects.get(P)!;
    expect(p.states && p.tiles && !p.topology).toBe(true);
    expect([...p.stageIds]).toEqual([S]);
    expect(p.planes).toEqual([
      { stageId: null, z: null, changes: 1 },
      { stageId: null, z: 7, changes: 1 },
      { stageId: S, z: 0, changes: 334 },
      { stageId: S, z: 1, changes: 333 },
      { stageId: S, z: 2, changes: 333 },
    ]);
    expect(a.pending).toBe(false);
    expect(a.take().projects.size).toBe(0);
  });

  it('marks unknown planes when a notice was trimmed', () => {
    const a = new NoticeAggregator();
    a.add({ type: 'states', projectId: P, stageIds: [S] });
    expect(a.take().projects.get(P)!.planes).toEqual([{ stageId: S, z: null, changes: 1 }]);
  });

  it('collects workers, widening to all when a notice names none', () => {
    const a = new NoticeAggregator();
    a.add({ type: 'workers', workerId: 'w1' });
    a.add({ type: 'workers', workerId: 'w2' });
    expect(a.take().workers).toEqual(new Set(['w1', 'w2']));
    a.add({ type: 'workers', workerId: 'w1' });
    a.add({ type: 'workers' });
    expect(a.take().workers).toBe('all');
    expect(a.take().workers).toBeNull();
  });

  it('parses only well-formed notices', () => {
    expect(parseNotice(JSON.stringify({ type: 'topology', projectId: P }))).toEqual({ type: 'topology', projectId: P });
    expect(parseNotice('{')).toBeNull();
    expect(parseNotice(JSON.stringify({ type: 'states', projectId: P }))).toBeNull();
    expect(parseNotice(JSON.stringify({ type: 'other' }))).toBeNull();
    expect(parseNotice(undefined)).toBeNull();
  });
});
