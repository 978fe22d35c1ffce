import type * as vscode from 'vscode';
import type { DicomWebNode } from './nodes/DicomWebNode';

/** How long a reveal's selection may take to reach the extension host before a retry. */
const SELECTION_WAIT_MS = 1_500;

/**
 * Shows `node` in the tree and selects it, one level at a time.
 *
 * `TreeView.reveal` hands VS Code the whole parent chain at once; the workbench then expands
 * each parent in turn and ignores any error while doing so ("the extension could have changed
 * the tree during the reveal"). When the levels between the drawn rows and the node were never
 * drawn (a study row never expanded, its series fetched only by "Find by UID"), that single
 * reveal sometimes selected nothing and said nothing: in the extension-host suite, once per
 * run, the first Show of a notebook row right after its connection was added. Revealing each
 * ancestor first, with its children drawn before the next one is asked, leaves the last reveal
 * only rows the workbench already has. If the selection still does not arrive, one more reveal,
 * logged, so that a run that needed it says so.
 */
export async function revealAndSelect(
  treeView: vscode.TreeView<DicomWebNode>,
  node: DicomWebNode,
  log: vscode.LogOutputChannel,
  options: { focus?: boolean; expand?: boolean } = {},
): Promise<boolean> {
  for (const ancestor of ancestorsOf(node))
    await treeView.reveal(ancestor, { expand: true, select: false, focus: false });
  const reveal = () =>
    treeView.reveal(node, { select: true, focus: options.focus ?? true, expand: options.expand });
  if (await selectedAfter(treeView, node, reveal)) return true;
  log.warn(`Tree: the reveal of ${node.id} selected nothing in ${SELECTION_WAIT_MS} ms; again.`);
  return selectedAfter(treeView, node, reveal);
}

/** The node's ancestors, the root's child first. */
function ancestorsOf(node: DicomWebNode): DicomWebNode[] {
  const chain: DicomWebNode[] = [];
  for (let parent = node.parent; parent; parent = parent.parent) chain.unshift(parent);
  return chain;
}

/** Runs `reveal`, then waits (up to SELECTION_WAIT_MS) for the tree to report `node` selected. */
async function selectedAfter(
  treeView: vscode.TreeView<DicomWebNode>,
  node: DicomWebNode,
  reveal: () => Thenable<void>,
): Promise<boolean> {
  const isSelected = () => treeView.selection.some((selected) => selected.id === node.id);
  let listener: vscode.Disposable | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arrived = new Promise<boolean>((resolve) => {
    listener = treeView.onDidChangeSelection(() => {
      if (isSelected()) resolve(true);
    });
    timer = setTimeout(() => resolve(isSelected()), SELECTION_WAIT_MS);
  });
  try {
    await reveal();
    if (isSelected()) return true;
    return await arrived;
  } finally {
    listener?.dispose();
    clearTimeout(timer);
  }
}
