/**
 * Tidy tree layout for the pipeline graph: depth gives the column, leaves take consecutive rows, and a parent sits
 * midway between its first and last child.
 */
export interface TreeNode {
  id: string;
  /** Null, or a parent that is not in the list: a child of the root. */
  parentId: string | null;
}

export interface Placed {
  id: string;
  depth: number;
  /** Row, possibly fractional (a parent centred on its children). */
  row: number;
  parentId: string | null;
}

export const ROOT = '__input__';

/** Places the root (depth 0) and every node under it; nodes in a cycle are placed under the root. */
export function layoutTree(nodes: readonly TreeNode[]): { placed: Placed[]; rows: number; depth: number } {
  const ids = new Set(nodes.map((n) => n.id));
  const children = new Map<string, string[]>();
  const parentOf = new Map<string, string>();
  for (const n of nodes) {
    const parent = n.parentId !== null && ids.has(n.parentId) && n.parentId !== n.id ? n.parentId : ROOT;
    parentOf.set(n.id, parent);
  }
  // Break cycles: a node whose ancestry never reaches the root hangs under the root.
  for (const n of nodes) {
    const seen = new Set<string>([n.id]);
    let p = parentOf.get(n.id)!;
    while (p !== ROOT) {
      if (seen.has(p)) {
        parentOf.set(n.id, ROOT);
        break;
      }
      seen.add(p);
      p = parentOf.get(p)!;
    }
  }
  for (const n of nodes) {
    const p = parentOf.get(n.id)!;
    const list = children.get(p) ?? [];
    list.push(n.id);
    children.set(p, list);
  }
  const placed: Placed[] = [];
  let nextRow = 0;
  let maxDepth = 0;
  const visit = (id: string, depth: number): number => {
    maxDepth = Math.max(maxDepth, depth);
    const kids = children.get(id) ?? [];
    let row: number;
    if (kids.length === 0) row = nextRow++;
    else {
      const rows = kids.map((k) => visit(k, depth + 1));
      row = (rows[0] + rows[rows.length - 1]) / 2;
    }
    placed.push({ id, depth, row, parentId: id === ROOT ? null : (parentOf.get(id) ?? ROOT) });
    return row;
  };
  visit(ROOT, 0);
  return { placed, rows: Math.max(1, nextRow), depth: maxDepth };
}
