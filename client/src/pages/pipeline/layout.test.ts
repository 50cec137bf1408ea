import { describe, expect, it } from 'vitest';
import { ROOT, layoutTree } from './layout';

const rowsOf = (placed: ReturnType<typeof layoutTree>['placed']) =>
  Object.fromEntries(placed.map((p) => [p.id, [p.depth, p.row]]));

describe('layoutTree', () => {
  it('puts depth in columns, leaves in consecutive rows and parents between their children', () => {
    // input → a → (b, c); input → d
    const { placed, rows, depth } = layoutTree([
      { id: 'a', parentId: null },
      { id: 'b', parentId: 'a' },
      { id: 'c', parentId: 'a' },
      { id: 'd', parentId: null },
    ]);
    expect(rowsOf(placed)).toEqual({ b: [2, 0], c: [2, 1], a: [1, 0.5], d: [1, 2], [ROOT]: [0, 1.25] });
    expect(rows).toBe(3);
    expect(depth).toBe(2);
    expect(placed.find((p) => p.id === 'b')!.parentId).toBe('a');
    expect(placed.find((p) => p.id === 'a')!.parentId).toBe(ROOT);
  });

  it('hangs orphans and cycles under the input instead of losing them', () => {
    const { placed } = layoutTree([
      { id: 'x', parentId: 'archived-stage' },
      { id: 'p', parentId: 'q' },
      { id: 'q', parentId: 'p' },
    ]);
    expect(placed.map((p) => p.id).sort()).toEqual([ROOT, 'p', 'q', 'x'].sort());
    expect(placed.find((p) => p.id === 'x')!.parentId).toBe(ROOT);
    // One of the pair is lifted to the root, the other stays its child.
    const parents = ['p', 'q'].map((id) => placed.find((n) => n.id === id)!.parentId);
    expect(parents).toContain(ROOT);
  });

  it('places a lone input', () => {
    expect(layoutTree([])).toEqual({ placed: [{ id: ROOT, depth: 0, row: 0, parentId: null }], rows: 1, depth: 0 });
  });
});
