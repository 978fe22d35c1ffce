import * as vscode from 'vscode';
import type { DicomEditorProvider } from '../editor/DicomEditorProvider';
import type { CopyWhat } from '../../webview/protocol';
import type { CommandHandler } from './registerCommand';

/** What a tag row's `data-vscode-context` carries into its context menu's commands. */
interface TagRowContext {
  webviewSection: 'tagRow';
  rowId: string;
}

const COPIED: Record<CopyWhat, string> = {
  value: 'value',
  tagPath: 'tag path',
  keywordPath: 'keyword path',
};

/**
 * `dicomweb.dicomFile.copyValue` / `.copyTagPath` / `.copyKeywordPath`: from the DICOM
 * editor's row context menu (webview/context), on the active editor's row.
 */
export async function copyTagRow(
  editor: DicomEditorProvider,
  context: unknown,
  what: CopyWhat,
): Promise<void> {
  const rowId = (context as Partial<TagRowContext> | undefined)?.rowId;
  if (typeof rowId !== 'string') return;
  const text = await editor.copyFromActive(rowId, what);
  if (text !== undefined) vscode.window.setStatusBarMessage(`Copied the ${COPIED[what]}`, 3000);
}

/** The DICOM editor's row commands; its row context menu passes the row's data-vscode-context. */
export function tagRowCommands(editor: DicomEditorProvider): Record<string, CommandHandler> {
  return {
    'dicomweb.dicomFile.copyValue': (row) => copyTagRow(editor, row, 'value'),
    'dicomweb.dicomFile.copyTagPath': (row) => copyTagRow(editor, row, 'tagPath'),
    'dicomweb.dicomFile.copyKeywordPath': (row) => copyTagRow(editor, row, 'keywordPath'),
  };
}
