/**
 * The tag table on the page: a filter box and copy buttons, the file's problems first, a
 * header, and a virtual list (only the rows in view are in the DOM, each ROW_HEIGHT high),
 * so a table of 10,000+ rows scrolls as fast as one of ten. Rows carry
 * `data-vscode-context`, so VS Code's own context menu (package.json, webview/context)
 * offers Copy Value, Copy Tag Path and Copy Keyword Path on them.
 */
import type { CopyWhat, TagRow, TagTableMessage } from '../protocol';
import { element, type ValueElement } from '../preview/view';
import type { Post } from '../preview/vscodeApi';
import { TagTree } from './tagTree';

/** Height of one row in pixels (media/editor.css sets the same). */
export const ROW_HEIGHT = 22;
/** Rows drawn above and below the ones in view, so a scroll shows no gap. */
const OVERSCAN = 20;
/** Quiet time after the last key before a filter is asked for. */
const FILTER_DELAY_MS = 150;

const COLUMNS = ['Tag', 'Keyword', 'VR', 'VM', 'Length', 'Value'] as const;

function button(text: string, title: string, onClick: () => void): HTMLElement {
  const node = document.createElement('vscode-button');
  node.textContent = text;
  node.title = title;
  node.setAttribute('secondary', '');
  node.addEventListener('click', onClick);
  return node;
}

export class TagTableView {
  readonly tree = new TagTree();
  private readonly filterField = document.createElement('vscode-textfield') as ValueElement;
  private readonly summary = element('div', 'summary');
  private readonly problems = element('div', 'problems');
  private readonly status = element('span', 'filter-status');
  private readonly viewport = element('div', 'rows');
  private readonly spacer = element('div', 'spacer');
  private readonly layer = element('div', 'layer');
  private selected: string | undefined;
  private requestId = 0;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFilterId = 0;
  private shownReported = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly post: Post,
  ) {
    this.assemble();
    this.viewport.addEventListener('scroll', () => this.draw());
    new ResizeObserver(() => this.draw()).observe(this.viewport);
    this.viewport.addEventListener('click', (event) => this.onClick(event));
    this.viewport.addEventListener('dblclick', (event) => this.onDoubleClick(event));
    this.viewport.addEventListener('contextmenu', (event) => this.select(rowIdOf(event)));
    this.viewport.addEventListener('keydown', (event) => this.onKey(event));
    this.filterField.addEventListener('input', () => this.scheduleFilter());
  }

  private assemble(): void {
    this.filterField.setAttribute('placeholder', 'Filter by keyword, tag or value');
    this.filterField.setAttribute('aria-label', 'Filter tags');
    this.filterField.className = 'filter';
    const toolbar = element('div', 'table-toolbar');
    toolbar.append(
      this.filterField,
      this.status,
      button('Copy Value', 'Copy the selected row’s value', () => this.copy('value')),
      button('Copy Tag Path', 'Copy the selected row’s tag path', () => this.copy('tagPath')),
      button('Copy Keyword Path', 'Copy the selected row’s keyword path', () =>
        this.copy('keywordPath'),
      ),
    );
    const header = element('div', 'tag-row header');
    for (const name of COLUMNS) header.append(element('span', `cell ${cellClass(name)}`, name));
    this.problems.setAttribute('role', 'alert');
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute('role', 'tree');
    this.viewport.setAttribute('aria-label', 'Tags');
    this.spacer.append(this.layer);
    this.viewport.append(this.spacer);
    this.root.replaceChildren(toolbar, this.summary, this.problems, header, this.viewport);
  }

  /** The table's first message: summary, problems, top-level rows. */
  show(message: TagTableMessage): void {
    this.summary.textContent = message.summary;
    this.showProblems(message.problems);
    this.tree.setRoots(message.rows);
    this.draw();
    if (!this.shownReported) {
      this.shownReported = true;
      requestAnimationFrame(() => this.post({ type: 'tagTableShown', rows: message.rows.length }));
    }
  }

  /** Rows rewritten after the first message, and the problems as they now stand. */
  update(rows: TagRow[], problems: string[]): void {
    this.showProblems(problems);
    this.tree.replaceRows(rows);
    this.draw();
  }

  private showProblems(problems: string[]): void {
    this.problems.replaceChildren(...problems.map((p) => element('div', 'problem', p)));
    this.problems.hidden = problems.length === 0;
  }

  children(id: string, rows: TagRow[]): void {
    this.tree.setChildren(id, rows);
    this.draw();
  }

  filtered(requestId: number, rows: TagRow[], matches: number, truncated: boolean): void {
    if (requestId !== this.lastFilterId) return;
    const query = this.filterField.value.trim();
    this.tree.setFiltered(query ? rows : undefined);
    this.status.textContent = query
      ? `${matches.toLocaleString('en-US')} match${matches === 1 ? '' : 'es'}${truncated ? ' (first ones shown)' : ''}`
      : '';
    this.viewport.scrollTop = 0;
    this.draw();
  }

  private scheduleFilter(): void {
    clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => {
      const query = this.filterField.value.trim();
      this.lastFilterId = ++this.requestId;
      if (!query) {
        this.filtered(this.lastFilterId, [], 0, false);
        return;
      }
      this.post({ type: 'filterTags', requestId: this.lastFilterId, query });
    }, FILTER_DELAY_MS);
  }

  private toggle(id: string, open?: boolean): void {
    if (this.tree.isFiltered) return;
    const row = this.tree.visible.find((r) => r.id === id);
    if (!row || row.childCount === 0) return;
    if (this.tree.toggle(id, open)) {
      this.post({ type: 'requestTagChildren', requestId: ++this.requestId, id });
    }
    this.draw();
  }

  private select(id: string | undefined): void {
    if (id === undefined) return;
    this.selected = id;
    this.draw();
  }

  private copy(what: CopyWhat): void {
    if (this.selected !== undefined) this.post({ type: 'copyTag', id: this.selected, what });
  }

  private onClick(event: MouseEvent): void {
    const id = rowIdOf(event);
    if (id === undefined) return;
    this.select(id);
    if ((event.target as HTMLElement).classList.contains('twisty')) this.toggle(id);
  }

  private onDoubleClick(event: MouseEvent): void {
    const id = rowIdOf(event);
    if (id !== undefined) this.toggle(id);
  }

  private onKey(event: KeyboardEvent): void {
    const rows = this.tree.visible;
    const index = rows.findIndex((row) => row.id === this.selected);
    const move = (to: number): void => {
      const row = rows[Math.max(0, Math.min(rows.length - 1, to))];
      if (row) this.select(row.id);
      this.scrollIntoView(Math.max(0, Math.min(rows.length - 1, to)));
    };
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'ArrowRight' && this.selected) this.toggle(this.selected, true);
    else if (event.key === 'ArrowLeft' && this.selected) this.toggle(this.selected, false);
    else if (event.key === 'Enter' && this.selected) this.toggle(this.selected);
    else if (event.key === 'c' && (event.ctrlKey || event.metaKey)) this.copy('value');
    else return;
    event.preventDefault();
  }

  private scrollIntoView(index: number): void {
    const top = index * ROW_HEIGHT;
    const view = this.viewport;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (top + ROW_HEIGHT > view.scrollTop + view.clientHeight)
      view.scrollTop = top + ROW_HEIGHT - view.clientHeight;
  }

  /** Draws the rows in view (and OVERSCAN around them), nothing else. */
  private draw(): void {
    const rows = this.tree.visible;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil(this.viewport.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const nodes: HTMLElement[] = [];
    for (let index = first; index < Math.min(rows.length, first + count); index++) {
      nodes.push(this.rowElement(rows[index]!, index));
    }
    this.layer.replaceChildren(...nodes);
  }

  private rowElement(row: TagRow, index: number): HTMLElement {
    const node = element('div', `tag-row kind-${row.kind}`);
    node.style.top = `${index * ROW_HEIGHT}px`;
    node.dataset.id = row.id;
    node.setAttribute('role', 'treeitem');
    node.setAttribute('aria-level', String(row.depth + 1));
    // VS Code's context menu for webviews: these keys reach the menu's commands.
    node.dataset.vscodeContext = JSON.stringify({
      webviewSection: 'tagRow',
      rowId: row.id,
      preventDefaultContextMenuItems: true,
    });
    if (row.id === this.selected) node.classList.add('selected');
    if (row.match === false) node.classList.add('ancestor');
    if (row.name.startsWith('[') || row.name.startsWith('Private')) node.classList.add('private');
    const expanded = this.tree.isExpanded(row.id);
    if (row.childCount > 0) node.setAttribute('aria-expanded', String(expanded));
    const tagCell = element('span', 'cell tag');
    tagCell.style.paddingLeft = `${4 + row.depth * 14}px`;
    const canToggle = row.childCount > 0 && !this.tree.isFiltered;
    tagCell.append(element('span', 'twisty', canToggle ? (expanded ? '▾' : '▸') : ''), row.tag);
    const value = element('span', 'cell value', row.value);
    value.title = row.value;
    node.append(
      tagCell,
      element('span', 'cell keyword', row.name),
      element('span', 'cell vr', row.vr),
      element('span', 'cell vm', row.vm),
      element('span', 'cell length', row.length),
      value,
    );
    return node;
  }
}

function cellClass(column: (typeof COLUMNS)[number]): string {
  return column === 'Keyword' ? 'keyword' : column.toLowerCase();
}

function rowIdOf(event: Event): string | undefined {
  const row = (event.target as HTMLElement | null)?.closest<HTMLElement>('.tag-row[data-id]');
  return row?.dataset.id;
}
