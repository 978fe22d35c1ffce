/**
 * The DICOM editor webview's entry: the tag table (tagTableView.ts) beside the preview's
 * frame viewer (webview/preview/viewer.ts). The extension posts the table first, then the
 * viewer's `init` when the file has an image; children and filters are asked for by message.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { PROTOCOL_VERSION, isToWebview } from '../protocol';
import { createViewer } from '../preview/viewer';
import { connectToExtension } from '../preview/vscodeApi';
import { TagTableView } from './tagTableView';

const post = connectToExtension();
const editor = document.getElementById('editor')!;
const table = new TagTableView(document.getElementById('tags')!, post);
const viewer = createViewer(document.getElementById('app')!, post);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isToWebview(message)) return;
  switch (message.type) {
    case 'tagTable':
      editor.classList.toggle('no-image', !message.hasImage);
      table.show(message);
      return;
    case 'tagTableUpdate':
      table.update(message.rows, message.problems);
      return;
    case 'tagChildren':
      table.children(message.id, message.rows);
      return;
    case 'tagFilterResult':
      table.filtered(message.requestId, message.rows, message.matches, message.truncated);
      return;
    default:
      viewer(message);
  }
});

post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
