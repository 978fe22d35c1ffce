/**
 * The tag table's state, without DOM: the rows received so far (top level, and children of
 * the rows expanded once), which rows are expanded, the filter's answer, and from those the
 * flat list of visible rows the view draws a window of.
 */
import type { TagRow } from '../protocol';

export class TagTree {
  private roots: TagRow[] = [];
  private readonly children = new Map<string, TagRow[]>();
  private readonly expanded = new Set<string>();
  /** A filter's rows (ancestors included), or undefined for the tree. */
  private filtered: TagRow[] | undefined;
  private flat: TagRow[] = [];

  setRoots(rows: TagRow[]): void {
    this.roots = rows;
    this.rebuild();
  }

  /** Children arrived for `id` (asked for when it was expanded). */
  setChildren(id: string, rows: TagRow[]): void {
    this.children.set(id, rows);
    if (this.expanded.has(id)) this.rebuild();
  }

  /** Rows rewritten by the extension, matched by id wherever they are held. */
  replaceRows(rows: TagRow[]): void {
    const byId = new Map(rows.map((row) => [row.id, row]));
    const swap = (list: TagRow[]): TagRow[] =>
      list.map((row) => {
        const replacement = byId.get(row.id);
        return replacement ? { ...replacement, depth: row.depth, match: row.match } : row;
      });
    this.roots = swap(this.roots);
    for (const [id, list] of this.children) this.children.set(id, swap(list));
    if (this.filtered) this.filtered = swap(this.filtered);
    this.rebuild();
  }

  hasChildren(id: string): boolean {
    return this.children.has(id);
  }

  isExpanded(id: string): boolean {
    return this.filtered === undefined && this.expanded.has(id);
  }

  /** Expands or collapses; returns true when the children must be asked for. */
  toggle(id: string, open?: boolean): boolean {
    const opening = open ?? !this.expanded.has(id);
    if (opening) this.expanded.add(id);
    else this.expanded.delete(id);
    this.rebuild();
    return opening && !this.children.has(id);
  }

  setFiltered(rows: TagRow[] | undefined): void {
    this.filtered = rows;
    this.rebuild();
  }

  get isFiltered(): boolean {
    return this.filtered !== undefined;
  }

  /** The rows to draw, in order. */
  get visible(): readonly TagRow[] {
    return this.flat;
  }

  private rebuild(): void {
    if (this.filtered) {
      this.flat = this.filtered;
      return;
    }
    const out: TagRow[] = [];
    // Iterative depth-first walk: a deep file must not overflow the page's stack.
    const stack: TagRow[] = [...this.roots].reverse();
    while (stack.length > 0) {
      const row = stack.pop()!;
      out.push(row);
      if (!this.expanded.has(row.id)) continue;
      const below = this.children.get(row.id);
      if (below) for (let i = below.length - 1; i >= 0; i--) stack.push(below[i]!);
    }
    this.flat = out;
  }
}
