/**
 * Tag keys of DICOM JSON (`"0020000D"`) explained where they are read: a hover with the
 * keyword, VR, VM and name (PS3.6), and the keyword shown inline as an inlay hint.
 */
import * as vscode from 'vscode';
import { describeTag, formatTag, lookupTag } from '../dicom/dictionary';
import { FILE_JSON_SCHEME } from './fileJsonDocuments';
import { METADATA_SCHEME } from './metadataDocuments';

const TAG_KEY = /"([0-9A-Fa-f]{8})"(?=\s*:)/g;

/** Metadata documents of this extension, and DICOM JSON files a developer keeps in a workspace. */
export const TAG_DOCUMENTS: vscode.DocumentSelector = [
  { scheme: METADATA_SCHEME },
  { scheme: FILE_JSON_SCHEME },
  { language: 'json', pattern: '**/*.dcm.json' },
  { language: 'json', pattern: '**/*.dicom.json' },
];

export class TagHoverProvider implements vscode.HoverProvider {
  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const range = document.getWordRangeAtPosition(position, /"[0-9A-Fa-f]{8}"/);
    if (!range) return undefined;
    const tag = document.getText(range).slice(1, -1).toUpperCase();
    const info = lookupTag(tag);
    const markdown = new vscode.MarkdownString();
    if (info) {
      markdown.appendMarkdown(`**${info.keyword}** ${formatTag(tag)}\n\n`);
      markdown.appendMarkdown(
        `${info.name}  \nVR \`${info.vr}\` · VM \`${info.vm}\`${info.retired ? ' · retired' : ''}`,
      );
    } else {
      markdown.appendMarkdown(`**${describeTag(tag)}**`);
    }
    return new vscode.Hover(markdown, range);
  }
}

export class TagInlayHintsProvider implements vscode.InlayHintsProvider, vscode.Disposable {
  private readonly changedEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeInlayHints = this.changedEmitter.event;
  private readonly subscription = vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration('dicomweb.metadata.showTagKeywords')) this.changedEmitter.fire();
  });

  provideInlayHints(document: vscode.TextDocument, range: vscode.Range): vscode.InlayHint[] {
    if (
      !vscode.workspace.getConfiguration('dicomweb').get<boolean>('metadata.showTagKeywords', true)
    )
      return [];
    const hints: vscode.InlayHint[] = [];
    // Only the visible range is asked for, so large study metadata stays cheap.
    for (let line = range.start.line; line <= range.end.line && line < document.lineCount; line++) {
      const text = document.lineAt(line).text;
      for (const match of text.matchAll(TAG_KEY)) {
        const info = lookupTag(match[1].toUpperCase());
        const label =
          info?.keyword ??
          (Number.parseInt(match[1].slice(0, 4), 16) % 2 === 1 ? 'private' : undefined);
        if (!label) continue;
        const hint = new vscode.InlayHint(
          new vscode.Position(line, (match.index ?? 0) + match[0].length),
          label,
          vscode.InlayHintKind.Type,
        );
        hint.paddingLeft = true;
        hint.tooltip = info ? `${info.name} (${info.vr})` : describeTag(match[1]);
        hints.push(hint);
      }
    }
    return hints;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changedEmitter.dispose();
  }
}
